/**
 * Issue 21: a sensor whose start fails on a retriable error (no broker reachable yet) says so on /healthz — 503
 * 'starting: N failed attempt(s), retrying', as the detector does — and counts the attempts in /metrics
 * (`start_failures`); once the broker answers it starts, /healthz turns 200 and every window is delivered. Before,
 * its /healthz answered 200 `sensor: ok` all along while it produced nothing. Real broker (the shared one, reached
 * through a local port that answers only later); nothing is stopped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { REPO, sleep, until } from '../../support/distributed.js';
import { freshName, requireKafka } from '../../support/services.js';
import { freePort } from '../../support/veth.js';

describe('sensor /healthz while its start is retried (real broker)', function () {
  this.timeout(90_000);
  let brokers: string[];
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-sensor-start-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("503 'starting: N failed attempt(s), retrying' until the broker answers, then 200 and every window delivered", async () => {
    const port = await freePort();
    const [host, bport] = brokers[0]!.split(':');
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((c) => {
      const up = net.connect(Number(bport), host);
      sockets.add(c).add(up);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    const config = parseConfig(
      {
        sensor: { id: 'start-test' },
        transport: {
          kind: 'kafka',
          kafka: {
            brokers: [`127.0.0.1:${port}`],
            connection_timeout_ms: 1000,
            request_timeout_ms: 5000,
            retry: { retries: 1, initial_retry_time_ms: 100, max_retry_time_ms: 500 },
            topics: { prefix: `${freshName('ww-sensor-start')}.`, partitions: 2 },
            producer: { spool_dir: path.join(dir, 'spool') },
          },
        },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const sensor = new SensorService(config, { file: path.join(REPO, 'captures', 'golden', 'hl7-monitor.pcap') });
    let ended = false;
    const run = sensor.run().then(() => (ended = true));
    try {
      await until('a failed start attempt', 30_000, () => (sensor.metrics()['start_failures'] ?? 0) >= 1);
      const retrying = sensor.healthReport();
      assert.equal(retrying.ok, false, JSON.stringify(retrying));
      assert.match(retrying.checks['sensor'] ?? '', /^starting: [1-9]\d* failed attempt\(s\), retrying$/);
      assert.equal(ended, false);
      assert.equal(sensor.producer.stats().produced, 0);

      await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
      const waited = await until(() => `the sensor started: ${JSON.stringify(sensor.healthReport())}`, 30_000, () => sensor.healthReport().ok);
      assert.deepEqual(sensor.healthReport().checks, { sensor: 'ok', capture: 'ok' });
      await Promise.race([run, sleep(30_000)]);
      assert.ok(ended, 'the replay ended');
      await sensor.stop(30_000);
      const st = sensor.producer.stats();
      assert.ok(st.enqueued > 0, JSON.stringify(st));
      assert.equal(st.produced, st.enqueued, `every window delivered: ${JSON.stringify(st)}`);
      process.stderr.write(`      [faults] sensor start retried ${sensor.metrics()['start_failures']} time(s); healthy ${waited} ms after the broker answered\n`);
    } finally {
      await sensor.stop(5000);
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });
});
