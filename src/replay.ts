/**
 * The embedded pipeline: a capture (a file, or a live interface) through every stage in one process, on the
 * in-process bus.
 *
 *   capture → decode → AnalysisPipeline (flows, inventory, features) → MemoryBus → Detector → sinks
 *
 * Windows close on packet time, the detector scores them in order, and the sinks get alerts and scores: the same
 * capture with the same models gives the same alerts. `windowsFromCapture` is the first half alone (for training,
 * evaluation and tests).
 *
 * One frame loop (`feed`) serves both kinds of source. A live source (`clock: 'wall'`) also ticks once per second of
 * wall time: windows and flows are closed when the wire goes quiet (`AnalysisPipeline.closeIdle`; with traffic, packet time closes
 * them as for a file), and health is sampled every `health_interval_s` of wall time with libpcap's drop counters. It
 * runs until `signal` aborts (SIGINT/SIGTERM in `wardwatch run -i`); then the open windows are flushed through the
 * detector as at the end of a file.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readCapture } from './capture/pcap-file/reader.js';
import { LiveCaptureSource, type LiveCaptureStats } from './capture/live/cap-source.js';
import type { CaptureCountersSnapshot, CaptureSource } from './capture/source.js';
import { PacketDecoder } from './decode/decoder.js';
import type { DecodeCountersSnapshot } from './decode/counters.js';
import { AnalysisPipeline, type AnalysisPipelineOptions } from './pipeline/analysis.js';
import type { CaptureLossMonitor } from './capture/loss.js';
import type { DeviceIdentitySnapshot } from './flows/device-inventory.js';
import type { FeatureWindow } from './records/features.js';
import type { FlowRecord } from './records/flow.js';
import type { InventoryEntry } from './records/device.js';
import type { Alert, WindowScore } from './records/alert.js';
import { newDecodedPacket, type CapturedFrame } from './records/packet.js';
import { MemoryBus } from './transport/memory/bus.js';
import { Detector, selectBackendFor, type DetectConfig, type InventoryLookup } from './detect/index.js';

export interface HealthSample {
  packets: number;
  decode_malformed: number;
  /** Frames the capture lost before the sensor read them: libpcap's ps_drop + ps_ifdrop (live); 0 for a file. */
  packets_dropped: number;
  metrics: Record<string, number>;
}

/** A capture file's path (opened with `readCapture`), or an open source: a file or a live interface. */
export type CaptureInput = string | CaptureSource;

/**
 * How the loop keeps time. `packet`: only packet time closes windows and times health samples (a file: the same
 * capture always gives the same windows, whatever the speed). `wall`: a live interface, whose packet time is the
 * kernel's receive time: as `packet`, plus a tick every second of wall time that closes windows and flows when the
 * wire is quiet and samples health every `health_interval_s` of wall time.
 */
export type CaptureClock = 'packet' | 'wall';

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
  /** A live source's final libpcap counters (received, dropped); absent for a file. */
  live?: LiveCaptureStats;
}

export interface AnalyseOptions extends AnalysisPipelineOptions {
  /** Replay pace: undefined = as fast as possible; N = N× the capture's own pace (1 = real time). */
  speed?: number;
  /**
   * Called whenever packet time crosses a multiple of `health_interval_s` (default 10 s), with the stage counters at
   * that moment: sensor health as a time series in packet time (deterministic, whatever the replay speed); and once
   * more at the end, with the final counters (at the last packet's time; a live capture: at its stop).
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
  /** Default: `wall` for a `LiveCaptureSource`, else `packet`. */
  clock?: CaptureClock;
  /** Aborting stops the capture after the current frame; the open windows are then flushed as at the end of a file. */
  signal?: AbortSignal;
  /** Called once the source is open and capturing (live: the interface opened, frames are being read). */
  onCaptureStart?: () => void;
  /** `clock: 'wall'`: how often the loop ticks (idle closing, capture loss, health). Default 1000 ms. */
  wall_tick_ms?: number;
  /**
   * `clock: 'wall'`: a tick that saw no frame since the previous one closes windows and flows up to wall time minus
   * this much, so that a frame still on its way from the kernel (stamped a little earlier) is not counted in a window
   * that closed. Default 2000 ms: on a quiet wire a window closes 2–3 s after its end.
   */
  idle_grace_ms?: number;
  /** A live source: watches its drops (rate-limited warnings naming the setting to change, the final counters). */
  loss?: CaptureLossMonitor;
}

