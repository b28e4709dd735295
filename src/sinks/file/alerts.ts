/**
 * Alerts as JSONL (one `Alert` record per line, src/records/alert.ts), rotated by size. A redelivered alert (same
 * `alert_id` and `ts`) seen in this process is written once; an incident's update (same `alert_id`, a later window's
 * `ts`: escalation) is a line of its own, whether or not it came in the same batch as the alert it updates.
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
    const fresh = alerts.filter((a) => {
      const key = `${a.alert_id}@${a.ts}`;
      if (this.seen.has(key)) return false;
      this.seen.add(key);
      return true;
    });
    if (this.seen.size > 1_000_000) this.seen.clear(); // bound memory; duplicates after this are possible, and harmless
    this.file.write(fresh);
  }

  get written(): number {
    return this.file.lines_written;
  }
}
