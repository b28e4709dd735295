/**
 * The embedded pipeline: a capture (a file, or a live interface) through every stage in one process, on the
 * in-process bus.
 *
 *   capture → FrameLoop (decode) → analysis (flows, inventory, features) → MemoryBus → Detector → sinks
 *
 * Windows close on packet time, the detector scores them in order, and the sinks get alerts and scores: the same
 * capture with the same models gives the same alerts. `windowsFromCapture` is the first half alone (training,
 * evaluation, tests); `runEmbedded` is `wardwatch run`/`replay`: the whole of it with the sinks of the config, health
 * and inventory points, as the distributed path (src/compose/sensor.ts + detector.ts) writes them.
 *
 * A live source (`clock: 'wall'`) runs until `signal` aborts (SIGINT/SIGTERM in `wardwatch run -i`); then the open
 * windows are flushed through the detector as at the end of a file.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readCapture } from '../capture/pcap-file/reader.js';
import type { CaptureCountersSnapshot, CaptureDropStats, CaptureSource } from '../capture/source.js';
import type { DecodeCountersSnapshot } from '../decode/counters.js';
import type { AnalysisPipelineOptions } from '../pipeline/analysis.js';
import { LocalPipelineRunner } from '../pipeline/runner.js';
import type { CaptureLossMonitor } from '../capture/loss.js';
import type { DeviceIdentitySnapshot } from '../flows/device-inventory.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import type { Alert, WindowScore } from '../records/alert.js';
import type { SensorHealth } from '../records/health.js';
import { MemoryBus, type MemoryBusOptions } from '../transport/memory/bus.js';
import { Detector, selectBackendFor, type BackendStatus, type DetectConfig, type InventoryLookup } from '../detect/index.js';
import { clockOf, FrameLoop, type CaptureClock, type CaptureProgressEvent } from './frame-loop.js';
import { SensorHealthReporter } from './health.js';
import { captureMetrics } from '../capture/loss.js';
import type { Topology, CaptureInput, ScoringStore } from './topology.js';

export type { CaptureClock, CaptureProgressEvent };

export interface HealthSample {
  packets: number;
  decode_malformed: number;
  /** Frames the capture lost before the sensor read them: libpcap's ps_drop + ps_ifdrop (live); 0 for a file. */
  packets_dropped: number;
  metrics: Record<string, number>;
}

export interface AnalysedCapture {
  windows: FeatureWindow[];
  inventory: InventoryEntry[];
  packets: number;
  capture: CaptureCountersSnapshot;
  decode: DecodeCountersSnapshot;
  metrics: Record<string, number>;
  first_ts: number;
  last_ts: number;
  /** Frames per capture link type (pcap LINKTYPE_* number → frames analysed). */
  link_types: Record<number, number>;
  /** A live source's final libpcap counters (received, dropped); absent for a file. */
  live?: CaptureDropStats;
}

export interface AnalyseOptions extends AnalysisPipelineOptions {
  /** Replay pace: undefined = as fast as possible; N = N× the capture's own pace (1 = real time). */
  speed?: number;
  /**
   * Called whenever packet time (a file) or wall time (live) crosses a multiple of `health_interval_s` (default
   * 10 s), with the stage counters at that moment; and once more at the end, with the final counters (at the last
   * packet's time; a live capture: at its stop).
   */
  onHealth?: (ts: number, h: HealthSample) => void;
  health_interval_s?: number;
  /** Only frames with from ≤ time < to (seconds since the epoch) are analysed. */
  from?: number;
  to?: number;
  onWindow?: (w: FeatureWindow) => void;
  /** Saves the inventory with each device's feature history here at capture end (`AnalysisPipeline.saveInventory`). */
  save_inventory?: string;
  onFlow?: (r: FlowRecord) => void;
  onProgress?: (p: CaptureProgressEvent) => void;
  /** Keep the windows in the result (default true). */
  collect?: boolean;
  /** Default: `wall` for a source with drop counters (live), else `packet`. */
  clock?: CaptureClock;
  /** Aborting stops the capture after the current frame; the open windows are then flushed as at the end of a file. */
  signal?: AbortSignal;
  /** Called once the source is open and capturing (live: the interface opened, frames are being read). */
  onCaptureStart?: () => void;
  /** `clock: 'wall'`: how often the loop ticks (idle closing, capture loss). Default 1000 ms. */
  wall_tick_ms?: number;
  /** `clock: 'wall'`: see `FrameLoopOptions.idle_grace_ms` (default 2000 ms). */
  idle_grace_ms?: number;
  /** A live source: watches its drops (rate-limited warnings naming the setting to change, the final counters). */
  loss?: CaptureLossMonitor;
}

