/**
 * Flow JSONL sink: one `FlowRecord` per line, in the order flows end, for forensics (`flows.jsonl`).
 *
 * Writes are synchronous and batched (64 KiB): the flow table calls `write` from its packet loop, so the sink must
 * not queue without bound; a synchronous batch write keeps memory flat and the file complete when `close` returns.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { WardwatchError } from '../../errors.js';
import type { FlowRecord } from '../../records/flow.js';

const BATCH_BYTES = 64 * 1024;

export class FlowJsonlWriter {
  private fd: number;
  private chunks: string[] = [];
  private pending = 0;
  private records = 0;

  /** Opens (truncates, or appends with `append: true`) the file. */
  constructor(
    readonly path: string,
    options: { append?: boolean } = {},
  ) {
    try {
      this.fd = openSync(path, options.append === true ? 'a' : 'w');
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
    if (this.pending >= BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0 || this.fd < 0) return;
    writeSync(this.fd, this.chunks.join(''));
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
