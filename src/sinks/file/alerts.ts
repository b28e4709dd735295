/**
 * Alerts as JSONL (one `Alert` record per line, src/records/alert.ts), rotated by size. A redelivered alert (same
 * `alert_id`) seen in this process is written once.
 */
import type { Alert } from '../../records/alert.js';
import { RotatingJsonl, type RotatingJsonlOptions } from './rotating-jsonl.js';

export const DEFAULT_ALERT_FILE: RotatingJsonlOptions = { file: 'out/alerts.jsonl', max_bytes: 100 * 1024 * 1024, keep: 5 };

export class AlertFileSink {
  private readonly file: RotatingJsonl;
  private readonly seen = new Set<string>();

  constructor(options: Partial<RotatingJsonlOptions> = {}) {
    this.file = new RotatingJsonl({ ...DEFAULT_ALERT_FILE, ...options });
  }

  write(alerts: readonly Alert[]): void {
    const fresh = alerts.filter((a) => !this.seen.has(a.alert_id));
    for (const a of fresh) this.seen.add(a.alert_id);
    if (this.seen.size > 1_000_000) this.seen.clear(); // bound memory; duplicates after this are possible, and harmless
    this.file.write(fresh);
  }

  get written(): number {
    return this.file.lines_written;
  }
}
