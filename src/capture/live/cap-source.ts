/**
 * Live capture from a network interface through libpcap (the `cap` binding), receive-only: the sensor never
 * transmits (the binding's `send` is never called and not exposed). `cap` opens the interface in promiscuous,
 * immediate mode with libpcap's snaplen fixed at 65535; our `snaplen_bytes` then cuts what is handed on.
 *
 * Known limits of `cap` 0.2.1, stated rather than hidden:
 * - it hands over packet bytes but not libpcap's per-packet timestamp, so frames are stamped on arrival in the
 *   event loop (immediate mode keeps this within the loop's latency, typically well under a millisecond);
 * - it has no `pcap_stats` binding, so libpcap's own received/dropped counters cannot be read: `stats()` gives
 *   the frames libpcap delivered to us (`received`), `pcap_dropped: null`, and the kernel's per-interface receive
 *   drop counter from sysfs (`if_rx_dropped`, since the capture started) as the nearest available signal.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { CaptureError } from '../../errors.js';
import { LinkType } from '../../records/packet.js';
import { newCaptureCounters, newCapturedFrame, type CaptureCountersSnapshot, type CaptureProgress, type CaptureSource, type FrameHandler } from '../source.js';

interface CapBinding {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}
interface CapModule {
  Cap: new () => CapBinding;
  deviceList(): { name: string; description?: string; flags?: string }[];
}

const requireCjs = createRequire(import.meta.url);

/**
 * `cap` objects whose `open` failed. cap 0.2.1's destructor then stops a libuv poll handle it never started, which
 * crashes the process when the object is garbage-collected; keeping them referenced avoids that (one small object
 * per failed open, which only happens at start-up on a bad interface name or filter).
 */
const failedOpens: CapBinding[] = [];

function loadCap(): CapModule {
  return requireCjs('cap') as CapModule;
}

export interface LiveCaptureOptions {
  /** Interface name, e.g. `eth1` (a SPAN/mirror port). */
  interface: string;
  /** BPF filter in pcap-filter syntax; empty = everything. */
  bpf_filter?: string;
  /** Bytes kept per frame (default 65535, max 65535). */
  snaplen_bytes?: number;
  /** libpcap ring/buffer size in bytes (default 16 MiB). */
  buffer_size_bytes?: number;
}

export interface LiveCaptureStats {
  /** Frames libpcap delivered to the sensor. */
  received: number;
  /** libpcap's ps_drop. Not available through `cap` 0.2.1 (no pcap_stats binding): always null. */
  pcap_dropped: number | null;
  /** Kernel receive drops on the interface since the capture started (sysfs rx_dropped delta); null if unreadable. */
  if_rx_dropped: number | null;
}

const LIBPCAP_SNAPLEN = 65535;

/** Maps `cap`'s link-type names to LINKTYPE_* numbers. */
function linktypeOf(name: string): number {
  switch (name) {
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'NULL':
      return LinkType.NULL;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    case 'RAW':
      return LinkType.RAW;
    default: {
      const m = /Unknown linktype (\d+)/.exec(name);
      return m?.[1] !== undefined ? Number(m[1]) : -1;
    }
  }
}

export class LiveCaptureSource implements CaptureSource {
  readonly description: string;
  private readonly snaplen: number;
  private readonly bufferSize: number;
  private readonly filter: string;
  private readonly buffer = Buffer.alloc(LIBPCAP_SNAPLEN);
  private readonly frame = newCapturedFrame();
  private readonly count = newCaptureCounters();
  private cap: CapBinding | undefined;
  private finish: (() => void) | undefined;
  private rxDroppedAtStart: number | null = null;
  private linktype = -1;

  constructor(private readonly options: LiveCaptureOptions) {
    this.description = `live:${options.interface}`;
    this.snaplen = Math.min(LIBPCAP_SNAPLEN, Math.max(64, options.snaplen_bytes ?? LIBPCAP_SNAPLEN));
    this.bufferSize = options.buffer_size_bytes ?? 16 << 20;
    this.filter = options.bpf_filter ?? '';
    this.frame.data = this.buffer;
  }

  /** Interfaces libpcap can open (name, description). */
  static interfaces(): { name: string; description?: string }[] {
    return loadCap().deviceList().map((d) => ({ name: d.name, ...(d.description === undefined ? {} : { description: d.description }) }));
  }

  /** LINKTYPE_* of the open interface (-1 before `forEachFrame` opened it). */
  get linkType(): number {
    return this.linktype;
  }

  forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    if (this.cap !== undefined) return Promise.reject(new CaptureError(this.description, 'capture already running'));
    let mod: CapModule;
    try {
      mod = loadCap();
    } catch (err) {
      return Promise.reject(new CaptureError(this.description, `libpcap binding (cap) not available: ${(err as Error).message}`, { cause: err }));
    }
    const cap = new mod.Cap();
    let linkName: string;
    try {
      linkName = cap.open(this.options.interface, this.filter, this.bufferSize, this.buffer);
    } catch (err) {
      failedOpens.push(cap);
      const msg = (err as Error).message;
      const code = /syntax|filter|parse|expression/i.test(msg) ? 'WW_CAPTURE_BAD_FILTER' : 'WW_CAPTURE_INTERFACE';
      return Promise.reject(new CaptureError(this.description, `cannot capture (${msg})`, { cause: err, code }));
    }
    this.cap = cap;
    this.linktype = linktypeOf(linkName);
    this.rxDroppedAtStart = this.readRxDropped();
    const f = this.frame;
    f.linktype = this.linktype;
    f.interface_id = 0;
    f.data_offset = 0;
    return new Promise((resolve, reject) => {
      this.finish = () => resolve(this.counters());
      cap.on('packet', (nbytes: number, truncated: boolean) => {
        const now = performance.timeOrigin + performance.now();
        const sec = Math.floor(now / 1000);
        f.ts_sec = sec;
        f.ts_nsec = Math.floor((now - sec * 1000) * 1e6);
        f.orig_len = nbytes;
        if (truncated) this.count.live_truncated++;
        let capLen = nbytes;
        if (capLen > this.snaplen) {
          capLen = this.snaplen;
          this.count.live_snapped++;
        }
        f.cap_len = capLen;
        this.count.frames++;
        this.count.frame_bytes += capLen;
        try {
          const r = handler(f);
          if (r !== undefined) r.catch((err: unknown) => this.fail(err, reject));
        } catch (err) {
          this.fail(err, reject);
        }
      });
    });
  }

  private fail(err: unknown, reject: (e: unknown) => void): void {
    this.stop();
    reject(err);
  }

  stop(): void {
    const cap = this.cap;
    if (cap === undefined) return;
    cap.removeAllListeners('packet');
    cap.close();
    this.cap = undefined;
    const finish = this.finish;
    this.finish = undefined;
    finish?.();
  }

  progress(): CaptureProgress {
    return { bytes_read: this.count.frame_bytes, bytes_total: 0, frames: this.count.frames };
  }

  counters(): CaptureCountersSnapshot {
    return { ...this.count };
  }

  stats(): LiveCaptureStats {
    const now = this.readRxDropped();
    return {
      received: this.count.frames,
      pcap_dropped: null,
      if_rx_dropped: now === null || this.rxDroppedAtStart === null ? null : now - this.rxDroppedAtStart,
    };
  }

  private readRxDropped(): number | null {
    try {
      return Number(readFileSync(`/sys/class/net/${this.options.interface}/statistics/rx_dropped`, 'utf8').trim());
    } catch {
      return null;
    }
  }
}
