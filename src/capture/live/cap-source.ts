/**
 * Live capture from a network interface through libpcap, receive-only: the sensor never transmits (the addon has
 * no inject/sendpacket entry point at all).
 *
 * wardwatch's own N-API addon (src/capture/live/addon/capture.c, built from source at install by
 * scripts/install-capture.sh) runs libpcap on a capture thread that drains the kernel ring into a pool of chunks and
 * hands each chunk (thousands of frames) to JavaScript in one call; `forEachFrame` walks the chunk and gives it
 * back. A busy event loop therefore fills the pool instead of the kernel ring. It replaced the `cap` binding (one
 * `pcap_dispatch(…, 1, …)` and one C++ → JS call per frame, read from the event loop; BENCHMARKS.md "Live capture"
 * has the before/after). A missing or unbuilt addon is refused with one clear error (`WW_CAPTURE_BINDING`).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureError } from '../../errors.js';
import { LinkType } from '../../records/packet.js';
import { newCaptureCounters, newCapturedFrame, type CaptureCountersSnapshot, type CaptureProgress, type CaptureSource, type FrameHandler } from '../source.js';
import { DEFAULT_LIVE_CAPTURE, type LiveCaptureConfig } from './config.js';

/** libpcap's counters (`pcap_stats`) as the addon keeps them: 64-bit totals since open (libpcap's own wrap at 2^32). */
interface PcapStat {
  ps_recv: number;
  ps_drop: number;
  ps_ifdrop: number;
}
interface OpenedCapture {
  handle: object;
  chunks: Buffer[];
  /** libpcap DLT_* of the interface, and its name. */
  dlt: number;
  dlt_name: string;
  /** True when the kernel stamps in nanoseconds (else microseconds). */
  nanoseconds: boolean;
  /** libpcap's activation warning (e.g. promiscuous mode not supported), or ''. */
  warning: string;
}
interface CaptureAddon {
  open(
    device: string,
    options: { filter: string; snaplen: number; buffer_size: number; timeout_ms: number; immediate: number; chunk_bytes: number; chunks: number },
    onBatch: (chunk: number, used: number, count: number, end: string | null | undefined) => void,
  ): OpenedCapture;
  release(handle: object, chunk: number): void;
  stop(handle: object): void;
  stats(handle: object): PcapStat;
  interfaces(): { name: string; description?: string }[];
  libVersion(): string;
}

const requireCjs = createRequire(import.meta.url);
const ADDON_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..', 'src/capture/live/addon');
let loaded: CaptureAddon | undefined;

/** Loads the addon; missing or unbuilt gives one `WW_CAPTURE_BINDING` error saying what to do. */
function loadAddon(source: string): CaptureAddon {
  if (loaded) return loaded;
  const file = path.join(ADDON_DIR, 'build/Release/wardwatch_capture.node');
  if (!existsSync(file)) {
    throw new CaptureError(source, `the libpcap capture addon is not built (${path.relative(process.cwd(), file) || file} missing) — install libpcap-dev, python3, make and g++, then run 'npm run rebuild:capture'`, {
      code: 'WW_CAPTURE_BINDING',
    });
  }
  try {
    loaded = requireCjs(file) as CaptureAddon;
  } catch (err) {
    throw new CaptureError(source, `the libpcap capture addon does not load: ${(err as Error).message.split('\n')[0]} — run 'npm run rebuild:capture'`, { cause: err, code: 'WW_CAPTURE_BINDING' });
  }
  return loaded;
}

export type LiveCaptureOptions = Partial<LiveCaptureConfig> & {
  /** Interface name, e.g. `eth1` (a SPAN/mirror port). */
  interface: string;
};

/**
 * libpcap's own counters for the capture, cumulative since it started (read at most 100 ms ago; after `stop()` the
 * final values). On Linux: `pcap_received` counts every frame that passed the BPF filter, including those dropped;
 * `pcap_dropped` the ones dropped because the capture ring was full (the sensor did not read fast enough);
 * `pcap_ifdropped` the interface's own receive drops (all traffic, not only what the filter passes).
 */
export interface LiveCaptureStats {
  /** Frames handed to the sensor. */
  received: number;
  /** libpcap ps_recv. */
  pcap_received: number;
  /** libpcap ps_drop. */
  pcap_dropped: number;
  /** libpcap ps_ifdrop. */
  pcap_ifdropped: number;
}

