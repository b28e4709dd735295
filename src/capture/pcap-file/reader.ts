/**
 * Streaming reader for capture files: classic pcap (µs and ns, either byte order) and pcapng (SHB, IDB, EPB, SPB and
 * the obsolete PB; several interfaces and sections; per-interface `if_tsresol`/`if_tsoffset`; other blocks skipped),
 * optionally gzip-compressed (detected by content, not by name).
 *
 * Memory is one buffer (1 MiB, grown only for a record larger than that, up to 16 MiB), whatever the file size.
 * Records are parsed at offsets in that buffer and handed out in one reused `CapturedFrame` (`data` = the buffer,
 * `data_offset` = where the frame starts): nothing is allocated per frame.
 *
 * Bad input is counted per reason (`CaptureCountersSnapshot`) and skipped; when the framing itself is lost (a length
 * beyond any plausible size, a cut-off file) the read ends and the reason is counted. A file that is not a capture at
 * all is refused up front with one `CaptureError` (code `WW_CAPTURE_NOT_A_CAPTURE`).
 */
import { stat } from 'node:fs/promises';
import type { CapturedFrame } from '../../records/packet.js';
import { CaptureError } from '../../errors.js';
import { componentLogger } from '../../log.js';
import {
  captureCutShort,
  newCaptureCounters,
  newCapturedFrame,
  type CaptureCountersSnapshot,
  type CaptureProgress,
  type CaptureSource,
  type FrameHandler,
} from '../source.js';
import { GzipFileSource, GzipStreamError, PlainFileSource, type ByteSource } from './byte-source.js';
import { splitTimestamp, tsOut, tsUnitFromResol, type TsUnit } from './timestamp.js';

export type CaptureFileFormat = 'pcap' | 'pcapng';

/** Classic pcap magics as read little-endian from the first 4 bytes. */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

const INITIAL_BUFFER = 1 << 20;
/** Largest record or block accepted; beyond this the length field is taken as corrupt. */
export const MAX_RECORD_BYTES = 16 << 20;
/** Classic pcap: largest record accepted when the header's snaplen is smaller (libpcap's MAXIMUM_SNAPLEN). */
const PCAP_MAX_SNAPLEN = 262144;

export interface PcapFileOptions {
  /** Read buffer size in bytes (default 1 MiB). */
  buffer_bytes?: number;
}

const log = componentLogger('capture');

export class PcapFileSource implements CaptureSource {
  readonly description: string;
  readonly format: CaptureFileFormat;
  readonly compressed: boolean;

  private buf: Buffer;
  /** Parse position and end of valid data in `buf`. */
  private pos = 0;
  private end = 0;
  private eof = false;
  private ended = false;
  private stopped = false;
  private closed = false;
  private readonly frame: CapturedFrame = newCapturedFrame();
  private readonly count: CaptureCountersSnapshot = newCaptureCounters();

  // Classic pcap state.
  private le = true;
  private nanos = false;
  private snaplen = 0;
  private linktype = 0;

  // pcapng state (per section).
  private ifLinktype: number[] = [];
  private ifSnaplen: number[] = [];
  private ifTs: TsUnit[] = [];

  private constructor(
    readonly path: string,
    private readonly bytes: ByteSource,
    private readonly fileSize: number,
    compressed: boolean,
    format: CaptureFileFormat,
    bufferBytes: number,
  ) {
    this.description = path;
    this.compressed = compressed;
    this.format = format;
    this.buf = Buffer.allocUnsafe(bufferBytes);
    this.frame.data = this.buf;
  }

  /**
   * Opens a capture file and reads its header. Throws `CaptureError` with code `WW_CAPTURE_NOT_A_CAPTURE` when the
   * content is neither pcap nor pcapng (gzip-wrapped or not), `WW_CAPTURE_UNREADABLE` when it cannot be opened.
   */
  static async open(path: string, options: PcapFileOptions = {}): Promise<PcapFileSource> {
    let size: number;
    let probe: PlainFileSource;
    try {
      size = (await stat(path)).size;
      probe = await PlainFileSource.open(path);
    } catch (err) {
      throw new CaptureError(path, `cannot open capture file: ${(err as Error).message}`, { cause: err });
    }
    const head = Buffer.alloc(2);
    const n = await probe.read(head, 0, 2);
    const gz = n === 2 && head[0] === 0x1f && head[1] === 0x8b;
    await probe.close();
    const bytes: ByteSource = gz ? new GzipFileSource(path) : await PlainFileSource.open(path);
    const bufferBytes = Math.max(64 * 1024, options.buffer_bytes ?? INITIAL_BUFFER);
    const src = new PcapFileSource(path, bytes, size, gz, 'pcap', bufferBytes);
    try {
      await src.readHeader();
    } catch (err) {
      await bytes.close();
      throw err;
    }
    return src;
  }

