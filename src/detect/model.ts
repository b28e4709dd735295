/**
 * `BaselineModel`: a trained autoencoder with its scaler and threshold (one stored model version), scoring batches of
 * feature windows. It refuses windows of another feature schema version (ModelError WW_MODEL_SCHEMA).
 */
import type * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.js';
import { FEATURE_SCHEMA, type FeatureContribution, type FeatureWindow } from '../records/index.js';
import { reconstruct } from './autoencoder.js';
import { topContributions } from './explain.js';
import { RobustScaler } from './scaler.js';
import { modelLabel, type ModelMetadata } from './store.js';

export interface BatchScores {
  /** Per window: mean squared reconstruction error in scaled space. */
  errors: Float64Array;
  /** Per window: error ÷ threshold (> 1 is over the threshold). */
  scores: Float64Array;
  /** Scaled input and reconstruction (n × d, row-major), for explanations. */
  x: Float32Array;
  recon: Float32Array;
}

export class BaselineModel {
  readonly scaler: RobustScaler;
  readonly label: string;
  readonly d: number;

  constructor(
    readonly network: tf.LayersModel,
    readonly metadata: ModelMetadata,
  ) {
    this.scaler = new RobustScaler(metadata.scaler);
    this.label = modelLabel({ scope: metadata.scope, id: metadata.id, version: metadata.version });
    this.d = metadata.feature_names.length;
  }

  get threshold(): number {
    return this.metadata.threshold.value;
  }

  private known: Map<string, Set<string>> | undefined;

  /**
   * For the novelty guard: the device's baseline rate of windows with a new external peer (per day) and whether
   * `peer` is one its baseline named; undefined when the model carries no novelty for the device.
   */
  novelty(deviceId: string): { rate: number; knows: (peer: string) => boolean } | undefined {
    const n = this.metadata.novelty?.[deviceId];
    if (!n) return undefined;
    this.known ??= new Map();
    let set = this.known.get(deviceId);
    if (!set) this.known.set(deviceId, (set = new Set(n.known_peers)));
    const known = set;
    return { rate: n.new_external_windows_per_day, knows: (p) => known.has(p) };
  }

  /** Whether the model can score this window (same feature schema version and vector length). */
  accepts(w: FeatureWindow): boolean {
    return w.feature_schema_version === this.metadata.feature_schema_version && w.values.length === this.d;
  }

  assertAccepts(w: FeatureWindow): void {
    if (!this.accepts(w)) {
      throw new ModelError(
        `model ${this.label} was trained on feature schema v${this.metadata.feature_schema_version} (${this.d} features); ` +
          `window of ${w.device_id} at ${w.window_start} has schema v${w.feature_schema_version} (${w.values.length} values): retrain the model`,
        { code: 'WW_MODEL_SCHEMA' },
      );
    }
  }

  /** Score a batch. Throws ModelError (WW_MODEL_SCHEMA) when any window has another schema version. */
  score(windows: readonly FeatureWindow[]): BatchScores {
    for (const w of windows) this.assertAccepts(w);
    return this.scoreRows(windows.map((w) => w.values));
  }

  /** Score raw feature rows (already checked). */
  scoreRows(rows: readonly (readonly number[])[]): BatchScores {
    const d = this.d;
    const x = this.scaler.transform(rows);
    const recon = reconstruct(this.network, x, d);
    const n = rows.length;
    const errors = new Float64Array(n);
    const scores = new Float64Array(n);
    const t = this.threshold;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const base = i * d;
      for (let j = 0; j < d; j++) {
        const e = (x[base + j] as number) - (recon[base + j] as number);
        s += e * e;
      }
      errors[i] = s / d;
      scores[i] = s / d / t;
    }
    return { errors, scores, x, recon };
  }

  /**
   * Top contributing features of window `i` of a scored batch, observed vs expected in the features' units; feature
   * `include` (index) is listed whenever its observed value is not 0 (`topContributions`).
   */
  explain(batch: BatchScores, i: number, observed: readonly number[], top = 5, include = -1): FeatureContribution[] {
    const d = this.d;
    const sq = new Float64Array(d);
    const expected = new Float64Array(d);
    const deviation = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const xv = batch.x[i * d + j] as number;
      deviation[j] = xv;
      const rv = batch.recon[i * d + j] as number;
      sq[j] = (xv - rv) ** 2;
      let e = this.scaler.inverse(j, rv);
      if (FEATURE_SCHEMA[j]?.unit === 'fraction') e = Math.min(e, 1);
      expected[j] = e;
    }
    return topContributions(sq, observed, expected, deviation, top, FEATURE_SCHEMA, include);
  }

  dispose(): void {
    this.network.dispose();
  }
}
