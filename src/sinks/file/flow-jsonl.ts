/**
 * Flow JSONL sink: one `FlowRecord` per line, in the order flows end, for forensics (`flows.jsonl`).
 *
 * Writes are synchronous and batched (64 KiB): the flow table calls `write` from its packet loop, so the sink must
 * not queue without bound; a synchronous batch write keeps memory flat and the file complete when `close` returns.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { rotateFiles } from './rotating-jsonl.js';
import { WardwatchError } from '../../errors.js';
import type { FlowRecord } from '../../records/flow.js';

const BATCH_BYTES = 64 * 1024;

export class FlowJsonlWriter {
  private fd: number;
  private chunks: string[] = [];
  private pending = 0;
  private records = 0;

  private size = 0;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly batchBytes: number;

  /**
   * Opens (truncates, or appends with `append: true`) the file. With `max_bytes` > 0 the file is rotated before it
   * would exceed that size (`flows.jsonl` → `flows.1.jsonl` ..., `keep` old files).
   */
  constructor(
    readonly path: string,
    options: { append?: boolean; max_bytes?: number; keep?: number } = {},
  ) {
    this.maxBytes = options.max_bytes ?? 0;
    this.keep = options.keep ?? 5;
    // Small rotation sizes flush in smaller batches so a file stays close to max_bytes.
    this.batchBytes = this.maxBytes > 0 ? Math.min(BATCH_BYTES, Math.max(1024, Math.floor(this.maxBytes / 4))) : BATCH_BYTES;
    try {
      this.fd = openSync(path, options.append === true ? 'a' : 'w');
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      throw new WardwatchError('WW_SINK_UNWRITABLE', `${path}: cannot open flow log: ${(err as Error).message}`, { cause: err });
    }
  }

  get written(): number {
    return this.records;
  }

  write(record: FlowRecord): void {
    if (this.fd < 0) throw new WardwatchError('WW_SINK_CLOSED', `${this.path}: flow log is closed`);
    const line = `${JSON.stringify(record)}\n`;
    this.chunks.push(line);
    this.pending += line.length;
    this.records++;
    if (this.pending >= this.batchBytes) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0 || this.fd < 0) return;
    const text = this.chunks.join('');
    const bytes = Buffer.byteLength(text);
    if (this.maxBytes > 0 && this.size > 0 && this.size + bytes > this.maxBytes) {
      closeSync(this.fd);
      rotateFiles(this.path, this.keep);
      this.fd = openSync(this.path, 'w');
      this.size = 0;
    }
    writeSync(this.fd, text);
    this.size += bytes;
    this.chunks = [];
    this.pending = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
