/**
 * Feature scaling learned from the baseline and saved with the model: x' = (log1p(max(x,0)) − median) / scale per
 * feature, clipped to ±clip for the baseline rows (learned, validated, held out for the threshold) so that one wild
 * baseline window cannot dominate training or the threshold; scored windows are never capped: beyond ±clip they go on
 * as ±(clip + log1p(|z| − clip)) (`tail: log`, monotone and unbounded) or unchanged (`tail: linear`), where median and scale come from the log1p values of the baseline windows and
 * scale = IQR / 1.349 (the standard deviation a normal distribution with that IQR has); when that is below `min_scale`
 * (a discrete feature that is 0 in most windows) the standard deviation of the log1p values instead; and never below
 * `min_scale`, which keeps features that were constant in the baseline — e.g. `new_dst_ports` always 0 — from turning
 * any change into an infinite score, while one new port still scores log1p(1)/min_scale ≫ the baseline noise.
 *
 * log1p first because the counts are heavy-tailed (bytes, packets); robust statistics because the baseline may still
 * hold a few odd windows.
 */
export interface ScalerState {
  kind: 'log1p-robust';
  median: number[];
  scale: number[];
  clip: number;
  /** How scored values beyond ±clip are mapped (`log` when absent: models trained before 2026-12-07 clipped them). */
  tail?: 'log' | 'linear';
  /** Baseline 1st/99th percentile of each feature in its own unit (for explanations: "expected ≤ …"). */
  p01: number[];
  p99: number[];
}

/** Linear-interpolated quantile of a sorted array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export class RobustScaler {
  constructor(readonly state: ScalerState) {}

  get featureCount(): number {
    return this.state.median.length;
  }

  /** Fit on baseline rows (each row in FEATURE_SCHEMA order). */
  static fit(rows: readonly (readonly number[])[], opts: { min_scale: number; clip: number; tail?: 'log' | 'linear' }): RobustScaler {
    const first = rows[0];
    if (first === undefined) throw new RangeError('cannot fit a scaler on zero windows');
    const d = first.length;
    const n = rows.length;
    const median: number[] = [];
    const scale: number[] = [];
    const p01: number[] = [];
    const p99: number[] = [];
    const col = new Float64Array(n);
    const raw = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < n; i++) {
        const v = Math.max((rows[i] as readonly number[])[j] ?? 0, 0);
        raw[i] = v;
        col[i] = Math.log1p(v);
      }
      col.sort();
      raw.sort();
      const med = quantileSorted(col, 0.5);
      const iqr = quantileSorted(col, 0.75) - quantileSorted(col, 0.25);
      median.push(med);
      let sd = iqr / 1.349;
      if (sd < opts.min_scale) {
        // Mostly-constant discrete features (0 in 80 % of windows, 1 otherwise) have IQR 0; their standard deviation
        // still says how much they move. Truly constant ones get the floor.
        let m = 0;
        for (let i = 0; i < n; i++) m += col[i] as number;
        m /= n;
        let v = 0;
        for (let i = 0; i < n; i++) v += ((col[i] as number) - m) ** 2;
        sd = Math.sqrt(v / n);
      }
      scale.push(Math.max(sd, opts.min_scale));
      p01.push(quantileSorted(raw, 0.01));
      p99.push(quantileSorted(raw, 0.99));
    }
    return new RobustScaler({ kind: 'log1p-robust', median, scale, clip: opts.clip, tail: opts.tail ?? 'log', p01, p99 });
  }

  /**
   * Scale rows into a flat row-major Float32Array (n × d), ready for a tensor. `forTraining`: clip to ±clip (baseline
   * rows: learned, validated, held out for the threshold); scored windows are never clipped.
   */
  transform(rows: readonly (readonly number[])[], forTraining = false): Float32Array {
    const { median, scale } = this.state;
    const c = this.state.clip;
    const clip = forTraining ? c : Infinity;
    const logTail = !forTraining && this.state.tail !== 'linear';
    const d = median.length;
    const out = new Float32Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as readonly number[];
      const base = i * d;
      for (let j = 0; j < d; j++) {
        const v = row[j] ?? 0;
        const z = (Math.log1p(v > 0 ? v : 0) - (median[j] as number)) / (scale[j] as number);
        out[base + j] = logTail ? (z > c ? c + Math.log1p(z - c) : z < -c ? -c - Math.log1p(-z - c) : z) : z > clip ? clip : z < -clip ? -clip : z;
      }
    }
    return out;
  }

  /** Back from scaled space to the feature's unit (≥ 0). */
  inverse(j: number, z: number): number {
    const v = Math.expm1(z * (this.state.scale[j] as number) + (this.state.median[j] as number));
    return v > 0 ? v : 0;
  }
}
