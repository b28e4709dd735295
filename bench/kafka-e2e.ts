/**
 * End-to-end latency of the Kafka deployment, window close → written to the sinks, at real-time replay pace:
 *
 *   SensorService (captures/demo.pcap replayed at 1x) → KafkaWindowProducer → broker → DetectorService (consumer
 *   group, Detector with the trained models in models/, default backend) → SinkSet (alerts.jsonl + InfluxDB)
 *
 * The two services are the ones `wardwatch sensor` and `wardwatch detect` run, with their default options, in this
 * one process (so both times come from one clock). Close time: the sensor pipeline emits the window (the first packet
 * at or after its end, processed when the wall clock reaches that packet's time at 1x). Written time: the detector's
 * `SinkSet.onScores` resolved (InfluxDB acknowledged the window's `ww_device_window` point) for window metrics, and
 * `SinkSet.onAlerts` resolved (line appended to alerts.jsonl, InfluxDB acknowledged the `ww_alert` point) for
 * alerts. Latency = written − closed, wall clock.
 *
 * The capture's first `from_s` seconds are read at full speed first (the sensor's inventory and feature history and
 * the detector's per-device state are warm, as on a sensor that has been running; those windows are not measured),
 * then `seconds` of capture time at 1x.
 *
 *   node dist/bench/kafka-e2e.js [--from 1880] [--settle 30] [--seconds 600] [--influx-flush-ms 1000]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runAsScript } from './script.js';
import { parseConfig } from '../src/config/load.js';
import { DetectorService } from '../src/compose/detector.js';
import { SensorService } from '../src/compose/sensor.js';
import { kafkaFromConfig } from '../src/compose/kafka.js';
import type { WardwatchConfig } from '../src/config/schema.js';
import type { SimulationLabels } from '../src/simulate/labels.js';
import { REPO_ROOT } from '../scripts/services/common.js';
import { kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { influxReady, influxUrl, startInflux } from '../scripts/services/influxdb.js';
import { activeBackend } from '../src/detect/backend.js';
import { DEMO_CAPTURE, quantile } from './kafka.js';

export interface LatencySummary {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export interface EndToEndLatency {
  /** Window close → its `ww_device_window` point acknowledged by InfluxDB. */
  windows: LatencySummary;
  /** Window close → the alert it raised written to alerts.jsonl and acknowledged by InfluxDB. */
  alerts: LatencySummary & { anomaly: number; new_device: number };
  /** Windows the sensor closed at 1x (each should have a sample). */
  windows_closed: number;
  /** Capture time at 1x: from `from_s` (seconds since the capture's start), windows measured after `settle_s`, up to `to_s`. */
  from_s: number;
  settle_s: number;
  to_s: number;
  devices: number;
  /** Windows of the fast-forward (not measured), and how long before the first measured window close the detector had written them all (ms). */
  warmup_windows: number;
  warmup_drained_before_ms: number;
  /** Labelled attacks (kind) active during the measured windows. */
  attacks: string[];
  backend: string;
  influx: { points_written: number; points_rejected: number; points_dropped: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const unique = (p: string): string => `${p}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

/** The frames of a classic pcap file (microsecond or nanosecond, little-endian) with packet time < `before`. */
export function pcapHead(file: Buffer, before: number): Buffer {
  const magic = file.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('pcapHead: not a little-endian classic pcap file');
  let at = 24;
  while (at + 16 <= file.length && file.readUInt32LE(at) < before) at += 16 + file.readUInt32LE(at + 8);
  return file.subarray(0, Math.min(at, file.length));
}

function summary(xs: number[]): LatencySummary {
  if (xs.length === 0) return { p50: NaN, p99: NaN, max: NaN, n: 0 };
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length };
}

function benchConfig(brokers: string[], influx: string, dir: string, influxOverrides: Record<string, unknown>): WardwatchConfig {
  return parseConfig(
    {
      sensor: { id: 'bench-e2e' },
      transport: {
        kind: 'kafka',
        kafka: { brokers, topics: { prefix: `${unique('ww-bench-e2e')}.` }, producer: { spool_dir: path.join(dir, 'spool') }, consumer: { group_id: unique('ww-bench-e2e') } },
      },
      detect: { models_dir: path.join(REPO_ROOT, 'models') },
      // The demo capture's packet times are older than the default 30-day retention policy: InfluxDB would refuse
      // the points. `autogen` (infinite) keeps them, as a forensic replay of an old capture would be configured.
      sinks: { files: { alerts_file: path.join(dir, 'alerts.jsonl') }, influx: { url: influx, database: unique('ww_bench_e2e').replace(/-/g, '_'), retention_policy: '', ...influxOverrides } },
      service: { metrics_listen: '' },
    },
    'bench',
    {},
  );
}

/** Waits until the detector group is Stable with a member (so the measured windows meet no rebalance). */
async function waitJoined(config: WardwatchConfig, ms: number): Promise<void> {
  const admin = kafkaFromConfig(config.transport.kafka!).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = await admin.describeGroups([config.transport.kafka!.consumer.group_id]);
      if (d.groups[0]?.state === 'Stable' && d.groups[0].members.length > 0) return;
      if (Date.now() > deadline) throw new Error(`detector group did not become Stable in ${ms} ms`);
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

export async function endToEndLatency(brokers: string[], influx: string, o: { from_s: number; settle_s: number; seconds: number; speed?: number; capture?: string; influx?: Record<string, unknown>; log?: (m: string) => void }): Promise<EndToEndLatency> {
  const capture = o.capture ?? DEMO_CAPTURE;
  const labels = JSON.parse(readFileSync(capture.replace(/\.pcap$/, '.labels.json'), 'utf8')) as SimulationLabels;
  const start = labels.options.start;
  const paceFrom = start + o.from_s;
  const measureFrom = paceFrom + o.settle_s;
  const paceTo = paceFrom + o.seconds;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-bench-e2e-'));
  const config = benchConfig(brokers, influx, dir, o.influx ?? {});
  // The capture up to just after the slice (the sensor reads a file to its end, as `wardwatch sensor -r` does).
  const head = path.join(dir, 'head.pcap');
  writeFileSync(head, pcapHead(readFileSync(capture), paceTo + 1));
  const key = (device: string, end: number): string => `${device}@${end}`;
  const closedAt = new Map<string, number>();
  const windowLat: number[] = [];
  const alertLat: number[] = [];
  const alertKinds = { anomaly: 0, new_device: 0 };
  const devices = new Set<string>();
  let warmupClosed = 0;
  let warmupWritten = 0;
  let warmupDrainedAt = NaN;
  let firstMeasuredClose = NaN;

  const detector = new DetectorService(config, {
    onScoresWritten: (windows) => {
      const now = performance.now();
      for (const w of windows) {
        const t = closedAt.get(key(w.device_id, w.window_end));
        if (t !== undefined) windowLat.push(now - t);
        else if (w.window_end <= paceFrom && ++warmupWritten === warmupClosed) warmupDrainedAt = now;
      }
    },
    onAlertsWritten: (alerts) => {
      const now = performance.now();
      for (const a of alerts) {
        const t = closedAt.get(key(a.device_id, a.ts)); // an alert's ts is the end of the window that raised it
        if (t === undefined) continue;
        alertLat.push(now - t);
        alertKinds[a.kind === 'new_device' ? 'new_device' : 'anomaly']++; // behavioural kinds count with the anomaly alerts
      }
    },
  });
  await detector.start();
  try {
    const backend = activeBackend();
    await waitJoined(config, 60_000);
    const sensor = new SensorService(config, { file: head, speed: o.speed ?? 1, speed_from: paceFrom }, '', {
      onWindow: (w) => {
        if (w.window_end <= paceFrom) {
          warmupClosed++;
        } else if (w.window_end > measureFrom && w.window_end <= paceTo) {
          const now = performance.now();
          if (Number.isNaN(firstMeasuredClose)) firstMeasuredClose = now;
          closedAt.set(key(w.device_id, w.window_end), now);
          devices.add(w.device_id);
        } // else: flushed at the end of the file, not closed by packet time: not measured
      },
    });
    o.log?.(`  e2e: fast-forward to +${o.from_s} s, then ${o.seconds} s at ${o.speed ?? 1}x ...`);
    await sensor.run();
    await sensor.stop();
    const deadline = Date.now() + 60_000;
    while (windowLat.length < closedAt.size && Date.now() < deadline) await sleep(100);
    const stats = detector.sinks.influx!.stats();
    const result: EndToEndLatency = {
      windows: summary(windowLat),
      alerts: { ...summary(alertLat), ...alertKinds },
      windows_closed: closedAt.size,
      from_s: o.from_s,
      settle_s: o.settle_s,
      to_s: o.from_s + o.seconds,
      devices: devices.size,
      warmup_windows: warmupClosed,
      warmup_drained_before_ms: firstMeasuredClose - warmupDrainedAt,
      attacks: labels.attacks.filter((a) => a.start < paceTo && a.end >= measureFrom).map((a) => a.kind),
      backend,
      influx: { points_written: stats.points_written, points_rejected: stats.points_rejected, points_dropped: stats.points_dropped },
    };
    if (windowLat.length < closedAt.size) throw new Error(`benchmark invalid: ${closedAt.size - windowLat.length} of ${closedAt.size} windows never written (${JSON.stringify(result)})`);
    if (!(result.warmup_drained_before_ms > 0)) throw new Error(`benchmark invalid: the fast-forward's windows were not all written before the first measured window closed (raise settle_s): ${JSON.stringify(result)}`);
    if (stats.points_rejected > 0 || stats.points_dropped > 0) throw new Error(`benchmark invalid: InfluxDB rejected or dropped points (${JSON.stringify(result.influx)})`);
    return result;
  } finally {
    await detector.stop();
    await detector.sinks.influx?.client.dropDatabase(config.sinks.influx!.database).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  if (!(await kafkaReady())) await startKafka({}, (m) => console.error(m));
  if (!(await influxReady())) await startInflux({}, (m) => console.error(m));
  const result = await endToEndLatency(kafkaBrokers(), influxUrl(), { from_s: arg('from', 1880), settle_s: arg('settle', 30), seconds: arg('seconds', 600), ...(process.argv.includes('--influx-flush-ms') ? { influx: { flush_interval_ms: arg('influx-flush-ms', 1000) } } : {}), log: (m) => console.error(m) });
  console.log(JSON.stringify(result, null, 2));
}

runAsScript(import.meta.url, main);
