/**
 * Live capture from a network interface through libpcap (the `cap` binding), receive-only: the sensor never
 * transmits (the binding's `send` is never called and not exposed). `cap` opens the interface in promiscuous,
 * immediate mode.
 *
 * `cap` 0.2.1 as published lacks what a sensor needs, so wardwatch patches it (patches/cap+0.2.1.patch, applied and
 * built by the npm postinstall, scripts/install-cap.sh): `stats()` wraps `pcap_stats` (ps_recv / ps_drop /
 * ps_ifdrop), 'packet' listeners also get the pcap header's timestamp (s, µs) and original length, `open` takes the
 * libpcap snaplen, and a failed `open` no longer crashes the process when the object is collected. An unpatched or
 * unbuilt binding is refused with one clear error (`WW_CAPTURE_BINDING`) instead of capturing with guessed numbers.
 */
import { createRequire } from 'node:module';
import { CaptureError } from '../../errors.js';
import { LinkType } from '../../records/packet.js';
import { newCaptureCounters, newCapturedFrame, type CaptureCountersSnapshot, type CaptureProgress, type CaptureSource, type FrameHandler } from '../source.js';

/** libpcap's `struct pcap_stat` as the patched binding returns it (32-bit counters, cumulative since open). */
interface PcapStat {
  ps_recv: number;
  ps_drop: number;
  ps_ifdrop: number;
}
interface CapBinding {
  open(device: string, filter: string, bufSize: number, buffer: Buffer, snaplen: number): string;
  close(): void;
  stats(): PcapStat;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean, tsSec: number, tsUsec: number, origLen: number) => void): void;
  removeAllListeners(event?: string): void;
}
interface CapModule {
  Cap: (new () => CapBinding) & { prototype: Partial<CapBinding> };
  deviceList(): { name: string; description?: string; flags?: string }[];
}

const requireCjs = createRequire(import.meta.url);

/** Loads the patched `cap`; a missing, unbuilt or unpatched binding gives one `WW_CAPTURE_BINDING` error. */
function loadCap(source: string): CapModule {
  let mod: CapModule;
  try {
    mod = requireCjs('cap') as CapModule;
  } catch (err) {
    throw new CaptureError(source, `the libpcap binding (optional package cap) is not installed or not built: ${(err as Error).message.split('\n')[0]} — install libpcap-dev, python3, make and g++, then run 'npm run rebuild:cap'`, {
      cause: err,
      code: 'WW_CAPTURE_BINDING',
    });
  }
  if (typeof mod.Cap.prototype.stats !== 'function') {
    throw new CaptureError(source, "the libpcap binding (cap) was built without wardwatch's patch (patches/cap+0.2.1.patch: pcap_stats, header timestamps): run 'npm run rebuild:cap'", {
      code: 'WW_CAPTURE_BINDING',
    });
  }
  return mod;
}

export interface LiveCaptureOptions {
  /** Interface name, e.g. `eth1` (a SPAN/mirror port). */
  interface: string;
  /** BPF filter in pcap-filter syntax; empty = everything. */
  bpf_filter?: string;
  /** libpcap snaplen: bytes kept per frame (default 65535, 64..65535). */
  snaplen_bytes?: number;
  /** libpcap ring/buffer size in bytes (default 16 MiB). */
  buffer_size_bytes?: number;
}