/** Windows per detector batch when a file is read at full speed (fewer, larger model calls). */
const FILE_BATCH_WINDOWS = 2048;

/** The source of a capture input: a path is opened with `readCapture`. */
async function openInput(input: string | CaptureSource): Promise<CaptureSource> {
  return typeof input === 'string' ? readCapture(input) : input;
}

/** Runs the frame loop of `source` into `runner` with `o`'s options; the result without the windows. */
async function feed(source: CaptureSource, runner: LocalPipelineRunner, o: AnalyseOptions): Promise<Omit<AnalysedCapture, 'windows'>> {
  const health = (): HealthSample => ({
    packets: loop.packets,
    decode_malformed: loop.decoder.counters.snapshot().malformed,
    packets_dropped: loop.dropped(),
    metrics: source.stats ? { ...runner.latest(), ...captureMetrics(source) } : runner.latest(),
  });
  const onHealth = o.onHealth;
  const loop: FrameLoop = new FrameLoop(source, runner, {
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.speed !== undefined ? { speed: o.speed } : {}),
    ...(o.from !== undefined ? { from: o.from } : {}),
    ...(o.to !== undefined ? { to: o.to } : {}),
    health_interval_ms: (o.health_interval_s ?? 10) * 1000,
    ...(onHealth ? { onHealth: (at: number) => onHealth(at, health()) } : {}),
    ...(o.wall_tick_ms !== undefined ? { tick_ms: o.wall_tick_ms } : {}),
    ...(o.idle_grace_ms !== undefined ? { idle_grace_ms: o.idle_grace_ms } : {}),
    ...(o.loss ? { loss: o.loss } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onCaptureStart ? { onCaptureStart: o.onCaptureStart } : {}),
  });
  const r = await loop.run();
  // The final health point: the counters at the end (a file's last packet time, or the stop of a live capture), as
  // `wardwatch sensor` writes it.
  if (onHealth && r.packets > 0) onHealth(r.end_at, health());
  return {
    inventory: runner.pipeline.inventory.entries(),
    packets: r.packets,
    capture: r.capture,
    decode: r.decode,
    metrics: runner.latest(),
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    link_types: r.link_types,
    ...(r.live ? { live: r.live } : {}),
  };
}

/** Reads a capture and returns its feature windows and the learned inventory. */
export async function windowsFromCapture(input: string | CaptureSource, options: AnalyseOptions = {}): Promise<AnalysedCapture> {
  const windows: FeatureWindow[] = [];
  const collect = options.collect ?? true;
  const runner = new LocalPipelineRunner(options, {
    onWindow: (w) => {
      if (collect) windows.push(w);
      options.onWindow?.(w);
    },
    ...(options.onFlow ? { onFlow: options.onFlow } : {}),
  });
  return { windows, ...(await feed(await openInput(input), runner, options)) };
}

export interface ReplaySinks {
  onAlerts?: (alerts: Alert[]) => Promise<void> | void;
  onScores?: (scores: WindowScore[], windows: FeatureWindow[]) => Promise<void> | void;
  /** The whole scored batch at once (after `onScores` and `onAlerts`): the sinks (`SinkSet.onBatch`). */
  onBatch?: (scores: WindowScore[], windows: FeatureWindow[], alerts: Alert[]) => Promise<void> | void;
}

