/**
 * The embedded pipeline: a capture file through every stage in one process, on the in-process bus.
 *
 *   capture → decode → AnalysisPipeline (flows, inventory, features) → MemoryBus → Detector → sinks
 *
 * Windows close on packet time, the detector scores them in order, and the sinks get alerts and scores: the same
 * capture with the same models gives the same alerts. `windowsFromCapture` is the first half alone (for training,
 * evaluation and tests).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readCapture } from './capture/pcap-file/reader.js';
import type { CaptureCountersSnapshot } from './capture/source.js';
import { PacketDecoder } from './decode/decoder.js';
import type { DecodeCountersSnapshot } from './decode/counters.js';
import { AnalysisPipeline, type AnalysisPipelineOptions } from './pipeline.js';
import type { DeviceIdentitySnapshot } from './flows/device-inventory.js';
import type { FeatureWindow } from './records/features.js';
import type { FlowRecord } from './records/flow.js';
import type { InventoryEntry } from './records/device.js';
import type { Alert, WindowScore } from './records/alert.js';
import { newDecodedPacket } from './records/packet.js';
import { MemoryBus } from './transport/memory/bus.js';
import { Detector, selectBackendFor, type DetectConfig, type InventoryLookup } from './detect/index.js';

export interface HealthSample {
  packets: number;
  decode_malformed: number;
  metrics: Record<string, number>;
}

export interface CaptureProgressEvent {
  bytes_read: number;
  bytes_total: number;
  packets: number;
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
}

export interface AnalyseOptions extends AnalysisPipelineOptions {
  /** Replay pace: undefined = as fast as possible; N = N× the capture's own pace (1 = real time). */
  speed?: number;
  /**
   * Called whenever packet time crosses a multiple of `health_interval_s` (default 10 s), with the stage counters at
   * that moment: sensor health as a time series in packet time (deterministic, whatever the replay speed).
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
}

/** Feeds every frame of a capture file through decode and `pipeline`; flushes the pipeline at the end. */
async function feed(path: string, pipeline: AnalysisPipeline, o: Pick<AnalyseOptions, 'onProgress' | 'speed' | 'from' | 'to' | 'onHealth' | 'health_interval_s'>): Promise<Omit<AnalysedCapture, 'windows'>> {
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const source = await readCapture(path);
  const from = o.from ?? -Infinity;
  const to = o.to ?? Infinity;
  const speed = o.speed;
  let packets = 0;
  let first = NaN;
  let last = NaN;
  let wallStart = 0;
  const healthEvery = o.health_interval_s ?? 10;
  let nextHealth = Infinity;
  // Link types: counted in runs (a capture has one or a few), so the per-frame cost is one compare.
  const linkTypes: Record<number, number> = {};
  let linkType = -1;
  let linkRun = 0;
  const capture = await source.forEachFrame((frame) => {
    const ts = frame.ts_sec + frame.ts_nsec / 1e9;
    if (ts < from || ts >= to) return undefined;
    if (o.onHealth && ts >= nextHealth) {
      const at = Math.floor(ts / healthEvery) * healthEvery;
      o.onHealth(at, { packets, decode_malformed: decoder.counters.snapshot().malformed, metrics: pipeline.metrics() });
      nextHealth = at + healthEvery;
    }
    if (packets === 0) nextHealth = (Math.floor(ts / healthEvery) + 1) * healthEvery;
    if (frame.linktype !== linkType) {
      if (linkRun > 0) linkTypes[linkType] = (linkTypes[linkType] ?? 0) + linkRun;
      linkType = frame.linktype;
      linkRun = 0;
    }
    linkRun++;
    decoder.decode(frame, p);
    pipeline.process(p);
    packets++;
    if (packets === 1) {
      first = ts;
      wallStart = performance.now();
    }
    last = ts;
    if (o.onProgress && (packets & 0x3fff) === 0) {
      const pr = source.progress();
      o.onProgress({ bytes_read: pr.bytes_read, bytes_total: pr.bytes_total ?? 0, packets });
    }
    if (speed !== undefined) {
      // Paced replay: wait until the wall clock catches up with packet time ÷ speed (windows still close on packet time).
      const ahead = ((ts - first) * 1000) / speed - (performance.now() - wallStart);
      if (ahead > 20) return new Promise<void>((r) => setTimeout(r, ahead));
    }
    return undefined;
  });
  pipeline.flush();
  if (linkRun > 0) linkTypes[linkType] = (linkTypes[linkType] ?? 0) + linkRun;
  return {
    inventory: pipeline.inventory.entries(),
    packets,
    capture,
    decode: decoder.counters.snapshot(),
    metrics: pipeline.metrics(),
    first_ts: first,
    last_ts: last,
    link_types: linkTypes,
  };
}

