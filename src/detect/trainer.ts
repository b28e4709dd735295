/**
 * Training: baseline windows of one device (or of every device of a class) → a new model version in the store.
 *
 * 1. Windows of another feature schema version are skipped (counted); windows inside alerted ranges are not learned.
 * 2. The rest, in time order, is cut into blocks of `SPLIT_BLOCK_WINDOWS` consecutive windows (5 min of 10-s windows)
 *    and the blocks are assigned at random (seeded) to train / validation / threshold hold-out. Blocks rather than
 *    single windows so that the hold-out is not just the neighbours of training windows (which would make the
 *    threshold too tight); random blocks rather than "the last 20 %" so that every time of day is represented.
 * 3. The scaler is fitted on the training part; the autoencoder is trained with early stopping on the validation part;
 *    the threshold is fitted on the reconstruction errors of the hold-out part.
 * 4. The model, scaler, threshold, training range, sample counts, data hash and backend go to the store as the next
 *    version of the scope; a running detector picks it up on its next store check.
 */
import { createHash } from 'node:crypto';
import { tf } from './tf.js';
import { ModelError } from '../errors.js';
import { componentLogger } from '../log.js';
import { Counters } from '../metrics.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SCHEMA_VERSION, featureIndex, type DeviceClass, type FeatureWindow } from '../records/index.js';
import { buildAutoencoder, rowErrors, reconstruct, seededRandom, shuffleInPlace, trainAutoencoder, type TrainReport } from './autoencoder.js';
import type { DetectConfig } from './config.js';
import { BaselineModel } from './model.js';
import { RobustScaler } from './scaler.js';
import { MODEL_FORMAT, type ModelMetadata, type ModelScope, type ModelStore, type StoredModelRef } from './store.js';
import { fitThreshold } from './threshold.js';

const log = componentLogger('detect-trainer');

export const SPLIT_BLOCK_WINDOWS = 30;

/** Windows of `device_id` with window_start in [since, until] were part of an alert incident: not learned. */
export interface AlertedRange {
  device_id: string;
  since: number;
  until: number;
}

/** Alerted ranges from alert records (e.g. read back from alerts.jsonl): [since, ts] of each detection (every kind but new_device). */
export function alertedRangesFromAlerts(alerts: readonly { kind: string; device_id: string; since: number; ts: number }[]): AlertedRange[] {
  return alerts.filter((a) => a.kind !== 'new_device').map((a) => ({ device_id: a.device_id, since: a.since, until: a.ts }));
}

export interface TrainResult {
  ref: StoredModelRef;
  metadata: ModelMetadata;
  report: TrainReport;
  model: BaselineModel;
}

export interface TrainOptions {
  exclude?: readonly AlertedRange[];
  /** Override the minimum number of windows (defaults: device_model_min_windows / class_model_min_windows). */
  min_windows?: number;
}

export class Trainer {
  readonly counters = new Counters<'windows_received' | 'windows_skipped_schema' | 'windows_excluded_alerted' | 'windows_excluded_capture_loss' | 'models_saved'>('train');

  constructor(
    readonly config: DetectConfig,
    readonly store: ModelStore,
  ) {}

