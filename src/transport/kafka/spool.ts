/**
 * On-disk FIFO spool for messages the broker could not take (an outage longer than the memory buffer covers).
 * Bounded by `max_bytes`; survives a restart of the sensor (pending messages are sent first at the next start).
 *
 * Files in `dir`: segments `seg-<n>.wws`, each a sequence of records
 *   u32 record length (after this field) | u16 key length | key | u8 format length | format | value
 * and `head.json` = { segment, offset } of the first unsent record (written after every acknowledged batch).
 * A segment is deleted once every record in it was acknowledged. Sync I/O: the spool is only used during outages,
 * and each call writes or reads one batch.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EncodedMessage } from '../codec.js';

export interface SpoolOptions {
  dir: string;
  max_bytes: number;
  segment_bytes: number;
}

interface Position {
  segment: number;
  offset: number;
}

const SEGMENT_RE = /^seg-(\d{10})\.wws$/;

export class DiskSpool {
  private segments: number[] = [];
  private head: Position = { segment: 0, offset: 0 };
  private writeFd: number | undefined;
  private writeSize = 0;
  private bytes = 0;
  private count = 0;
  /** Records read by the last `peek`: the position after each, and each one's size. */
  private peeked: { ends: Position[]; sizes: number[] } | undefined;

  constructor(private readonly options: SpoolOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.segments = readdirSync(options.dir)
      .map((f) => SEGMENT_RE.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const headFile = path.join(options.dir, 'head.json');
    if (existsSync(headFile)) {
      try {
        this.head = JSON.parse(readFileSync(headFile, 'utf8')) as Position;
      } catch {
        this.head = { segment: this.segments[0] ?? 0, offset: 0 };
      }
    } else {
      this.head = { segment: this.segments[0] ?? 0, offset: 0 };
    }
    this.segments = this.segments.filter((s) => s >= this.head.segment);
    // Count what a previous run left behind.
    for (const seg of this.segments) {
      const start = seg === this.head.segment ? this.head.offset : 0;
      for (const rec of this.scan(seg, start, Infinity)) {
        this.count++;
        this.bytes += rec.size;
      }
    }
  }

  /** Messages waiting in the spool. */
  get pending(): number {
    return this.count;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Appends messages; returns how many fitted (the rest would exceed `max_bytes`). */
  append(messages: readonly EncodedMessage[]): number {
    let written = 0;
    const chunks: Buffer[] = [];
    let chunkBytes = 0;
    for (const m of messages) {
      const key = Buffer.from(m.key, 'utf8');
      const fmt = Buffer.from(m.format, 'utf8');
      const size = 4 + 2 + key.length + 1 + fmt.length + m.value.length;
      if (this.bytes + chunkBytes + size > this.options.max_bytes) break;
      const rec = Buffer.allocUnsafe(size);
      let o = rec.writeUInt32BE(size - 4, 0);
      o = rec.writeUInt16BE(key.length, o);
      o += key.copy(rec, o);
      o = rec.writeUInt8(fmt.length, o);
      o += fmt.copy(rec, o);
      m.value.copy(rec, o);
      chunks.push(rec);
      chunkBytes += size;
      written++;
    }
    if (written === 0) return 0;
    const data = Buffer.concat(chunks, chunkBytes);
    if (this.writeFd === undefined || this.writeSize >= this.options.segment_bytes) this.roll();
    writeSync(this.writeFd!, data);
    this.writeSize += data.length;
    this.bytes += chunkBytes;
    this.count += written;
    return written;
  }

  /** Reads up to `max` messages from the head without removing them; `commit()` removes them. */
  peek(max: number): EncodedMessage[] {
    const out: EncodedMessage[] = [];
    const ends: Position[] = [];
    const sizes: number[] = [];
    for (const seg of this.segments) {
      if (seg < this.head.segment) continue;
      const start = seg === this.head.segment ? this.head.offset : 0;
      for (const rec of this.scan(seg, start, max - out.length)) {
        out.push(rec.message);
        sizes.push(rec.size);
        ends.push({ segment: seg, offset: rec.end });
      }
      if (out.length >= max) break;
    }
    this.peeked = { ends, sizes };
    return out;
  }

  /** Removes the first `n` (default: all) of the messages returned by the last `peek`. */
  commit(n?: number): void {
    if (!this.peeked || this.peeked.ends.length === 0) return;
    const count = Math.min(n ?? this.peeked.ends.length, this.peeked.ends.length);
    if (count === 0) return;
    const end = this.peeked.ends[count - 1]!;
    const bytes = this.peeked.sizes.slice(0, count).reduce((a, b) => a + b, 0);
    this.peeked = undefined;
    this.count -= count;
    this.bytes -= bytes;
    // Segments wholly before the new head are done.
    for (const seg of this.segments.filter((s) => s < end.segment)) rmSync(this.segmentPath(seg), { force: true });
    this.segments = this.segments.filter((s) => s >= end.segment);
    this.head = end;
    if (this.count === 0) {
      // Empty: start afresh so the folder does not keep growing segments.
      this.closeWriter();
      for (const seg of this.segments) rmSync(this.segmentPath(seg), { force: true });
      const next = (this.segments.at(-1) ?? this.head.segment) + 1;
      this.segments = [];
      this.head = { segment: next, offset: 0 };
    }
    writeFileSync(path.join(this.options.dir, 'head.json'), JSON.stringify(this.head));
  }

  close(): void {
    this.closeWriter();
  }

  private closeWriter(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
  }

  private roll(): void {
    this.closeWriter();
    const next = Math.max(this.head.segment, (this.segments.at(-1) ?? this.head.segment - 1) + 1);
    this.writeFd = openSync(this.segmentPath(next), 'a');
    this.writeSize = fstatSync(this.writeFd).size;
    if (!this.segments.includes(next)) this.segments.push(next);
  }

  private segmentPath(seg: number): string {
    return path.join(this.options.dir, `seg-${String(seg).padStart(10, '0')}.wws`);
  }

  private *scan(seg: number, start: number, max: number): Generator<{ message: EncodedMessage; size: number; end: number }> {
    const file = this.segmentPath(seg);
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      let off = start;
      let n = 0;
      const lenBuf = Buffer.allocUnsafe(4);
      while (n < max && off + 4 <= size) {
        readSync(fd, lenBuf, 0, 4, off);
        const len = lenBuf.readUInt32BE(0);
        if (off + 4 + len > size) break; // torn write at the end of a crashed run: ignore the partial record
        const rec = Buffer.allocUnsafe(len);
        readSync(fd, rec, 0, len, off + 4);
        const keyLen = rec.readUInt16BE(0);
        const key = rec.toString('utf8', 2, 2 + keyLen);
        const fmtLen = rec.readUInt8(2 + keyLen);
        const format = rec.toString('utf8', 3 + keyLen, 3 + keyLen + fmtLen);
        const value = rec.subarray(3 + keyLen + fmtLen);
        off += 4 + len;
        n++;
        yield { message: { key, format, value }, size: 4 + len, end: off };
      }
    } finally {
      closeSync(fd);
    }
  }
}