/**
 * libpcap's own counters (`pcap_stats`) for the capture, cumulative since it started; after `stop()` the last values
 * read. On Linux: `pcap_received` counts every frame that passed the BPF filter, including those dropped;
 * `pcap_dropped` the ones dropped because the capture buffer was full (the sensor did not read fast enough);
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

const MAX_SNAPLEN = 65535;
const U32 = 0x1_0000_0000;

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
  private readonly buffer: Buffer;
  private readonly frame = newCapturedFrame();
  private readonly count = newCaptureCounters();
  private cap: CapBinding | undefined;
  private finish: (() => void) | undefined;
  private linktype = -1;
  /** The last `pcap_stat` read, and totals accumulated from successive reads (libpcap's counters wrap at 2^32). */
  private readonly raw: PcapStat = { ps_recv: 0, ps_drop: 0, ps_ifdrop: 0 };
  private readonly totals: PcapStat = { ps_recv: 0, ps_drop: 0, ps_ifdrop: 0 };

  constructor(private readonly options: LiveCaptureOptions) {
    this.description = `live:${options.interface}`;
    this.snaplen = Math.min(MAX_SNAPLEN, Math.max(64, Math.floor(options.snaplen_bytes ?? MAX_SNAPLEN)));
    this.bufferSize = options.buffer_size_bytes ?? 16 << 20;
    this.filter = options.bpf_filter ?? '';
    this.buffer = Buffer.alloc(this.snaplen);
    this.frame.data = this.buffer;
  }

  /** Interfaces libpcap can open (name, description). Throws `WW_CAPTURE_BINDING` without the patched binding. */
  static interfaces(): { name: string; description?: string }[] {
    return loadCap('live')
      .deviceList()
      .map((d) => ({ name: d.name, ...(d.description === undefined ? {} : { description: d.description }) }));
  }

  /** LINKTYPE_* of the open interface (-1 before `forEachFrame` opened it). */
  get linkType(): number {
    return this.linktype;
  }

  forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    if (this.cap !== undefined) return Promise.reject(new CaptureError(this.description, 'capture already running'));
    let mod: CapModule;
    try {
      mod = loadCap(this.description);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new CaptureError(this.description, String(err)));
    }
    const cap = new mod.Cap();
    let linkName: string;
    try {
      linkName = cap.open(this.options.interface, this.filter, this.bufferSize, this.buffer, this.snaplen);
    } catch (err) {
      const msg = (err as Error).message;
      const code = /syntax|filter|parse|expression/i.test(msg) ? 'WW_CAPTURE_BAD_FILTER' : 'WW_CAPTURE_INTERFACE';
      return Promise.reject(new CaptureError(this.description, `cannot capture (${msg})`, { cause: err, code }));
    }
    this.cap = cap;
    this.linktype = linktypeOf(linkName);
    const f = this.frame;
    f.linktype = this.linktype;
    f.interface_id = 0;
    f.data_offset = 0;
    return new Promise((resolve, reject) => {
      this.finish = () => resolve(this.counters());
      // The pcap header's timestamp (the kernel's receive time, µs) and original length, not our arrival time.
      cap.on('packet', (nbytes: number, truncated: boolean, tsSec: number, tsUsec: number, origLen: number) => {
        f.ts_sec = tsSec;
        f.ts_nsec = tsUsec * 1000;
        f.cap_len = nbytes;
        f.orig_len = origLen < nbytes ? nbytes : origLen;
        if (truncated) this.count.live_truncated++;
        else if (origLen > nbytes) this.count.live_snapped++;
        this.count.frames++;
        this.count.frame_bytes += nbytes;
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
    this.readStats(cap);
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

  /** Frames handed over and libpcap's counters (read now while capturing; the last values after `stop()`). */
  stats(): LiveCaptureStats {
    if (this.cap !== undefined) this.readStats(this.cap);
    return { received: this.count.frames, pcap_received: this.totals.ps_recv, pcap_dropped: this.totals.ps_drop, pcap_ifdropped: this.totals.ps_ifdrop };
  }

  /** libpcap's counters under their metric names (`/metrics`: `wardwatch_sensor_pcap_*`; docs/capture-decode.md). */
  metrics(): { pcap_received: number; pcap_dropped: number; pcap_ifdropped: number } {
    const s = this.stats();
    return { pcap_received: s.pcap_received, pcap_dropped: s.pcap_dropped, pcap_ifdropped: s.pcap_ifdropped };
  }

  private readStats(cap: CapBinding): void {
    let now: PcapStat;
    try {
      now = cap.stats();
    } catch {
      return; // the handle is closing: keep the last values read
    }
    this.totals.ps_recv += (now.ps_recv - this.raw.ps_recv + U32) % U32;
    this.totals.ps_drop += (now.ps_drop - this.raw.ps_drop + U32) % U32;
    this.totals.ps_ifdrop += (now.ps_ifdrop - this.raw.ps_ifdrop + U32) % U32;
    this.raw.ps_recv = now.ps_recv;
    this.raw.ps_drop = now.ps_drop;
    this.raw.ps_ifdrop = now.ps_ifdrop;
  }
}
