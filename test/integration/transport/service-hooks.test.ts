/**
 * The sensor's and detector's optional hooks (the end-to-end latency benchmark's clock, bench/kafka-e2e.ts), on the
 * real broker and the real InfluxDB: a paced file replay closes windows at packet time ÷ speed on the wall clock;
 * every window the sensor closed is reported written once InfluxDB acknowledged its point; every alert reported
 * written is already in alerts.jsonl.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { SensorService } from '../../../src/compose/sensor.js';
import type { Alert } from '../../../src/records/alert.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'golden', 'scan.pcap'); // ~140 s of packet time

const readAlerts = (file: string): Alert[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert) : []);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('sensor and detector hooks: window closed at the replay pace → written to the sinks (real broker, real InfluxDB)', function () {
  this.timeout(180_000);
  let brokers: string[];
  let influx: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, influx] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-hooks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each window closed (paced) and written, and each alert written', async () => {
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const database = freshName('ww_hooks').replace(/-/g, '_');
    const config = parseConfig(
      {
        sensor: { id: 'hooks-test' },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-hooks')}.`, partitions: 2 }, producer: { spool_dir: '' }, consumer: { group_id: freshName('ww-hooks') } } },
        detect: { models_dir: path.join(dir, 'models-none') }, // no models: every device is new (a new_device alert each)
        sinks: { files: { alerts_file: alertsFile }, influx: { url: influx, database, retention_policy: '', flush_interval_ms: 50 } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const closed = new Map<string, { wall: number; end: number }>();
    const written = new Map<string, number>();
    const alertsWritten: Alert[] = [];
    let ackedAtWrite = true;
    const detector = new DetectorService(config, {
      onScoresWritten: (windows, scores) => {
        assert.equal(scores.length, windows.length);
        for (const w of windows) written.set(`${w.device_id}@${w.window_end}`, (written.get(`${w.device_id}@${w.window_end}`) ?? 0) + 1);
        // Called after InfluxDB acknowledged: at least as many points written as windows reported.
        const n = [...written.values()].reduce((a, b) => a + b, 0);
        if (detector.sinks.influx!.stats().points_written < n) ackedAtWrite = false;
      },
      onAlertsWritten: (alerts) => {
        const inFile = new Set(readAlerts(alertsFile).map((a) => `${a.alert_id}@${a.ts}`));
        for (const a of alerts) assert.ok(inFile.has(`${a.alert_id}@${a.ts}`), `alert ${a.alert_id} reported written but not in the file`);
        alertsWritten.push(...alerts);
      },
    });
    await detector.start();
    try {
      const speed = 30;
      const sensor = new SensorService(config, { file: capture, speed }, '', {
        onWindow: (w) => closed.set(`${w.device_id}@${w.window_end}`, { wall: performance.now(), end: w.window_end }),
      });
      const t0 = performance.now();
      await sensor.run();
      const wallS = (performance.now() - t0) / 1000;
      await sensor.stop();
      // The capture's first and last packet times (classic pcap, µs).
      const bytes = readFileSync(capture);
      const recordTs = (at: number): number => bytes.readUInt32LE(at) + bytes.readUInt32LE(at + 4) / 1e6;
      let at = 24;
      let tsN = 0;
      for (; at + 16 <= bytes.length; at += 16 + bytes.readUInt32LE(at + 8)) tsN = recordTs(at);
      const ts0 = recordTs(24);
      assert.ok(wallS > (tsN - ts0) / speed - 0.1, `${(tsN - ts0).toFixed(1)} s of capture at ${speed}x took ${wallS.toFixed(2)} s`);
      // Windows close on packet time, when the wall clock reaches (packet time − first frame's) ÷ speed: never early.
      // (Windows ending after the last packet are flushed at the end of the file, not closed by packet time.)
      const byEnd = [...closed.values()].filter((c) => c.end <= tsN).sort((a, b) => a.end - b.end);
      assert.ok(byEnd.length > 10, `${byEnd.length} windows closed by packet time`);
      for (const c of byEnd) {
        const due = ((c.end - ts0) * 1000) / speed;
        assert.ok(c.wall - t0 >= due - 5, `window ending ${c.end} closed ${(c.wall - t0).toFixed(0)} ms after the start, due ${due.toFixed(0)} ms`);
      }
      // ... and not much later either.
      const last = byEnd.at(-1)!;
      assert.ok(last.wall - t0 <= ((last.end - ts0) * 1000) / speed + 3000, `window ending ${last.end} closed ${(last.wall - t0).toFixed(0)} ms after the start`);
      assert.equal(closed.size, sensor.producer.stats().produced);
      const deadline = Date.now() + 60_000;
      while ([...closed.keys()].some((k) => !written.has(k)) && Date.now() < deadline) await sleep(100);
      assert.deepEqual([...written.keys()].sort(), [...closed.keys()].sort(), 'every closed window written, nothing else');
      assert.ok(ackedAtWrite, 'window metrics reported written before InfluxDB acknowledged them');
      assert.ok(alertsWritten.length >= 4, `${alertsWritten.length} alerts reported written`);
      assert.deepEqual(new Set(alertsWritten.map((a) => `${a.alert_id}@${a.ts}`)), new Set(readAlerts(alertsFile).map((a) => `${a.alert_id}@${a.ts}`)));
    } finally {
      await detector.stop();
      await detector.sinks.influx?.client.dropDatabase(database).catch(() => undefined);
    }
  });
});