  /** Train a new version for `scope` from `windows` (any order; other devices' windows are ignored for a device scope). */
  async train(windows: readonly FeatureWindow[], scope: ModelScope, opts: TrainOptions = {}): Promise<TrainResult> {
    const cfg = this.config;
    const byDevice = new Map<string, AlertedRange[]>();
    for (const r of opts.exclude ?? []) {
      const list = byDevice.get(r.device_id) ?? [];
      list.push(r);
      byDevice.set(r.device_id, list);
    }
    let skippedSchema = 0;
    let excluded = 0;
    let lossy = 0;
    const kept: FeatureWindow[] = [];
    for (const w of windows) {
      if (scope.kind === 'device' && w.device_id !== scope.id) continue;
      this.counters.add('windows_received');
      if (w.feature_schema_version !== FEATURE_SCHEMA_VERSION || w.values.length !== FEATURE_COUNT) {
        skippedSchema++;
        continue;
      }
      if (byDevice.get(w.device_id)?.some((r) => w.window_start >= r.since && w.window_start <= r.until)) {
        excluded++;
        continue;
      }
      // A window that lost packets (capture loss above detect.capture_loss_max) is no faithful example of normal.
      if (w.capture_loss !== undefined && w.capture_loss > cfg.capture_loss_max) {
        lossy++;
        continue;
      }
      kept.push(w);
    }
    this.counters.add('windows_skipped_schema', skippedSchema);
    this.counters.add('windows_excluded_alerted', excluded);
    this.counters.add('windows_excluded_capture_loss', lossy);
    const minWindows = opts.min_windows ?? (scope.kind === 'device' ? cfg.device_model_min_windows : scope.kind === 'class' ? cfg.class_model_min_windows : cfg.quiet_device_min_windows);
    if (kept.length < minWindows) {
      throw new ModelError(
        `${scope.kind}:${scope.id}: ${kept.length} usable baseline windows, need ≥ ${minWindows}` +
          (skippedSchema > 0 ? ` (${skippedSchema} skipped: feature schema ≠ v${FEATURE_SCHEMA_VERSION})` : '') +
          (excluded > 0 ? ` (${excluded} excluded: inside alerts)` : '') +
          (lossy > 0 ? ` (${lossy} excluded: capture loss above detect.capture_loss_max)` : ''),
        { code: 'WW_MODEL_TOO_FEW_WINDOWS' },
      );
    }
    kept.sort((a, b) => a.window_start - b.window_start || (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0));

    // Block split (see header).
    const t = cfg.training;
    // Blocks of SPLIT_BLOCK_WINDOWS, or a tenth of a baseline too small for three of them (a quiet device).
    const blockSize = kept.length >= 3 * SPLIT_BLOCK_WINDOWS ? SPLIT_BLOCK_WINDOWS : Math.max(1, Math.floor(kept.length / 10));
    const blocks: number[] = [];
    for (let b = 0; b * blockSize < kept.length; b++) blocks.push(b);
    shuffleInPlace(blocks, seededRandom(t.seed ^ 0x5eed));
    const nHeld = Math.max(1, Math.round(blocks.length * t.threshold_fraction));
    const nVal = Math.max(1, Math.round(blocks.length * t.validation_fraction));
    const role = new Uint8Array(blocks.length); // 0 train, 1 validation, 2 hold-out
    blocks.forEach((b, i) => {
      role[b] = i < nHeld ? 2 : i < nHeld + nVal ? 1 : 0;
    });
    const parts: [number[][], number[][], number[][]] = [[], [], []];
    kept.forEach((w, i) => parts[role[Math.floor(i / blockSize)] as 0 | 1 | 2].push(w.values));
    const [trainRows, valRows, heldRows] = parts;
    if (trainRows.length === 0 || valRows.length === 0 || heldRows.length === 0) {
      throw new ModelError(`${scope.kind}:${scope.id}: too few windows to split into train/validation/hold-out`, { code: 'WW_MODEL_TOO_FEW_WINDOWS' });
    }

    const scaler = RobustScaler.fit(trainRows, cfg.scaler);
    const d = FEATURE_COUNT;
    const shape = { input_dim: d, hidden_units: cfg.model.hidden_units, activation: cfg.model.activation };
    const network = buildAutoencoder(shape, t.seed);
    const report = trainAutoencoder(network, scaler.transform(trainRows, true), scaler.transform(valRows, true), d, t);
    // The threshold comes from the hold-out as the network saw its baseline (clipped): a few wild baseline windows
    // (a big transfer on a workstation) would otherwise set it far above everything else. Scoring is never clipped.
    const xHeld = scaler.transform(heldRows, true);
    const heldErr = rowErrors(xHeld, reconstruct(network, xHeld, d), d);
    const threshold = fitThreshold(heldErr, cfg.threshold, cfg.threshold_floor);

    const hash = createHash('sha256');
    for (const w of kept) hash.update(`${w.device_id}|${w.window_start}|${w.values.join(',')}\n`);
    const novelty = scope.kind === 'population' ? undefined : baselineNovelty(kept);
    const metadata: Omit<ModelMetadata, 'version'> = {
      format: MODEL_FORMAT,
      scope: scope.kind,
      id: scope.id,
      feature_schema_version: FEATURE_SCHEMA_VERSION,
      feature_names: [...FEATURE_NAMES],
      scaler: scaler.state,
      threshold,
      architecture: shape,
      training: { ...t, report },
      training_range: { start: (kept[0] as FeatureWindow).window_start, end: (kept[kept.length - 1] as FeatureWindow).window_end },
      samples: { total: kept.length, train: trainRows.length, validation: valRows.length, heldout: heldRows.length, excluded_alerted: excluded },
      devices: [...new Set(kept.map((w) => w.device_id))].sort(),
      ...(novelty ? { novelty } : {}),
      data_hash: hash.digest('hex'),
      backend: tf.getBackend(),
      tfjs_version: tf.version.tfjs,
      created_at: new Date().toISOString(),
    };
    const ref = await this.store.save(network, metadata);
    this.counters.add('models_saved');
    log.info(
      { model: `${ref.scope}:${ref.id}@v${ref.version}`, windows: kept.length, excluded, epochs: report.epochs_run, threshold: threshold.value, ms: Math.round(report.duration_ms), backend: metadata.backend },
      'model trained',
    );
    return { ref, metadata: { ...metadata, version: ref.version }, report, model: new BaselineModel(network, { ...metadata, version: ref.version }) };
  }
}

/** Peers remembered per device in a model's `novelty` (the most recent first contacts are kept). */
export const KNOWN_PEERS_MAX = 512;
/** A device's first windows are not counted in its novelty rate: everything is new to a starting sensor. */
export const NOVELTY_SETTLE_S = 1200;