  progress(): CaptureProgress {
    return { bytes_read: this.bytes.fileBytesRead(), bytes_total: this.fileSize, frames: this.count.frames };
  }

  counters(): CaptureCountersSnapshot {
    return { ...this.count };
  }

  stop(): void {
    this.stopped = true;
  }

  async forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    try {
      for (;;) {
        while (!this.stopped && this.next()) {
          const r = handler(this.frame);
          if (r !== undefined) await r;
        }
        if (this.stopped || !(await this.fill())) break;
      }
    } finally {
      await this.close();
    }
    return this.counters();
  }

  /** The same frames as an async iterator (one await per frame: slower than `forEachFrame`). */
  async *frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    try {
      for (;;) {
        while (!this.stopped && this.next()) yield this.frame;
        if (this.stopped || !(await this.fill())) break;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bytes.close();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private notACapture(detail: string): CaptureError {
    return new CaptureError(this.path, `not a pcap or pcapng capture file (${detail})`, {
      code: 'WW_CAPTURE_NOT_A_CAPTURE',
    });
  }

  private async readHeader(): Promise<void> {
    await this.ensure(24);
    const avail = this.end - this.pos;
    if (avail < 4) throw this.notACapture(avail === 0 ? 'empty file' : `only ${avail} bytes`);
    const magic = this.buf.readUInt32LE(0);
    const b = this.buf;
    const firstBytes = Array.from(b.subarray(0, Math.min(4, avail)), (x) => x.toString(16).padStart(2, '0')).join(' ');
    if (magic === PCAPNG_SHB) {
      (this as { format: CaptureFileFormat }).format = 'pcapng';
      if (avail < 12) throw this.notACapture('pcapng section header cut short');
      const bom = b.readUInt32LE(8);
      if (bom !== PCAPNG_BOM && b.readUInt32BE(8) !== PCAPNG_BOM) throw this.notACapture('pcapng byte-order magic missing');
      return; // the SHB itself is parsed by next()
    }
    let le: boolean;
    let nanos: boolean;
    if (magic === PCAP_MAGIC_US) [le, nanos] = [true, false];
    else if (magic === PCAP_MAGIC_NS) [le, nanos] = [true, true];
    else if (magic === PCAP_MAGIC_US_SWAPPED) [le, nanos] = [false, false];
    else if (magic === PCAP_MAGIC_NS_SWAPPED) [le, nanos] = [false, true];
    else throw this.notACapture(`first bytes ${firstBytes}`);
    if (avail < 24) throw this.notACapture('pcap file header cut short');
    this.le = le;
    this.nanos = nanos;
    const major = le ? b.readUInt16LE(4) : b.readUInt16BE(4);
    if (major !== 2) throw this.notACapture(`pcap major version ${major}`);
    this.snaplen = le ? b.readUInt32LE(16) : b.readUInt32BE(16);
    const network = le ? b.readUInt32LE(20) : b.readUInt32BE(20);
    this.linktype = network & 0x03ffffff; // upper bits: FCS length flags
    this.pos = 24;
  }

  /** Reads until at least `n` bytes are buffered from `pos` or the data ends. */
  private async ensure(n: number): Promise<void> {
    while (this.end - this.pos < n && !this.eof) await this.readMore(n);
  }

  /**
   * Moves the unparsed tail to the front (growing the buffer if one record needs more room) and reads more.
   * Resolves false when nothing more can be read.
   */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    if (this.eof) {
      // Leftover bytes that never formed a whole record: a cut-off file.
      if (this.end > this.pos) this.count.truncated_record++;
      this.pos = this.end;
      this.ended = true;
      // Said once, when the read ends, by every command that reads a file (run, replay, train, evaluate, sensor -r).
      const cut = captureCutShort(this.count);
      if (cut) log.warn({ file: this.path, frames: this.count.frames, truncated_record: this.count.truncated_record, gzip_corrupt: this.count.gzip_corrupt }, `${this.path}: ${cut}`);
      return false;
    }
    await this.readMore(this.needed);
    return true;
  }

  /** Bytes the parser needs from `pos` for its next step (set by next() when it returns false). */
  private needed = 16;

  private async readMore(need: number): Promise<void> {
    const tail = this.end - this.pos;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_RECORD_BYTES + 64, Math.max(need, this.buf.length * 2)));
      this.buf.copy(grown, 0, this.pos, this.end);
      this.buf = grown;
      this.frame.data = grown;
    } else if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
    }
    this.pos = 0;
    this.end = tail;
    let n: number;
    try {
      n = await this.bytes.read(this.buf, this.end, this.buf.length - this.end);
    } catch (err) {
      if (err instanceof GzipStreamError) {
        this.count.gzip_corrupt++;
        n = 0;
      } else {
        throw new CaptureError(this.path, `read failed: ${(err as Error).message}`, { cause: err });
      }
    }
    if (n === 0) this.eof = true;
    this.end += n;
  }

  /** Parses the next frame from the buffer into `this.frame`. False when more bytes are needed (or at the end). */
  private next(): boolean {
    if (this.ended) return false;
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  private nextPcap(): boolean {
    const b = this.buf;
    const le = this.le;
    for (;;) {
      const p = this.pos;
      if (this.end - p < 16) {
        this.needed = 16;
        return false;
      }
      const tsSec = le ? le32(b, p) : be32(b, p);
      const tsFrac = le ? le32(b, p + 4) : be32(b, p + 4);
      const incl = le ? le32(b, p + 8) : be32(b, p + 8);
      let orig = le ? le32(b, p + 12) : be32(b, p + 12);
      const limit = this.snaplen > PCAP_MAX_SNAPLEN ? this.snaplen : PCAP_MAX_SNAPLEN;
      if (incl > MAX_RECORD_BYTES || incl > limit) {
        // No way to find the next record boundary: stop here.
        this.count.record_too_large++;
        this.ended = true;
        return false;
      }
      if (this.end - p < 16 + incl) {
        this.needed = 16 + incl;
        return false;
      }
      this.pos = p + 16 + incl;
      if (this.snaplen > 0 && incl > this.snaplen) {
        this.count.record_exceeds_snaplen++;
        continue;
      }
      if (orig < incl) {
        this.count.orig_len_below_cap_len++;
        orig = incl;
      }
      let nsec = tsFrac;
      if (this.nanos) {
        if (tsFrac >= 1000000000) this.count.bad_timestamp++;
      } else {
        if (tsFrac >= 1000000) this.count.bad_timestamp++;
        nsec = tsFrac * 1000;
      }
      const f = this.frame;
      f.ts_sec = tsSec;
      f.ts_nsec = nsec;
      f.cap_len = incl;
      f.orig_len = orig;
      f.linktype = this.linktype;
      f.interface_id = 0;
      f.data_offset = p + 16;
      this.count.frames++;
      this.count.frame_bytes += incl;
      return true;
    }
  }

  private nextPcapng(): boolean {
    const b = this.buf;
    for (;;) {
      const p = this.pos;
      if (this.end - p < 12) {
        this.needed = 12;
        return false;
      }
      let type = this.le ? b.readUInt32LE(p) : b.readUInt32BE(p);
      if (type === PCAPNG_SHB) {
        // A section header sets the byte order for everything up to the next one.
        const bom = b.readUInt32LE(p + 8);
        if (bom === PCAPNG_BOM) this.le = true;
        else if (b.readUInt32BE(p + 8) === PCAPNG_BOM) this.le = false;
        else {
          this.count.pcapng_bad_section++;
          this.ended = true;
          return false;
        }
        type = PCAPNG_SHB;
      }
      const le = this.le;
      const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
      if (len < 12 || len % 4 !== 0) {
        this.count.pcapng_bad_block_length++;
        this.ended = true;
        return false;
      }
      if (len > MAX_RECORD_BYTES) {
        this.count.record_too_large++;
        this.ended = true;
        return false;
      }
      if (this.end - p < len) {
        this.needed = len;
        return false;
      }
      this.pos = p + len;
      const trailer = le ? b.readUInt32LE(p + len - 4) : b.readUInt32BE(p + len - 4);
      if (trailer !== len) this.count.pcapng_bad_block_length++;

      if (type === BLOCK_EPB || type === BLOCK_PB) {
        if (len < 32) {
          this.count.pcapng_bad_block_length++;
          continue;
        }
        const ifId = type === BLOCK_EPB ? (le ? le32(b, p + 8) : be32(b, p + 8)) : le ? b.readUInt16LE(p + 8) : b.readUInt16BE(p + 8);
        const hi = le ? le32(b, p + 12) : be32(b, p + 12);
        const lo = le ? le32(b, p + 16) : be32(b, p + 16);
        const capLen = le ? le32(b, p + 20) : be32(b, p + 20);
        let orig = le ? le32(b, p + 24) : be32(b, p + 24);
        const unit = this.ifTs[ifId];
        if (unit === undefined) {
          this.count.pcapng_unknown_interface++;
          continue;
        }
        if (capLen > len - 32) {
          this.count.pcapng_packet_exceeds_block++;
          continue;
        }
        const snap = this.ifSnaplen[ifId] ?? 0;
        if (snap > 0 && capLen > snap) {
          this.count.record_exceeds_snaplen++;
          continue;
        }
        if (orig < capLen) {
          this.count.orig_len_below_cap_len++;
          orig = capLen;
        }
        splitTimestamp(hi, lo, unit);
        return this.emit(tsOut.sec, tsOut.nsec, capLen, orig, ifId, p + 28);
      }
      if (type === BLOCK_SPB) {
        if (len < 16) {
          this.count.pcapng_bad_block_length++;
          continue;
        }
        if (this.ifTs.length === 0) {
          this.count.pcapng_unknown_interface++;
          continue;
        }
        const orig = le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
        let capLen = Math.min(orig, len - 16);
        const snap = this.ifSnaplen[0] ?? 0;
        if (snap > 0 && capLen > snap) capLen = snap;
        return this.emit(0, 0, capLen, orig, 0, p + 12);
      }
      if (type === PCAPNG_SHB) {
        const major = le ? b.readUInt16LE(p + 12) : b.readUInt16BE(p + 12);
        if (major !== 1) {
          this.count.pcapng_bad_section++;
          this.ended = true;
          return false;
        }
        this.ifLinktype = [];
        this.ifSnaplen = [];
        this.ifTs = [];
        continue;
      }
      if (type === BLOCK_IDB) {
        this.readIdb(p, len);
        continue;
      }
      this.count.pcapng_skipped_blocks++;
    }
  }

  private emit(sec: number, nsec: number, capLen: number, orig: number, ifId: number, at: number): boolean {
    const f = this.frame;
    f.ts_sec = sec;
    f.ts_nsec = nsec;
    f.cap_len = capLen;
    f.orig_len = orig;
    f.linktype = this.ifLinktype[ifId] ?? 0;
    f.interface_id = ifId;
    f.data_offset = at;
    this.count.frames++;
    this.count.frame_bytes += capLen;
    return true;
  }

  private readIdb(p: number, len: number): void {
    const b = this.buf;
    const le = this.le;
    if (len < 20) {
      this.count.pcapng_bad_block_length++;
      // Keep interface numbering aligned with the file even for a broken IDB.
      this.ifLinktype.push(0);
      this.ifSnaplen.push(0);
      this.ifTs.push(tsUnitFromResol(6, 0));
      return;
    }
    const linktype = le ? b.readUInt16LE(p + 8) : b.readUInt16BE(p + 8);
    const snaplen = le ? b.readUInt32LE(p + 12) : b.readUInt32BE(p + 12);
    let resol = 6;
    let offsetSec = 0;
    let o = p + 16;
    const optEnd = p + len - 4;
    while (o + 4 <= optEnd) {
      const code = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
      const olen = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
      if (code === 0) break; // opt_endofopt
      const v = o + 4;
      if (v + olen > optEnd) {
        this.count.pcapng_bad_option++;
        break;
      }
      if (code === 9 && olen >= 1) resol = b[v] ?? 6;
      else if (code === 14 && olen >= 8) {
        const hi = le ? b.readInt32LE(v + 4) : b.readInt32BE(v);
        const lo = le ? b.readUInt32LE(v) : b.readUInt32BE(v + 4);
        offsetSec = hi * 4294967296 + lo;
      }
      o = v + ((olen + 3) & ~3);
    }
    this.ifLinktype.push(linktype);
    this.ifSnaplen.push(snaplen);
    this.ifTs.push(tsUnitFromResol(resol, offsetSec));
  }
}

/** Unsigned 32-bit reads without Buffer's per-call argument validation (offsets are checked by the caller). */
function le32(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}

function be32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/**
 * Opens a capture file (pcap, pcapng, either optionally gzip-compressed) for streaming. Throws one `CaptureError`
 * (`WW_CAPTURE_NOT_A_CAPTURE`) when the file is not a capture, `WW_CAPTURE_UNREADABLE` when it cannot be read.
 */
export function readCapture(path: string, options: PcapFileOptions = {}): Promise<PcapFileSource> {
  return PcapFileSource.open(path, options);
}