/** The clock of a source: as asked, else `wall` for a live interface and `packet` for a file. */
function clockOf(source: CaptureSource, clock: CaptureClock | undefined): CaptureClock {
  return clock ?? (source instanceof LiveCaptureSource ? 'wall' : 'packet');
}

/** The source of a capture input: a path is opened with `readCapture`. */
async function openInput(input: CaptureInput): Promise<CaptureSource> {
  return typeof input === 'string' ? readCapture(input) : input;
}

type FeedOptions = Pick<
  AnalyseOptions,
  'onProgress' | 'speed' | 'from' | 'to' | 'onHealth' | 'health_interval_s' | 'clock' | 'signal' | 'onCaptureStart' | 'wall_tick_ms' | 'idle_grace_ms' | 'loss'
>;

/** Feeds every frame of a capture source through decode and `pipeline`; flushes the pipeline at the end. */
async function feed(source: CaptureSource, pipeline: AnalysisPipeline, o: FeedOptions): Promise<Omit<AnalysedCapture, 'windows'>> {
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const live = source instanceof LiveCaptureSource ? source : undefined;
  const wallClock = clockOf(source, o.clock) === 'wall';
  const from = o.from ?? -Infinity;
  const to = o.to ?? Infinity;
  const speed = o.speed;
  let packets = 0;
  let first = NaN;
  let last = NaN;
  let wallStart = 0;
  const healthEvery = o.health_interval_s ?? 10;
  // Health on packet time (files); a live source samples it on its wall-clock tick.
  const packetHealth = wallClock ? undefined : o.onHealth;
  let nextHealth = Infinity;
  // Link types: counted in runs (a capture has one or a few), so the per-frame cost is one compare.
  const linkTypes: Record<number, number> = {};
  let linkType = -1;
  let linkRun = 0;
  const dropped = (): number => {
    if (!live) return 0;
    const s = live.stats();
    return s.pcap_dropped + s.pcap_ifdropped;
  };
  // A live source's counters: the drops go to the open window (`capture_loss`) and to the loss monitor (warnings).
  const sampleLoss = (): void => {
    if (!live) return;
    const s = live.stats();
    pipeline.noteCaptureLoss(s.pcap_dropped + s.pcap_ifdropped, s.received);
    o.loss?.sample(s);
  };
  const health = (): HealthSample => ({
    packets,
    decode_malformed: decoder.counters.snapshot().malformed,
    packets_dropped: dropped(),
    metrics: live ? { ...pipeline.metrics(), ...live.metrics() } : pipeline.metrics(),
  });
  const handler = (frame: CapturedFrame): Promise<void> | undefined => {
    const ts = frame.ts_sec + frame.ts_nsec / 1e9;
    if (ts < from || ts >= to) return undefined;
    if (packetHealth && ts >= nextHealth) {
      const at = Math.floor(ts / healthEvery) * healthEvery;
      packetHealth(at, health());
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
  };

  // Live: a tick every second of wall time (the wire may be quiet for as long as it likes).
  let tickError: Error | undefined;
  let tickedAt = 0; // packets at the previous tick
  let nextWallHealth = (Math.floor(Date.now() / 1000 / healthEvery) + 1) * healthEvery;
  const tick = (): void => {
    try {
      const now = Date.now();
      sampleLoss();
      if (packets === tickedAt) pipeline.closeIdle(now - (o.idle_grace_ms ?? 2000));
      tickedAt = packets;
      if (o.onHealth && now / 1000 >= nextWallHealth) {
        const at = Math.floor(now / 1000 / healthEvery) * healthEvery;
        o.onHealth(at, health());
        nextWallHealth = at + healthEvery;
      }
    } catch (err) {
      tickError ??= err instanceof Error ? err : new Error(String(err));
      source.stop();
    }
  };

  let capture: CaptureCountersSnapshot;
  if (o.signal?.aborted) {
    capture = source.counters(); // stopped before it started (e.g. Ctrl-C while the models loaded)
  } else {
    const stop = (): void => source.stop();
    o.signal?.addEventListener('abort', stop, { once: true });
    const timer = wallClock ? setInterval(tick, o.wall_tick_ms ?? 1000) : undefined;
    try {
      let settled = false;
      const running = source.forEachFrame(handler).finally(() => (settled = true));
      // A source that cannot open rejects at once: only one still running after this turn has started.
      const onStart = o.onCaptureStart;
      if (onStart) {
        setImmediate(() => {
          if (!settled) onStart();
        });
      }
      capture = await running;
    } finally {
      clearInterval(timer);
      o.signal?.removeEventListener('abort', stop);
    }
  }
  if (tickError !== undefined) throw tickError;
  sampleLoss(); // the last counters go to the open window before it is flushed
  pipeline.flush();
  // The final health point: the counters at the end (a file's last packet time, or the stop of a live capture), as
  // `wardwatch sensor` writes it.
  if (o.onHealth && packets > 0) o.onHealth(wallClock ? Date.now() / 1000 : last, health());
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
    ...(live ? { live: live.stats() } : {}),
  };
}