const NEW_PEERS = featureIndex('new_peers');
const NEW_PEERS_INTERNAL = featureIndex('new_peers_internal');

/** Per device of a baseline: the peers its windows named as new, and windows with a new external peer per day. */
export function baselineNovelty(windows: readonly FeatureWindow[]): Record<string, { known_peers: string[]; new_external_windows_per_day: number }> {
  const by = new Map<string, { first: number; last: number; peers: Set<string>; novel: number }>();
  for (const w of windows) {
    let d = by.get(w.device_id);
    if (!d) by.set(w.device_id, (d = { first: w.window_start, last: w.window_end, peers: new Set(), novel: 0 }));
    d.first = Math.min(d.first, w.window_start);
    d.last = Math.max(d.last, w.window_end);
    for (const p of w.new_peers) d.peers.add(p);
  }
  for (const w of windows) {
    const d = by.get(w.device_id)!;
    const external = (w.values[NEW_PEERS] ?? 0) - (w.values[NEW_PEERS_INTERNAL] ?? 0);
    if (external > 0 && w.window_start >= d.first + NOVELTY_SETTLE_S) d.novel++;
  }
  const out: Record<string, { known_peers: string[]; new_external_windows_per_day: number }> = {};
  for (const [id, d] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const days = Math.max(d.last - d.first - NOVELTY_SETTLE_S, 3600) / 86_400;
    out[id] = { known_peers: [...d.peers].slice(-KNOWN_PEERS_MAX).sort(), new_external_windows_per_day: Math.round((d.novel / days) * 1000) / 1000 };
  }
  return out;
}

export interface TrainingJob {
  scope: ModelScope;
  windows: FeatureWindow[];
  /** The fewest windows this job may train from (a quiet device's model, the population model). */
  min_windows?: number;
}

/** The population model learns at most this many windows (evenly spaced in time over the baseline). */
export const POPULATION_MAX_WINDOWS = 20_000;

/**
 * What `train` should build from a set of baseline windows (a capture or a Kafka time range): a device model for each
 * device with ≥ `device_model_min_windows` windows, and a class model for each device class whose devices together
 * have ≥ `class_model_min_windows` windows (every device of the class contributes, so the fallback covers devices too
 * new for a model of their own). Devices the inventory does not know go to class `unknown`.
 */
export function planTraining(
  windows: readonly FeatureWindow[],
  classOf: (deviceId: string) => DeviceClass | undefined,
  config: Pick<DetectConfig, 'device_model_min_windows' | 'class_model_min_windows' | 'learning_min_span_s' | 'quiet_device_min_windows'>,
): TrainingJob[] {
  const byDevice = new Map<string, FeatureWindow[]>();
  for (const w of windows) {
    const list = byDevice.get(w.device_id);
    if (list) list.push(w);
    else byDevice.set(w.device_id, [w]);
  }
  const byClass = new Map<DeviceClass, FeatureWindow[]>();
  const jobs: TrainingJob[] = [];
  for (const [id, list] of [...byDevice].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (list.length >= config.device_model_min_windows) jobs.push({ scope: { kind: 'device', id }, windows: list });
    else if (config.learning_min_span_s > 0 && list.length >= config.quiet_device_min_windows && spanOf(list) >= config.learning_min_span_s) {
      // A quiet device seen across the learning span: learned from the windows it has.
      jobs.push({ scope: { kind: 'device', id }, windows: list, min_windows: config.quiet_device_min_windows });
    }
    const cls = classOf(id) ?? 'unknown';
    const c = byClass.get(cls) ?? [];
    for (const w of list) c.push(w);
    byClass.set(cls, c);
  }
  for (const [cls, list] of [...byClass].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (list.length >= config.class_model_min_windows) jobs.push({ scope: { kind: 'class', id: cls }, windows: list });
  }
  // The population model: every baseline device together, trained when a device of the baseline is left with neither a
  // model of its own nor one of its class (it scores those, and devices that appear later in such a class).
  const covered = new Set(jobs.map((j) => `${j.scope.kind}:${j.scope.id}`));
  const uncovered = [...byDevice.keys()].some((id) => !covered.has(`device:${id}`) && !covered.has(`class:${classOf(id) ?? 'unknown'}`));
  if (uncovered && windows.length >= config.quiet_device_min_windows) {
    const step = Math.max(1, Math.ceil(windows.length / POPULATION_MAX_WINDOWS));
    const sample = [...windows].sort((a, b) => a.window_start - b.window_start || (a.device_id < b.device_id ? -1 : 1)).filter((_, i) => i % step === 0);
    jobs.push({ scope: { kind: 'population', id: 'all' }, windows: sample, min_windows: config.quiet_device_min_windows });
  }
  return jobs;
}

function spanOf(list: readonly FeatureWindow[]): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const w of list) {
    if (w.window_start < lo) lo = w.window_start;
    if (w.window_end > hi) hi = w.window_end;
  }
  return hi - lo;
}
