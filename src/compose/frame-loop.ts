/**
 * The one frame loop: a capture source (a file or a live interface) through decode into the analysis stage
 * (`PipelineRunner`: flows, device identity, feature windows), for every command that reads packets (`run`,
 * `replay`, `sensor`, `train`, `evaluate`).
 *
 * What it adds to the stages, in one place:
 *  - the clock. `packet`: only packet time closes windows and times health (a file: the same capture always gives the
 *    same windows, at any speed). `wall` (a live interface, whose packet time is the kernel's receive time): as
 *    `packet`, plus a tick every `tick_ms` of wall time that notes the capture's drops on the open window
 *    (`capture_loss`) and in the loss monitor, and closes windows and flows when the wire went quiet;
 *  - health ticks (`onHealth`) every `health_interval_ms` of packet time (a file) or wall time (live), stamped at
 *    multiples of the interval, plus the time of a final one in the result (`end_at`);
 *  - pacing (`speed`, src/compose/pacing.ts), a time range (`from`/`to`), progress, back-pressure from what the
 *    windows go to (a file waits for the broker; a live interface cannot wait), stop by `stop()` or an abort signal;
 *  - at the end the last drops are noted and the analysis flushed: the open windows reach their outputs before
 *    `run()` resolves.
 */
import type { CaptureCountersSnapshot, CaptureDropStats, CaptureSource } from '../capture/source.js';
import { droppedOf, type CaptureLossMonitor } from '../capture/loss.js';
import { PacketDecoder } from '../decode/decoder.js';
import type { DecodeCountersSnapshot } from '../decode/counters.js';
import type { PipelineRunner } from '../pipeline/runner.js';
import { newDecodedPacket, type CapturedFrame } from '../records/packet.js';
import { replayPacer } from './pacing.js';

/** How the loop keeps time (see the module comment). Default: `wall` for a source with drop counters, else `packet`. */
export type CaptureClock = 'packet' | 'wall';

/** The clock a source runs on: as asked, else `wall` for a source with drop counters (live), else `packet`. */
export function clockOf(source: CaptureSource, clock?: CaptureClock): CaptureClock {
  return clock ?? (typeof source.stats === 'function' ? 'wall' : 'packet');
}

export interface CaptureProgressEvent {
  bytes_read: number;
  bytes_total: number;
  packets: number;
}

export interface FrameLoopOptions {
  clock?: CaptureClock;
  /** Replay pace: undefined = as fast as possible; N = N× the capture's own pace (1 = real time). Files only. */
  speed?: number;
  /** With `speed`: frames before this packet time are read at full speed (default: `from`). */
  speed_from?: number;
  /** Only frames with from ≤ time < to (seconds since the epoch) are analysed. */
  from?: number;
  to?: number;
  /** Health ticks: every this much packet time (file) or wall time (live). Default 10,000 ms. */
  health_interval_ms?: number;
  /** A health tick at `at` (seconds; a multiple of the interval). */
  onHealth?: (at: number) => void;
  /** `wall`: how often the loop ticks (capture loss, idle closing). Default 1000 ms (at most the health interval). */
  tick_ms?: number;
  /**
   * `wall`: a tick that saw no frame since the previous one closes windows and flows up to wall time minus this much,
   * so that a frame still on its way from the kernel (stamped a little earlier) is not counted in a window that
   * closed. Default 2000 ms: on a quiet wire a window closes 2–3 s after its end.
   */
  idle_grace_ms?: number;
  /** A live source: watches its drops (rate-limited warnings naming the setting to change). */
  loss?: CaptureLossMonitor;
  onProgress?: (p: CaptureProgressEvent) => void;
  /** A file: asked every 1,024 frames whether to wait (e.g. for the broker to take the windows). */
  backpressure?: () => Promise<void> | undefined;
  /** Aborting stops the capture after the current frame (as `stop()`). */
  signal?: AbortSignal;
  /** Called once the source is open and capturing (live: the interface opened, frames are being read). */
  onCaptureStart?: () => void;
}

export interface FrameLoopResult {
  /** Frames analysed (inside the time range). */
  packets: number;
  capture: CaptureCountersSnapshot;
  decode: DecodeCountersSnapshot;
  first_ts: number;
  last_ts: number;
  /** Frames per capture link type (pcap LINKTYPE_* number → frames analysed). */
  link_types: Record<number, number>;
  /** A source with drop counters (live): the final ones. */
  live?: CaptureDropStats;
  /** Time of the final health point: a file's last packet time, a live capture's stop (NaN: nothing was read). */
  end_at: number;
}

export class FrameLoop {
  readonly decoder = new PacketDecoder();
  /** Frames analysed so far. */
  packets = 0;
  readonly wallClock: boolean;
  private running: Promise<FrameLoopResult> | undefined;

  constructor(
    readonly source: CaptureSource,
    private readonly analysis: PipelineRunner,
    private readonly o: FrameLoopOptions = {},
  ) {
    this.wallClock = clockOf(source, o.clock) === 'wall';
  }

  /** Frames the capture lost before the sensor read them (libpcap's drops; 0 for a file). */
  dropped(): number {
    const s = this.source.stats?.();
    return s ? droppedOf(s) : 0;
  }

  /** Runs to the end of the file, or until `stop()`; the analysis is flushed before it resolves. Idempotent. */
  run(): Promise<FrameLoopResult> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops after the current frame; `run()` then flushes and resolves. */
  stop(): void {
    this.stopped = true;
    this.source.stop();
  }