/** Reads a capture and returns its feature windows and the learned inventory. */
export async function windowsFromCapture(path: string, options: AnalyseOptions = {}): Promise<AnalysedCapture> {
  const windows: FeatureWindow[] = [];
  const collect = options.collect ?? true;
  const pipeline = new AnalysisPipeline(options, {
    onWindow: (w) => {
      if (collect) windows.push(w);
      options.onWindow?.(w);
    },
    ...(options.onFlow ? { onFlow: options.onFlow } : {}),
  });
  return { windows, ...(await feed(path, pipeline, options)) };
}

export interface ReplaySinks {
  onAlerts?: (alerts: Alert[]) => Promise<void> | void;
  onScores?: (scores: WindowScore[], windows: FeatureWindow[]) => Promise<void> | void;
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
export async function replayCapture(path: string, detect: DetectConfig, options: AnalyseOptions & { sinks?: ReplaySinks; detector?: Detector } = {}): Promise<ReplayResult> {
  if (!options.detector) await selectBackendFor(detect, 'score'); // models load on the scoring backend
  const detector = options.detector ?? (await Detector.open(detect));
  // At full speed the detector gets batches of 2,048 windows (fewer model calls: each batch is scored per model); a
  // paced replay hands windows over as they close. Results do not depend on the batching (per-device state is ordered).
  const bus = new MemoryBus(options.speed === undefined ? { batch_max_windows: 2048, min_batch_windows: 2048 } : { batch_max_windows: 512 });
  const alerts: Alert[] = [];
  let scored = 0;
  // Each window carries the identity (class, criticality, name) its device had when the window closed, in packet
  // time: the detector scores a batch later, when the reader may be further on, by how much depends on the speed.
  // (A Map, emptied of each batch once it is scored: a WeakMap entry per window cost more, mostly in the collector.)
  const identities = new Map<FeatureWindow, DeviceIdentitySnapshot>();
  const handles = new Map<string, number>(); // device id → inventory handle (stable; handleOf is a linear search)
  const identityOf = (id: string): DeviceIdentitySnapshot | undefined => {
    let h = handles.get(id);
    if (h === undefined) {
      h = pipeline.inventory.handleOf(id);
      if (h < 0) return undefined;
      handles.set(id, h);
    }
    return pipeline.inventory.identity(h);
  };
  const pipeline: AnalysisPipeline = new AnalysisPipeline(options, {
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
  });
  const analysed = await feed(path, pipeline, options);
  await bus.flush();
  // New devices beyond the notice limit in the last interval: their summary notice (detect.new_device_notices_max).
  const tail = detector.flushNotices();
  if (tail.length) {
    alerts.push(...tail);
    await options.sinks?.onAlerts?.(tail);
  }
  if (options.save_inventory) {
    mkdirSync(dirname(resolve(options.save_inventory)), { recursive: true });
    pipeline.saveInventory(options.save_inventory);
  }
  return { ...analysed, alerts, windows_scored: scored, detector: detector.counters.snapshot() };
}
