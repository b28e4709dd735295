/**
 * The K-of-N rule, per device: an incident opens when at least K of the device's last N scored windows are over the
 * threshold (score > 1), and closes when that no longer holds. "Since" is the start of the first over-threshold window
 * among those N. A single noisy window never alerts (for K ≥ 2); a sustained deviation alerts within N windows.
 *
 * With a `span_s` (the detector passes N × the window length when `alert_n_span` is `time`), only windows that
 * started within the last `span_s` seconds of packet time count: a device that talks once a minute needs K
 * over-threshold windows within N × 10 s, not within its last N windows spread over N minutes (measured on simulator
 * captures: two odd polls of the BMS server a minute apart were most false alerts; see src/detect/README.md).
 */
import { createHash } from 'node:crypto';
import type { AlertKind } from '../records/index.js';

export interface IncidentStep {
  /** Windows over the threshold among the last N (after this window). */
  over: number;
  considered: number;
  /** The K-of-N condition holds now. */
  firing: boolean;
  /** This window opened a new incident. */
  opened: boolean;
  /** Start of the incident's first over-threshold window (when firing). */
  since: number;
}

export class KOfN {
  private readonly flags: boolean[] = [];
  private readonly starts: number[] = [];
  private incidentSince: number | undefined;

  constructor(
    readonly k: number,
    readonly n: number,
  ) {}

  /** Serializable state (for the per-device detector state that follows the Kafka partition). */
  toState(): { flags: boolean[]; starts: number[]; since: number | null } {
    return { flags: [...this.flags], starts: [...this.starts], since: this.incidentSince ?? null };
  }

  static fromState(k: number, n: number, s: { flags: boolean[]; starts: number[]; since: number | null }): KOfN {
    const r = new KOfN(k, n);
    const keep = Math.min(s.flags.length, s.starts.length, n);
    r.flags.push(...s.flags.slice(-keep));
    r.starts.push(...s.starts.slice(-keep));
    r.incidentSince = s.since ?? undefined;
    return r;
  }

  get open(): boolean {
    return this.incidentSince !== undefined;
  }

  /**
   * `single`: this window alone is enough to fire (its score passed `alert_single_window_score`, or a rule guard
   * matched). `span_s`: count only windows that started after `windowStart − span_s` (Infinity: the last N windows).
   */
  push(windowStart: number, over: boolean, single = false, span_s = Infinity): IncidentStep {
    this.flags.push(over);
    this.starts.push(windowStart);
    if (this.flags.length > this.n) {
      this.flags.shift();
      this.starts.shift();
    }
    let count = 0;
    let first = -1;
    let considered = 0;
    this.flags.forEach((f, i) => {
      if ((this.starts[i] as number) <= windowStart - span_s) return;
      considered++;
      if (f) {
        count++;
        if (first < 0) first = i;
      }
    });
    const firing = count >= this.k || (single && over);
    let opened = false;
    if (firing && this.incidentSince === undefined) {
      this.incidentSince = this.starts[first];
      opened = true;
    } else if (!firing) {
      this.incidentSince = undefined;
    }
    return { over: count, considered, firing, opened, since: this.incidentSince ?? windowStart };
  }
}

/** Stable alert id: sha256 of device, kind and the incident's first window start (hex, 32 characters). */
export function alertId(deviceId: string, kind: AlertKind, since: number): string {
  return createHash('sha256').update(`${deviceId}\u0000${kind}\u0000${since}`).digest('hex').slice(0, 32);
}