/** libpcap DLT_* → LINKTYPE_* (they differ only for the raw-IP types: DLT_RAW is 12 on Linux, 14 on OpenBSD). */
function linktypeOf(dlt: number): number {
  if (dlt === 12 || dlt === 14) return LinkType.RAW;
  return dlt;
}

const REC_HDR = 16;

export class LiveCaptureSource implements CaptureSource {
  readonly description: string;
  private readonly config: LiveCaptureConfig;
  private readonly frame = newCapturedFrame();
  private readonly count = newCaptureCounters();
  private addon: CaptureAddon | undefined;
  private opened: OpenedCapture | undefined;
  private views: Uint32Array[] = [];
  private linktype = -1;
  private finalStats: PcapStat | undefined;
  private stopping = false;
  /** Chunks posted by the capture thread and not yet walked (a handler that returned a promise pauses the walk). */
  private readonly queue: { chunk: number; count: number; off: number }[] = [];
  private walking = false;
  private ended: { error: string | null } | undefined;
  private settle: { resolve: (c: CaptureCountersSnapshot) => void; reject: (e: unknown) => void } | undefined;
  private handler: FrameHandler | undefined;
  private failed = false;

  constructor(options: LiveCaptureOptions) {
    this.config = { ...DEFAULT_LIVE_CAPTURE, ...options };
    this.description = `live:${options.interface}`;
  }

  /** Interfaces libpcap can open (name, description). Throws `WW_CAPTURE_BINDING` without the addon. */
  static interfaces(): { name: string; description?: string }[] {
    return loadAddon('live').interfaces();
  }

  /** The libpcap version the addon is linked against. */
  static libraryVersion(): string {
    return loadAddon('live').libVersion();
  }

  /** The settings the capture runs with (the defaults where the options gave none). */
  get settings(): Readonly<LiveCaptureConfig> {
    return this.config;
  }

  /** LINKTYPE_* of the open interface (-1 before `forEachFrame` opened it). */
  get linkType(): number {
    return this.linktype;
  }

  /** libpcap's warning when the interface was opened (e.g. promiscuous mode not supported), or ''. */
  get warning(): string {
    return this.opened?.warning ?? '';
  }

  forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    if (this.opened !== undefined || this.handler !== undefined) return Promise.reject(new CaptureError(this.description, 'capture already running'));
    let addon: CaptureAddon;
    try {
      addon = loadAddon(this.description);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new CaptureError(this.description, String(err)));
    }
    const c = this.config;
    let opened: OpenedCapture;
    try {
      opened = addon.open(
        c.interface,
        { filter: c.bpf_filter, snaplen: c.snaplen_bytes, buffer_size: c.buffer_size_bytes, timeout_ms: c.block_timeout_ms, immediate: c.immediate ? 1 : 0, chunk_bytes: c.chunk_bytes, chunks: c.chunks },
        (chunk, _used, count, end) => this.onBatch(chunk, count, end),
      );
    } catch (err) {
      const e = err as Error & { code?: string };
      const code = e.code === 'WW_CAPTURE_BAD_FILTER' || e.code === 'WW_CAPTURE_PERMISSION' ? e.code : e.code === 'WW_CAPTURE_ADDON' ? 'WW_CAPTURE_BINDING' : 'WW_CAPTURE_INTERFACE';
      const hint = code === 'WW_CAPTURE_PERMISSION' ? ' — run as root, or give node CAP_NET_RAW: sudo setcap cap_net_raw+eip "$(readlink -f "$(command -v node)")" (systemd: AmbientCapabilities=CAP_NET_RAW)' : '';
      const what = code === 'WW_CAPTURE_PERMISSION' ? 'no permission to capture' : 'cannot capture';
      return Promise.reject(new CaptureError(this.description, `${what} (${e.message})${hint}`, { cause: err, code }));
    }
    this.addon = addon;
    this.opened = opened;
    this.views = opened.chunks.map((b) => new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2));
    this.linktype = linktypeOf(opened.dlt);
    this.handler = handler;
    const f = this.frame;
    f.linktype = this.linktype;
    f.interface_id = 0;
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      if (this.stopping) addon.stop(opened.handle); // stop() came first
    });
  }

  private onBatch(chunk: number, count: number, end: string | null | undefined): void {
    if (end !== undefined) this.ended = { error: end };
    else if (count > 0) this.queue.push({ chunk, count, off: 0 });
    else this.addon?.release(this.opened!.handle, chunk);
    if (!this.walking) this.walk();
  }

  /** Walks the queued chunks frame by frame; a handler's promise pauses the walk until it settles. */
  private walk(): void {
    const opened = this.opened;
    const addon = this.addon;
    const handler = this.handler;
    if (!opened || !addon || !handler) return;
    this.walking = true;
    const f = this.frame;
    const nanos = opened.nanoseconds;
    const count = this.count;
    while (this.queue.length > 0 && !this.failed) {
      const b = this.queue[0]!;
      const u32 = this.views[b.chunk]!;
      f.data = opened.chunks[b.chunk]!;
      // `off` and `count` advance with the walk, so a paused walk resumes at the next frame.
      let off = b.off;
      while (b.count > 0) {
        const w = off >>> 2;
        const cap = u32[w + 2]!;
        const orig = u32[w + 3]!;
        f.ts_sec = u32[w]!;
        f.ts_nsec = nanos ? u32[w + 1]! : u32[w + 1]! * 1000;
        f.cap_len = cap;
        f.orig_len = orig < cap ? cap : orig;
        f.data_offset = off + REC_HDR;
        if (orig > cap) count.live_snapped++;
        count.frames++;
        count.frame_bytes += cap;
        off += REC_HDR + ((cap + 3) & ~3);
        b.count--;
        b.off = off;
        let r: void | Promise<void>;
        try {
          r = handler(f);
        } catch (err) {
          this.fail(err);
          return;
        }
        if (r !== undefined) {
          // Backpressure (a file-like consumer): resume this chunk, from the next frame, when it settles.
          r.then(
            () => this.walk(),
            (err: unknown) => this.fail(err),
          );
          return;
        }
      }
      this.queue.shift();
      addon.release(opened.handle, b.chunk);
    }
    this.walking = false;
    if (this.queue.length === 0 && this.ended !== undefined) this.finish();
  }

  private finish(): void {
    const opened = this.opened;
    const settle = this.settle;
    if (!opened || !settle) return;
    this.finalStats = this.addon!.stats(opened.handle);
    const error = this.ended?.error;
    this.opened = undefined;
    this.settle = undefined;
    this.handler = undefined;
    if (error) settle.reject(new CaptureError(this.description, `capture failed (${error})`, { code: 'WW_CAPTURE_INTERFACE' }));
    else settle.resolve(this.counters());
  }

  private fail(err: unknown): void {
    this.failed = true;
    this.walking = false;
    const settle = this.settle;
    const opened = this.opened;
    if (opened) {
      this.finalStats = this.addon!.stats(opened.handle);
      this.addon!.stop(opened.handle);
    }
    this.opened = undefined;
    this.settle = undefined;
    this.handler = undefined;
    settle?.reject(err);
  }

  /**
   * Stops capturing: the capture thread reads what the ring holds now, hands over its last chunk and ends;
   * `forEachFrame` resolves once every frame captured before the stop went through the handler.
   */
  stop(): void {
    this.stopping = true;
    if (this.opened && this.addon) this.addon.stop(this.opened.handle);
  }

  progress(): CaptureProgress {
    return { bytes_read: this.count.frame_bytes, bytes_total: 0, frames: this.count.frames };
  }

  counters(): CaptureCountersSnapshot {
    return { ...this.count };
  }

  /** Frames handed over and libpcap's counters (≤ 100 ms old while capturing; the final values after the end). */
  stats(): LiveCaptureStats {
    const s = this.opened && this.addon ? this.addon.stats(this.opened.handle) : (this.finalStats ?? { ps_recv: 0, ps_drop: 0, ps_ifdrop: 0 });
    return { received: this.count.frames, pcap_received: s.ps_recv, pcap_dropped: s.ps_drop, pcap_ifdropped: s.ps_ifdrop };
  }

  /** libpcap's counters under their metric names (`/metrics`: `wardwatch_sensor_pcap_*`; docs/capture-decode.md). */
  metrics(): { pcap_received: number; pcap_dropped: number; pcap_ifdropped: number } {
    const s = this.stats();
    return { pcap_received: s.pcap_received, pcap_dropped: s.pcap_dropped, pcap_ifdropped: s.pcap_ifdropped };
  }
}
