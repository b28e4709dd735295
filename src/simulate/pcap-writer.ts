/**
 * Streaming capture writer: classic pcap (µs or ns timestamps) or pcapng (one Ethernet interface, if_tsresol set),
 * written through a fixed 1 MiB buffer with synchronous writes, so memory stays bounded whatever the capture size.
 *
 * Times are integers in microseconds since the epoch (the simulator's clock); the ns format writes µs × 1000.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type CaptureFormat = 'pcap' | 'pcapng';
export type TimestampResolution = 'us' | 'ns';

const LINKTYPE_ETHERNET = 1;
const BUFFER_BYTES = 1 << 20;

export interface CaptureWriterOptions {
  format: CaptureFormat;
  resolution: TimestampResolution;
  snaplen?: number;
}

export class CaptureWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(BUFFER_BYTES);
  private used = 0;
  private closed = false;
  readonly snaplen: number;
  frames = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    readonly options: CaptureWriterOptions,
  ) {
    this.snaplen = options.snaplen ?? 65535;
    this.fd = openSync(path, 'w');
    if (options.format === 'pcap') this.writePcapHeader();
    else this.writePcapngHeader();
  }

  private reserve(n: number): Buffer {
    if (this.used + n > this.buf.length) this.flush();
    if (n > this.buf.length) throw new RangeError(`block of ${n} bytes exceeds the writer buffer`);
    const view = this.buf.subarray(this.used, this.used + n);
    this.used += n;
    this.bytes += n;
    return view;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  private writePcapHeader(): void {
    const h = this.reserve(24);
    h.writeUInt32LE(this.options.resolution === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(this.snaplen, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  }

  private writePcapngHeader(): void {
    // Section Header Block: no options.
    const shb = this.reserve(28);
    shb.writeUInt32LE(0x0a0d0d0a, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    shb.writeUInt16LE(1, 12);
    shb.writeUInt16LE(0, 14);
    shb.writeInt32LE(-1, 16);
    shb.writeInt32LE(-1, 20);
    shb.writeUInt32LE(28, 24);
    // Interface Description Block with if_tsresol (code 9, 1 byte: 6 = µs, 9 = ns) and opt_endofopt.
    const idb = this.reserve(32);
    idb.writeUInt32LE(1, 0);
    idb.writeUInt32LE(32, 4);
    idb.writeUInt16LE(LINKTYPE_ETHERNET, 8);
    idb.writeUInt16LE(0, 10);
    idb.writeUInt32LE(this.snaplen, 12);
    idb.writeUInt16LE(9, 16);
    idb.writeUInt16LE(1, 18);
    idb.writeUInt32LE(this.options.resolution === 'ns' ? 9 : 6, 20); // value byte + 3 padding bytes
    idb.writeUInt32LE(0, 24); // opt_endofopt
    idb.writeUInt32LE(32, 28);
  }

  /** Appends one frame captured at `tUs` (µs since the epoch). */
  write(tUs: number, frame: Buffer): void {
    if (this.closed) throw new Error('capture writer is closed');
    const capLen = Math.min(frame.length, this.snaplen);
    if (this.options.format === 'pcap') {
      const h = this.reserve(16 + capLen);
      const sec = Math.floor(tUs / 1e6);
      const frac = tUs - sec * 1e6;
      h.writeUInt32LE(sec, 0);
      h.writeUInt32LE(this.options.resolution === 'ns' ? frac * 1000 : frac, 4);
      h.writeUInt32LE(capLen, 8);
      h.writeUInt32LE(frame.length, 12);
      frame.copy(h, 16, 0, capLen);
    } else {
      const ticks = this.options.resolution === 'ns' ? BigInt(tUs) * 1000n : BigInt(tUs);
      const padded = (capLen + 3) & ~3;
      const total = 32 + padded;
      const b = this.reserve(total);
      b.writeUInt32LE(6, 0);
      b.writeUInt32LE(total, 4);
      b.writeUInt32LE(0, 8);
      b.writeUInt32LE(Number(ticks >> 32n), 12);
      b.writeUInt32LE(Number(ticks & 0xffffffffn), 16);
      b.writeUInt32LE(capLen, 20);
      b.writeUInt32LE(frame.length, 24);
      frame.copy(b, 28, 0, capLen);
      b.fill(0, 28 + capLen, 28 + padded);
      b.writeUInt32LE(total, 28 + padded);
    }
    this.frames++;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    closeSync(this.fd);
    this.closed = true;
  }
}
