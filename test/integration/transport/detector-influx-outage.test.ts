/**
 * Issue 21 item 3, a fault on the deployment path: influxd stopped for 15 s while a detector scores a capture that
 * keeps coming (sensor → Kafka → detector → its own influxd instance). The detector keeps its group membership (its
 * sink queue fills, the consumer waits while heartbeating), nothing is dropped, and once influxd is back every
 * alert and window point is written — the same point sets as `wardwatch run` on the same capture — within seconds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { runCapture } from '../../../src/cli/run.js';
import { parseConfig } from '../../../src/config/load.js';
import type { WardwatchConfig } from '../../../src/config/schema.js';
import { MEASUREMENT } from '../../../src/sinks/influx/points.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { DEFAULT_INFLUX, influxUrl, pauseInflux, resumeInflux, startInflux, stopInflux } from '../../../scripts/services/influxdb.js';
import { waitForGroupCommitted } from '../../support/consumed.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');
const OUTAGE_MS = 15_000;

describe('influxd stopped while a detector scores (real Kafka, own influxd instance)', function () {
  this.timeout(240_000);
  let brokers: string[];
  let url: string;
  let dir: string;
  const own = { ...DEFAULT_INFLUX, instance: 'influx-detector-outage', port: DEFAULT_INFLUX.port + 120, rpc_port: DEFAULT_INFLUX.rpc_port + 120 };
  before(async function () {
    this.timeout(300_000);
    [brokers, url] = await Promise.all([requireKafka(), requireInflux()]);
    await startInflux(own);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-influx-outage-'));
  });
  after(async () => {
    await stopInflux(own.instance);
    rmSync(dir, { recursive: true, force: true });
  });

  it('no window or alert lost, membership kept, all written within seconds of influxd coming back', async () => {
    const dbRun = freshName('ww_outage_run');
    const db = 'ww_outage';
    const prefix = `${freshName('ww-influx-outage')}.`;
    const group = freshName('ww-influx-outage-group');
    const kafka = { brokers, topics: { prefix, partitions: 2 }, producer: { spool_dir: '' }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    const cfg = (influxAt: string, database: string, name: string, withKafka: boolean): WardwatchConfig =>
      parseConfig(
        {
          sensor: { id: 'ward' },
          detect: { models_dir: path.join(repo, 'models') },
          sinks: { influx: { url: influxAt, database, retention_policy: '', flush_interval_ms: 200, timeout_ms: 2000 }, files: { alerts_file: path.join(dir, `${name}.jsonl`) } },
          service: { metrics_listen: '' },
          ...(withKafka ? { transport: { kind: 'kafka', kafka } } : {}),
        },
        'test',
        {},
      );
    const runDb = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database: dbRun });
    const ownDb = new InfluxDB({ host: own.host, port: own.port, database: db });
    try {
      await runCapture(capture, cfg(url, dbRun, 'run', false), { speed: 'max' }, 'run');
      const detector = new DetectorService(cfg(influxUrl(own), db, 'detector', true));
      await detector.start();
      const joinsBefore = (): number => detector.metrics()['consumer_group_joins'] ?? 0;
      // The 50-minute capture at 100× (30 s): influxd goes away a few seconds in, for 15 s, while windows keep coming.
      const sensor = new SensorService(cfg(url, dbRun, 'sensor', true), { file: capture, speed: 100 });
      const done = sensor.run();
      for (const deadline = Date.now() + 60_000; (detector.metrics()['windows_received'] ?? 0) < 300; ) {
        assert.ok(Date.now() < deadline, 'the detector scored nothing');
        await new Promise((r) => setTimeout(r, 50));
      }
      const joins = joinsBefore();
      await pauseInflux(own.instance);
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const during = detector.metrics();
      await resumeInflux(own);
      const back = Date.now();
      // The catch-up in two parts: until the first write after influxd's return (the writer's retry wait), then the
      // queued batches written (the drain: windows/s).
      const drain = { peak: 0, first: 0, empty: 0 };
      const tracer = setInterval(() => {
        const pending = detector.metrics()['sink_queue_pending_windows'] ?? 0;
        if (!drain.first && pending < drain.peak) drain.first = Date.now() - back;
        if (drain.first && !drain.empty && pending === 0) drain.empty = Date.now() - back;
        if (!drain.first) drain.peak = Math.max(drain.peak, pending);
      }, 50);
      await done;
      await sensor.stop(60_000);
      // Everything committed (so written: a batch is committed only once InfluxDB acknowledged it).
      await waitForGroupCommitted(kafkaFromConfig(cfg(url, dbRun, 'admin', true).transport.kafka!), group, `${prefix}features`, 'the detector did not catch up after influxd came back');
      const caughtUpMs = Date.now() - back;
      clearInterval(tracer);
      const after = detector.metrics();
      await detector.stop();
      assert.ok((during['influx_write_retries'] ?? 0) > 0, 'the outage was seen (writes retried)');
      assert.equal(after['consumer_group_joins'], joins, 'no rebalance: the member kept its membership through the outage');
      assert.equal(after['influx_points_dropped'] ?? 0, 0);
      // Caught up within seconds of influxd's return: the writer's retry wait until its first write, then the backlog of
      // the 15 s outage (~2,400 windows in ~450 small batches, written together: ~0.6–1 s, ~2,500–3,000 windows/s; one
      // after another before: ~2 s); the rest is the paced replay, still going (it ends ~30 s after its start).
      assert.ok(caughtUpMs < 25_000, `${caughtUpMs} ms from influxd back to everything written`);
      for (const m of [MEASUREMENT.alert, MEASUREMENT.window]) {
        const points = async (c: InfluxDB): Promise<string[]> => (await c.query<Record<string, unknown>>(`SELECT * FROM ${m}`)).map((r) => JSON.stringify({ ...r, time: String(r['time']) })).sort();
        const [a, b] = await Promise.all([points(runDb), points(ownDb)]);
        assert.ok(a.length > 0);
        assert.equal(b.length, a.length, `${m}: ${b.length} points after the outage, ${a.length} from run`);
        assert.deepEqual(b, a, m);
      }
      const drainMs = drain.empty - drain.first;
      process.stderr.write(
        `      influxd down ${OUTAGE_MS / 1000} s: caught up ${caughtUpMs} ms after it came back: first write after ${drain.first} ms (retry wait), then ${drain.peak} queued windows written in ${drainMs} ms (~${Math.round(drain.peak / Math.max(drainMs, 50) * 1000)} windows/s; ${after['sink_queue_writes']} sink writes for ${after['sink_queue_batches_written']} batches); write retries ${during['influx_write_retries']}\n`,
      );
    } finally {
      await runDb.dropDatabase(dbRun).catch(() => undefined);
    }
  });
});
