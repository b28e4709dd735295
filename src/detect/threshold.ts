/**
 * The anomaly threshold, from the reconstruction errors of held-out baseline windows (windows the model never trained
 * or early-stopped on), by one of two documented rules:
 *
 * - `quantile` (default): threshold = Q_q(errors) × margin. With q = 0.995 and margin = 1.5, a benign window exceeds it
 *   only when its error is 50 % above the worst 0.5 % of held-out baseline windows; the K-of-N rule then needs
 *   several such windows close together before alerting.
 * - `lognormal`: fit a log-normal to the errors, threshold = exp(μ + z·σ) of ln(error) (z = 4 by default); smoother
 *   than a high quantile when the held-out set is small.
 *
 * Either way the threshold is floored at `floor` (option `detect.threshold_floor`, default 2; never below
 * `MIN_THRESHOLD`): the error is the mean squared error over the features in robust-scaled log1p units, so a floor of
 * 2 asks a window to be off by √2 ≈ 1.4 robust SDs per feature on average (or one feature by ≈ 8.4) before it can
 * count, however regular the device's baseline. Without it, very regular devices (a telemetry unit whose every window
 * is alike) got thresholds of ~0.02 and alerted when one ACK slipped into the next window (measured on simulator
 * captures, src/detect/README.md).
 */
import type { ThresholdRuleConfig } from './config.js';
import { quantileSorted } from './scaler.js';

export const MIN_THRESHOLD = 1e-4;

export interface ThresholdFit {
  value: number;
  rule: ThresholdRuleConfig;
  /** The floor applied (the value is max(rule's value, floor)). */
  floor?: number;
  /** Held-out windows the threshold was fitted on. */
  heldout_windows: number;
  /** Summary of the held-out errors, for the metadata and the report. */
  heldout_error: { median: number; p95: number; p99: number; max: number };
}

export function fitThreshold(errors: ArrayLike<number>, rule: ThresholdRuleConfig, floor = MIN_THRESHOLD): ThresholdFit {
  if (errors.length === 0) throw new RangeError('cannot fit a threshold on zero held-out windows');
  const sorted = Float64Array.from(errors).sort();
  let value: number;
  if (rule.rule === 'quantile') {
    value = quantileSorted(sorted, rule.quantile) * rule.margin;
  } else {
    let m = 0;
    for (const e of sorted) m += Math.log(Math.max(e, 1e-12));
    m /= sorted.length;
    let v = 0;
    for (const e of sorted) v += (Math.log(Math.max(e, 1e-12)) - m) ** 2;
    const sd = Math.sqrt(v / Math.max(sorted.length - 1, 1));
    value = Math.exp(m + rule.z * sd);
  }
  return {
    value: Math.max(value, floor, MIN_THRESHOLD),
    rule,
    floor: Math.max(floor, MIN_THRESHOLD),
    heldout_windows: sorted.length,
    heldout_error: {
      median: quantileSorted(sorted, 0.5),
      p95: quantileSorted(sorted, 0.95),
      p99: quantileSorted(sorted, 0.99),
      max: sorted[sorted.length - 1] as number,
    },
  };
}