/** Reads a capture and returns its feature windows and the learned inventory. */
export async function windowsFromCapture(input: CaptureInput, options: AnalyseOptions = {}): Promise<AnalysedCapture> {
  const windows: FeatureWindow[] = [];
  const collect = options.collect ?? true;
  const pipeline = new AnalysisPipeline(options, {
    onWindow: (w) => {
      if (collect) windows.push(w);
      options.onWindow?.(w);
    },
    ...(options.onFlow ? { onFlow: options.onFlow } : {}),
  });
  return { windows, ...(await feed(await openInput(input), pipeline, options)) };
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
export async function replayCapture(input: CaptureInput, detect: DetectConfig, options: AnalyseOptions & { sinks?: ReplaySinks; detector?: Detector } = {}): Promise<ReplayResult> {
  if (!options.detector) await selectBackendFor(detect, 'score'); // models load on the scoring backend
  const detector = options.detector ?? (await Detector.open(detect));
  const source = await openInput(input);
  const live = clockOf(source, options.clock) === 'wall';
  // A file at full speed: the detector gets batches of 2,048 windows (fewer model calls: each batch is scored per
  // model); a paced replay or a live capture hands windows over as they close. Results do not depend on the batching
  // (per-device state is ordered).
  const bus = new MemoryBus(options.speed === undefined && !live ? { batch_max_windows: 2048, min_batch_windows: 2048 } : { batch_max_windows: 512 });
  const alerts: Alert[] = [];
  let scored = 0;
  // Each window carries the identity (class, criticality, name) its device had when the window closed, in packet
  // time: the detector scores a batch later, when the reader may be further on, by how much depends on the speed.
  // (A Map, emptied of each batch once it is scored: a WeakMap entry per window cost more, mostly in the collector.)
  const identities = new Map<FeatureWindow, DeviceIdentitySnapshot>();
  const identityOf = (id: string): DeviceIdentitySnapshot | undefined => pipeline.identityOf(id);
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
    await options.sinks?.onBatch?.(out.scores, windows, out.alerts);
  });
  const analysed = await feed(source, pipeline, options);
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
    pipeline.saveInventory(options.save_inventory);
  }
  return { ...analysed, alerts, windows_scored: scored, detector: detector.counters.snapshot() };
}