export interface ReplayResult extends Omit<AnalysedCapture, 'windows'> {
  alerts: Alert[];
  windows_scored: number;
  detector: Record<string, number>;
}

/**
 * Replays a capture through the whole pipeline on the embedded bus. Alerts and scores go to `sinks` as batches are
 * scored (in packet-time order); the result holds every alert.
 */
export async function replayCapture(
  input: string | CaptureSource,
  detect: DetectConfig,
  options: AnalyseOptions & { sinks?: ReplaySinks; detector?: Detector; bus?: Pick<MemoryBusOptions, 'batch_max_windows' | 'max_buffered'> } = {},
): Promise<ReplayResult> {
  if (!options.detector) await selectBackendFor(detect, 'score'); // models load on the scoring backend
  const detector = options.detector ?? (await Detector.open(detect));
  const source = await openInput(input);
  const live = clockOf(source, options.clock) === 'wall';
  // A file at full speed: the detector gets batches of 2,048 windows (fewer model calls: each batch is scored per
  // model); a paced replay or a live capture hands windows over as they close, up to `transport.memory`'s batch.
  // Results do not depend on the batching (per-device state is ordered).
  const bus = new MemoryBus({
    ...options.bus,
    ...(options.speed === undefined && !live ? { batch_max_windows: FILE_BATCH_WINDOWS, min_batch_windows: FILE_BATCH_WINDOWS } : {}),
  });
  const alerts: Alert[] = [];
  let scored = 0;
  // Each window carries the identity (class, criticality, name) its device had when the window closed, in packet
  // time: the detector scores a batch later, when the reader may be further on, by how much depends on the speed.
  // (A Map, emptied of each batch once it is scored: a WeakMap entry per window cost more, mostly in the collector.)
  const identities = new Map<FeatureWindow, DeviceIdentitySnapshot>();
  const identityOf = (id: string): DeviceIdentitySnapshot | undefined => runner.pipeline.identityOf(id);
  const runner: LocalPipelineRunner = new LocalPipelineRunner(options, {
    onWindow: (w) => {
      const id = identityOf(w.device_id);
      if (id !== undefined) identities.set(w, id);
      options.onWindow?.(w);
      bus.enqueue([w]);
    },
    ...(options.onFlow ? { onFlow: options.onFlow } : {}),
  });
  const lookup: InventoryLookup = (id, w) => (w === undefined ? undefined : identities.get(w)) ?? identityOf(id);
  await bus.start(async (windows) => {
    const out = await detector.score(windows, lookup);
    for (const w of windows) identities.delete(w);
    scored += out.scores.length;
    alerts.push(...out.alerts);
    await options.sinks?.onScores?.(out.scores, windows);
    if (out.alerts.length) await options.sinks?.onAlerts?.(out.alerts);
    await options.sinks?.onBatch?.(out.scores, windows, out.alerts);
  });
  const analysed = await feed(source, runner, options);
  await bus.flush();
  // New devices beyond the notice limit in the last interval: their summary notice (detect.new_device_notices_max).
  const tail = detector.flushNotices();
  if (tail.length) {
    alerts.push(...tail);
    await options.sinks?.onAlerts?.(tail);
    await options.sinks?.onBatch?.([], [], tail);
  }
  if (options.save_inventory) {
    mkdirSync(dirname(resolve(options.save_inventory)), { recursive: true });
    runner.pipeline.saveInventory(options.save_inventory);
  }
  return { ...analysed, alerts, windows_scored: scored, detector: detector.counters.snapshot() };
}

/** What `runEmbedded` reports while it runs (the command prints it; nothing it returns is used). */
export interface EmbeddedRunHooks {
  onAlerts?: (alerts: Alert[]) => void;
  onScores?: (scores: WindowScore[]) => void;
  onProgress?: (p: CaptureProgressEvent) => void;
  /** A live capture opened and is capturing. */
  onCaptureStart?: () => void;
  /** A ww_health point's values (every 10 s of packet time, or of wall time live). */
  onHealth?: (at: number, health: SensorHealth, values: Record<string, number>) => void;
}

