/**
 * Append-only JSONL file rotated by size: `alerts.jsonl` → `alerts.1.jsonl` → ... → `alerts.<keep>.jsonl`
 * (the oldest is deleted). One record per line, written with one `appendFileSync` per batch so a crash leaves whole
 * lines. Forensic outputs (alerts, flows) use it.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export interface RotatingJsonlOptions {
  file: string;
  /** Rotate when the file would exceed this size. 0 = never rotate. */
  max_bytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

/** `alerts.jsonl` → `alerts.<n>.jsonl`. */
export function rotatedPath(file: string, n: number): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${n}${ext}`;
}

/** Shifts `file` to `<file>.1`, `.1` to `.2`, ... keeping `keep` old files (0: the current file is deleted). */
export function rotateFiles(file: string, keep: number): void {
  if (keep <= 0) {
    rmSync(file, { force: true });
    return;
  }
  rmSync(rotatedPath(file, keep), { force: true });
  for (let n = keep - 1; n >= 1; n--) if (existsSync(rotatedPath(file, n))) renameSync(rotatedPath(file, n), rotatedPath(file, n + 1));
  if (existsSync(file)) renameSync(file, rotatedPath(file, 1));
}

export class RotatingJsonl {
  private size: number;
  lines_written = 0;
  rotations = 0;

  constructor(readonly o: RotatingJsonlOptions) {
    mkdirSync(path.dirname(o.file), { recursive: true });
    this.size = existsSync(o.file) ? statSync(o.file).size : 0;
  }

  write(records: readonly unknown[]): void {
    if (records.length === 0) return;
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    if (this.o.max_bytes > 0 && this.size > 0 && this.size + bytes > this.o.max_bytes) this.rotate();
    appendFileSync(this.o.file, text);
    this.size += bytes;
    this.lines_written += records.length;
  }

  /** Path of rotated file n (1 = newest). */
  rotatedPath(n: number): string {
    return rotatedPath(this.o.file, n);
  }

  private rotate(): void {
    rotateFiles(this.o.file, this.o.keep);
    this.size = 0;
    this.rotations++;
  }
}
