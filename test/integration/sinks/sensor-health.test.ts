/**
 * Issue 20, "drops are never silent", end to end on the real services (Kafka for the windows, InfluxDB for health):
 * `SensorService` reading a live-like source whose libpcap drop counters the test scripts (test/support/
 * scripted-live-source.ts: real frames at a steady rate, N frames counted as dropped per tick):
 *  - writes `ww_health` points (component sensor) to InfluxDB on wall time, with `packets_dropped` taken from the
 *    source's counters (the last point = the final counters) and `capture_loss` over each interval;
 *  - answers `/healthz` 503 with the reason while the recent loss is above `capture_loss.degraded_fraction`, and 200
 *    again once the loss stopped for `capture_loss.window_s`;
 *  - stamps every feature window with the loss seen while it was open, and the windows keep it through Kafka.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { parseConfig } from '../../../src/config/load.js';
import { MetricsRegistry, startMetricsServer, type HealthReport } from '../../../src/metrics.js';
import { MEASUREMENT } from '../../../src/sinks/influx/points.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { readWindowRange } from '../../../src/transport/kafka/range.js';
import { topicNames } from '../../../src/transport/kafka/topics.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { ScriptedLiveSource } from '../../support/scripted-live-source.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wardwatch sensor: ww_health in InfluxDB, /healthz degraded on capture loss, capture_loss on windows (real Kafka and InfluxDB)', function () {
  this.timeout(180_000);
  let brokers: string[];
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, url] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-sensor-health-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('drops from the source reach ww_health, /healthz and the windows; recovery is seen too', async () => {
    const database = freshName('ww_sensor_health');
    const sensorId = freshName('drops');
    const config = parseConfig(
      {
        sensor: { id: sensorId },
        features: { window_ms: 1000 },
        capture_loss: { degraded_fraction: 0.01, window_s: 2 },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-drops')}.`, partitions: 1 }, producer: { spool_dir: path.join(dir, 'spool') } } },
        sinks: { influx: { url, database, retention_policy: '', flush_interval_ms: 100 } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    // 5,000 frames/s of a real capture; while dropping, 10 more per 100 handed over were lost (9.1 %).
    const source = await ScriptedLiveSource.fromFile(path.join(repo, 'captures', 'golden', 'hl7-monitor.pcap'), 100, 20);
    source.drops_per_tick = 10;
    const windows: FeatureWindow[] = [];
    const sensor = new SensorService(config, { source, intervals: { health_ms: 1000, loss_sample_ms: 200, inventory_ms: 1000 } }, '', { onWindow: (w) => windows.push(w) });
    const registry = new MetricsRegistry();
    registry.register('sensor', () => sensor.metrics());
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, () => sensor.healthReport());
    const healthz = async (): Promise<{ status: number; body: HealthReport }> => {
      const res = await fetch(`${server.url}/healthz`);
      return { status: res.status, body: (await res.json()) as HealthReport };
    };
    const influx = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    const done = sensor.run();
    try {
      await sleep(3000);
      const degraded = await healthz();
      assert.equal(degraded.status, 503, JSON.stringify(degraded.body));
      assert.equal(degraded.body.ok, false);
      assert.match(degraded.body.checks['capture'] ?? '', /^capture lost 9\.\d\d % of its packets in the last 2(\.\d)? s .*above capture_loss\.degraded_fraction \(1\.00 %\): .*raise capture\.buffer_size_bytes/);
      const detail = degraded.body.details?.['capture_loss'] as { fraction: number; limit: number };
      assert.ok(Math.abs(detail.fraction - 10 / 110) < 0.01, JSON.stringify(detail));
      assert.equal(detail.limit, 0.01);
      assert.match(await registry.metrics(), /^wardwatch_sensor_capture_degraded 1$/m);

      // The drops stop: after capture_loss.window_s (2 s) of clean capture, /healthz is ok again.
      source.drops_per_tick = 0;
      const droppedWhileLossy = source.stats().pcap_dropped;
      await sleep(3000);
      const recovered = await healthz();
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      assert.deepEqual(recovered.body.checks, { sensor: 'ok', capture: 'ok' });
      await sensor.stop();
      await done;
      const final = source.stats();
      assert.ok(final.pcap_dropped >= droppedWhileLossy && final.pcap_dropped <= droppedWhileLossy + 10);

      // ww_health: one point a second (health_ms 1000) plus the final one, packets_dropped from the source.
      const points = await influx.query<{ time: Date; packets_dropped: number; packets_per_s: number; capture_loss: number; kafka_lag: number; pcap_dropped: number; component: string }>(
        `SELECT packets_dropped, packets_per_s, capture_loss, kafka_lag, pcap_dropped, component FROM ${MEASUREMENT.health} WHERE sensor = '${sensorId}' ORDER BY time`,
      );
      assert.ok(points.length >= 5, `${points.length} health points`);
      assert.ok(points.every((p) => p.component === 'sensor'));
      const dropped = points.map((p) => p.packets_dropped);
      assert.deepEqual(dropped, [...dropped].sort((a, b) => a - b), 'packets_dropped is a counter');
      assert.equal(dropped.at(-1), final.pcap_dropped, 'the final point carries the final counters');
      assert.ok(points.every((p) => p.pcap_dropped === p.packets_dropped), 'pcap_ifdropped is 0 here');
      assert.ok(points.some((p) => p.capture_loss > 0.08 && p.capture_loss < 0.1), `capture_loss while dropping: ${points.map((p) => p.capture_loss).join(' ')}`);
      assert.equal(points.at(-2)!.capture_loss, 0, 'no loss after the drops stopped');
      assert.ok(points.slice(1, -1).every((p) => p.packets_per_s > 3000 && p.packets_per_s < 7000), `packets/s: ${points.map((p) => Math.round(p.packets_per_s)).join(' ')}`);
      assert.ok(points.every((p) => p.kafka_lag >= 0));

      // ww_inventory from a live sensor: every interval (here 1 s) and at the stop, each confirmed device once a time.
      const inventory = await influx.query<{ time: Date; device: string }>(`SELECT * FROM ${MEASUREMENT.inventory} WHERE sensor = '${sensorId}'`);
      const times = new Set(inventory.map((r) => r.time.getTime()));
      assert.ok(times.size >= 4, `${times.size} inventory writes`);
      assert.equal(sensor.inventoryWrites, times.size);
      const perTime = [...times].map((t) => inventory.filter((r) => r.time.getTime() === t).length);
      assert.ok(perTime.every((n) => n === perTime.at(-1) && n > 0), perTime.join(' '));

      // Windows: those closed while dropping carry ~9.1 % loss, those after the drops stopped 0; and so on the topic.
      assert.ok(windows.length > 0 && windows.every((w) => typeof w.capture_loss === 'number'), JSON.stringify(windows.slice(0, 3)));
      const losses = [...new Set(windows.map((w) => `${w.window_start}:${w.capture_loss!.toFixed(3)}`))];
      assert.ok(windows.some((w) => Math.abs(w.capture_loss! - 10 / 110) < 0.02), losses.join(' '));
      assert.ok(windows.some((w) => w.capture_loss === 0), losses.join(' '));
      const k = config.transport.kafka!;
      const read = await readWindowRange(kafkaFromConfig(k), brokers, topicNames({ ...k.topics }).features, { from: -Infinity, to: Infinity });
      const sent = new Map(windows.map((w) => [`${w.device_id}@${w.window_start}`, w.capture_loss]));
      assert.equal(read.windows.length, windows.length);
      for (const w of read.windows) assert.equal(w.capture_loss, sent.get(`${w.device_id}@${w.window_start}`));
    } finally {
      await sensor.stop().catch(() => undefined);
      await server.close();
      await influx.dropDatabase(database).catch(() => undefined);
    }
  });

  it('InfluxDB unreachable: capture goes on, and stop() gives up on the health points within 5 s (counted)', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
      });
    });
    const config = parseConfig(
      {
        sensor: { id: freshName('noinflux') },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-noinflux')}.`, partitions: 1 }, producer: { spool_dir: path.join(dir, 'spool2') } } },
        sinks: { influx: { url: `http://127.0.0.1:${closed}`, database: 'never' } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const source = await ScriptedLiveSource.fromFile(path.join(repo, 'captures', 'golden', 'hl7-monitor.pcap'), 100, 20);
    const sensor = new SensorService(config, { source, intervals: { health_ms: 300, loss_sample_ms: 100 } });
    const done = sensor.run();
    await sleep(1500);
    assert.ok(sensor.packets > 3000, `${sensor.packets} packets: capture does not wait for InfluxDB`);
    const t0 = Date.now();
    await sensor.stop();
    await done;
    const took = Date.now() - t0;
    assert.ok(took < 7000, `stop took ${took} ms`);
    const m = sensor.metrics();
    assert.ok((m['health_points'] ?? 0) >= 4);
    assert.equal(m['health_points_dropped'], m['health_points'], JSON.stringify(m));
    assert.equal(m['health_influx_points_written'], 0);
  });
});