export interface EmbeddedRunOptions {
  /** Replay pace (files): undefined = as fast as possible; N = N× the capture's own pace. */
  speed?: number;
  from?: number;
  to?: number;
  /** Stops a live capture (the open windows are flushed, the sinks written, the result returned as for a file). */
  signal?: AbortSignal;
  hooks?: EmbeddedRunHooks;
}

export interface EmbeddedRunResult extends ReplayResult {
  /** The TF.js backend the models ran on. */
  backend: BackendStatus;
  /** The model store scored with (the shipped demo models while the user's default store is empty). */
  models: ScoringStore;
  /** Where the inventory was saved (`devices.state_file`), if it was. */
  inventory_file?: string;
}

/**
 * `wardwatch run`/`replay`: a capture through the whole pipeline to the configured sinks (alerts file, InfluxDB,
 * webhooks, syslog, flows file), with the sensor's ww_health every 10 s of packet time (wall time live) and the
 * inventory's ww_inventory points at the end, as the distributed path writes them.
 */
export async function runEmbedded(t: Topology, input: CaptureInput, o: EmbeddedRunOptions = {}): Promise<EmbeddedRunResult> {
  const config = t.config;
  const hooks = o.hooks ?? {};
  const { detector, backend, store } = await t.detector(true);
  // A replay with a run id is a forensic replay: its points (tagged run_id) go to the replays' retention policy.
  const sinks = t.sinks('embedded');
  await sinks.start();
  const flowLog = t.flowLog();
  const source = await t.capture(input);
  const loss = t.captureLoss(source, 1);
  // The health sample of the moment (the loop's counters, the stages'), read by the reporter when it writes a point.
  let current: HealthSample = { packets: 0, decode_malformed: 0, packets_dropped: 0, metrics: {} };
  const reporter = new SensorHealthReporter(sinks, {
    counters: () => ({ packets: current.packets, packets_dropped: current.packets_dropped, decode_errors: current.decode_malformed }),
    stages: () => Promise.resolve(current.metrics),
    // The capture's own counters (a file cut short; a live capture's drops), as the sensor writes them.
    own: () => captureMetrics(source),
    max_flows: config.flows.max_flows,
  });
  let result: ReplayResult;
  try {
    result = await replayCapture(source, { ...config.detect, models_dir: store.models_dir }, {
      ...t.analysisOptions(),
      detector,
      bus: config.transport.memory,
      ...(config.devices.state_file ? { save_inventory: config.devices.state_file } : {}),
      ...(o.speed !== undefined ? { speed: o.speed } : {}),
      ...(o.from !== undefined ? { from: o.from } : {}),
      ...(o.to !== undefined ? { to: o.to } : {}),
      ...(flowLog ? { onFlow: (r: FlowRecord) => flowLog.write(r) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(loss ? { loss } : {}),
      ...(hooks.onCaptureStart ? { onCaptureStart: hooks.onCaptureStart } : {}),
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      // Sensor health every 10 s (packet time for a file, wall time live), in the fields the dashboards plot
      // (docs/dashboards.md); in one process nothing waits for a broker (windows_undelivered 0).
      onHealth: (ts, h) => {
        current = h;
        reporter.write(ts, hooks.onHealth && ((health, values) => hooks.onHealth?.(ts, health, values)));
      },
      sinks: {
        onAlerts: (a) => hooks.onAlerts?.(a),
        onScores: (s) => hooks.onScores?.(s),
        onBatch: (s, w, a) => sinks.onBatch(s, w, a),
      },
    });
  } finally {
    flowLog?.close();
  }
  loss?.logFinal();
  await reporter.settled();
  // A point InfluxDB refused fails the run (as any sink write does).
  if (reporter.error) throw reporter.error;
  const at = Number.isFinite(result.last_ts) ? result.last_ts : Date.now() / 1000;
  await sinks.onInventory(result.inventory, at);
  await sinks.close();
  return { ...result, backend, models: store, ...(config.devices.state_file ? { inventory_file: config.devices.state_file } : {}) };
}