  private stopped = false;

  /** The source's drop counters to the open window (`capture_loss`) and to the loss monitor (warnings, /healthz). */
  private sampleLoss(): void {
    const s = this.source.stats?.();
    if (!s) return;
    this.analysis.noteCaptureLoss(droppedOf(s), s.received);
    this.o.loss?.sample(s);
  }

  private async loop(): Promise<FrameLoopResult> {
    const o = this.o;
    const source = this.source;
    const analysis = this.analysis;
    const decoder = this.decoder;
    const p = newDecodedPacket();
    const wallClock = this.wallClock;
    const from = o.from ?? -Infinity;
    const to = o.to ?? Infinity;
    const healthEvery = (o.health_interval_ms ?? 10_000) / 1000;
    // Health on packet time (files); a live source's ticks on wall time.
    const packetHealth = wallClock ? undefined : o.onHealth;
    const pace = o.speed !== undefined && !wallClock ? replayPacer(o.speed, o.speed_from ?? from) : undefined;
    const backpressure = wallClock ? undefined : o.backpressure;
    let nextHealth = NaN;
    let first = NaN;
    let last = NaN;
    // Link types: counted in runs (a capture has one or a few), so the per-frame cost is one compare.
    const linkTypes: Record<number, number> = {};
    let linkType = -1;
    let linkRun = 0;
    const handle = (frame: CapturedFrame, ts: number): Promise<void> | undefined => {
      if (packetHealth) {
        if (ts >= nextHealth) {
          const at = Math.floor(ts / healthEvery) * healthEvery;
          packetHealth(at);
          nextHealth = at + healthEvery;
        } else if (Number.isNaN(nextHealth)) nextHealth = (Math.floor(ts / healthEvery) + 1) * healthEvery;
      }
      if (frame.linktype !== linkType) {
        if (linkRun > 0) linkTypes[linkType] = (linkTypes[linkType] ?? 0) + linkRun;
        linkType = frame.linktype;
        linkRun = 0;
      }
      linkRun++;
      decoder.decode(frame, p);
      const packets = ++this.packets;
      if (packets === 1) first = ts;
      last = ts;
      // A threaded analysis behind by its bound: wait (a file pauses reading; a live capture fills its own buffers).
      const behind = analysis.process(p);
      if (o.onProgress && (packets & 0x3fff) === 0) {
        const pr = source.progress();
        o.onProgress({ bytes_read: pr.bytes_read, bytes_total: pr.bytes_total ?? 0, packets });
      }
      if (behind !== undefined) return behind;
      if (backpressure && (packets & 0x3ff) === 0) return backpressure();
      return undefined;
    };
    const frameHandler = (frame: CapturedFrame): Promise<void> | undefined => {
      const ts = frame.ts_sec + frame.ts_nsec / 1e9;
      if (ts < from || ts >= to) return undefined;
      const wait = pace?.(ts);
      // The frame stays valid while the source waits for the returned promise.
      return wait === undefined ? handle(frame, ts) : wait.then(() => handle(frame, ts));
    };

    // Live: a tick every `tick_ms` of wall time (the wire may be quiet for as long as it likes).
    let tickError: Error | undefined;
    let tickedAt = -1; // packets at the previous tick
    const tickMs = Math.min(o.tick_ms ?? 1000, o.health_interval_ms ?? 10_000);
    let nextWallHealth = (Math.floor(Date.now() / 1000 / healthEvery) + 1) * healthEvery;
    const tick = (): void => {
      try {
        const now = Date.now();
        this.sampleLoss();
        // A quiet wire: close what a frame stamped now (minus a grace for frames still on their way) would close, so
        // the last window of a burst reaches its outputs without waiting for the next packet.
        if (this.packets === tickedAt) analysis.closeIdle(now - (o.idle_grace_ms ?? 2000));
        tickedAt = this.packets;
        if (o.onHealth && now / 1000 >= nextWallHealth) {
          const at = Math.floor(now / 1000 / healthEvery) * healthEvery;
          o.onHealth(at);
          nextWallHealth = at + healthEvery;
        }
      } catch (err) {
        tickError ??= err instanceof Error ? err : new Error(String(err));
        source.stop();
      }
    };

    let capture: CaptureCountersSnapshot;
    if (o.signal?.aborted || this.stopped) {
      capture = source.counters(); // stopped before it started (e.g. Ctrl-C while the models loaded)
    } else {
      const stop = (): void => this.stop();
      o.signal?.addEventListener('abort', stop, { once: true });
      // Noted from the start: every window of a live capture carries `capture_loss`, the first one included.
      if (wallClock) this.sampleLoss();
      const timer = wallClock ? setInterval(tick, tickMs) : undefined;
      timer?.unref();
      try {
        let settled = false;
        const running = source.forEachFrame(frameHandler).finally(() => (settled = true));
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
    this.sampleLoss(); // the last counters go to the open window before it is flushed
    await analysis.flush();
    if (linkRun > 0) linkTypes[linkType] = (linkTypes[linkType] ?? 0) + linkRun;
    const live = source.stats?.();
    return {
      packets: this.packets,
      capture,
      decode: decoder.counters.snapshot(),
      first_ts: first,
      last_ts: last,
      link_types: linkTypes,
      ...(live ? { live } : {}),
      end_at: this.packets === 0 ? NaN : wallClock ? Date.now() / 1000 : last,
    };
  }
}
