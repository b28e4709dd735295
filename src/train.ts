/**
 * Training from a capture: the wiring behind `wardwatch train <capture>`.
 *
 *   capture → windowsFromCapture (decode, flows, inventory, features) → time range → planTraining → Trainer → store
 *
 * Windows inside alerts are not learned: those of the anomaly alerts in `exclude_alerts` (e.g. read back from
 * alerts.jsonl) and, when the store already holds models, those the current models alert on when they score the
 * range first (so a retrain does not learn an attack the running detector flagged). A capture that holds a known
 * attack should be cut with `from` / `to` instead.
 *
 * Training from the Kafka feature topic over a time range (the distributed deployment, `train --from-kafka`):
 *
 *   feature topic → readWindowRange (packet-time range, duplicates once) + inventory topic → the same steps
 *
 * so a topic that holds a capture's windows trains the same models (sample counts, data hashes) as the capture.
 */
import path from 'node:path';
import { windowsFromCapture, type AnalyseOptions, type CaptureProgressEvent } from './compose/embedded.js';
import {
  alertedRangesFromAlerts,
  Detector,
  ModelStore,
  planTraining,
  selectBackendFor,
  Trainer,
  type AlertedRange,
  type BackendStatus,
  type DetectConfig,
  type InventoryLookup,
  type ModelScope,
} from './detect/index.js';
import type { FeatureWindow } from './records/features.js';
import type { InventoryEntry } from './records/device.js';
import { ConfigError, WardwatchError, describeError } from './errors.js';
import type { Kafka } from 'kafkajs';

export interface TrainFromCaptureOptions extends Pick<AnalyseOptions, 'inventoryFile' | 'features' | 'flows' | 'devices' | 'onProgress'> {
  /** Learn windows with window_start ≥ from (epoch seconds); the capture's start + detect.startup_grace_s when omitted. */
  from?: number;
  /** Learn windows with window_end ≤ to (epoch seconds); the capture's end when omitted. */
  to?: number;
  /** Anomaly alerts whose [since, ts] windows are not learned (alerts.jsonl records). */
  exclude_alerts?: readonly { kind: string; device_id: string; since: number; ts: number }[];
  /** Score the range with the store's current models first and exclude what they alert on (default true). */
  exclude_current_alerts?: boolean;
  /** Called after each model is saved or refused (progress). */
  onModel?: (r: TrainedModelResult, done: number, total: number) => void;
  /** Called when the capture is read, before training. */
  onWindows?: (info: { windows: number; in_range: number; devices: number; jobs: number; excluded_ranges: number }) => void;
}

export interface TrainedModelResult {
  scope: ModelScope;
  windows: number;
  /** The stored model (`device:<id>@v3`), or undefined when training was refused. */
  model?: string;
  version?: number;
  epochs?: number;
  threshold?: number;
  validation_loss?: number;
  excluded_alerted?: number;
  duration_ms?: number;
  /** Why no model was saved (error code and message). */
  error?: { code: string; message: string };
}

export interface TrainFromCaptureResult {
  capture: string;
  models_dir: string;
  backend: BackendStatus;
  packets: number;
  first_ts: number;
  last_ts: number;
  from: number;
  to: number;
  windows_total: number;
  windows_in_range: number;
  excluded_ranges: number;
  /** Devices seen in the range that got no device model (too few windows): the class model covers them. */
  devices_without_model: { device_id: string; windows: number }[];
  models: TrainedModelResult[];
}

/** Windows of [from, to]: starting at or after `from`, ending at or before `to`. */
export function windowsInRange(windows: readonly FeatureWindow[], from: number, to: number): FeatureWindow[] {
  return windows.filter((w) => w.window_start >= from && w.window_end <= to);
}

function lookupOf(inventory: readonly InventoryEntry[]): InventoryLookup {
  const map = new Map(inventory.map((e) => [e.device_id, e]));
  return (id) => map.get(id);
}

/** Alerted ranges of the store's current models over `windows` (none when the store is empty). */
async function currentAlertedRanges(config: DetectConfig, store: ModelStore, windows: readonly FeatureWindow[], lookup: InventoryLookup): Promise<AlertedRange[]> {
  if ((await store.list()).length === 0) return [];
  await selectBackendFor(config, 'score');
  const detector = await Detector.open(config, store);
  const sorted = [...windows].sort((a, b) => a.window_end - b.window_end || (a.device_id < b.device_id ? -1 : 1));
  for (let i = 0; i < sorted.length; i += 2048) await detector.score(sorted.slice(i, i + 2048), lookup);
  return detector.alertedRanges();
}

/**
 * Trains every model the capture's time range supports (a device model per device with ≥ device_model_min_windows
 * windows, a class model per class with ≥ class_model_min_windows) into `config.models_dir`. A model that cannot be
 * trained (too few windows after exclusions) is reported with its error; the others are still trained.
 */
export async function trainFromCapture(capturePath: string, config: DetectConfig, options: TrainFromCaptureOptions = {}): Promise<TrainFromCaptureResult> {
  if (options.from !== undefined && options.to !== undefined && !(options.to > options.from)) {
    throw new ConfigError('to', `must be after from (${new Date(options.from * 1000).toISOString()}); swap them or widen the range`);
  }
  const analysed = await windowsFromCapture(capturePath, {
    ...(options.inventoryFile ? { inventoryFile: options.inventoryFile } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(options.flows ? { flows: options.flows } : {}),
    ...(options.devices ? { devices: options.devices } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return trainOnWindows(capturePath, analysed, config, options);
}

export interface TrainFromKafkaOptions extends Pick<TrainFromCaptureOptions, 'from' | 'to' | 'exclude_alerts' | 'exclude_current_alerts' | 'onModel' | 'onWindows'> {
  /** Feature topic and inventory topic (`topicNames(transport.kafka.topics)`). */
  topics: { features: string; inventory: string };
  /** How far sensors' clocks may run ahead of packet time, for the start-offset lookup (seconds, default 300). */
  clock_skew_s?: number;
}

/**
 * Trains like `trainFromCapture`, from the windows of [from, to] (packet time) in the Kafka feature topic, with the
 * device classes of the inventory topic.
 */
export async function trainFromKafka(kafka: Kafka, brokers: string[], config: DetectConfig, options: TrainFromKafkaOptions): Promise<TrainFromCaptureResult> {
  if (options.from !== undefined && options.to !== undefined && !(options.to > options.from)) {
    throw new ConfigError('to', `must be after from (${new Date(options.from * 1000).toISOString()}); swap them or widen the range`);
  }
  // The Kafka modules load here: training from a capture (and evaluate, which trains) does not need kafkajs.
  const { readWindowRange } = await import('./transport/kafka/range.js');
  const { KafkaInventoryReader } = await import('./transport/kafka/inventory.js');
  const read = await readWindowRange(kafka, brokers, options.topics.features, {
    from: options.from ?? -Infinity,
    to: options.to ?? Infinity,
    ...(options.clock_skew_s !== undefined ? { clock_skew_s: options.clock_skew_s } : {}),
  });
  const reader = new KafkaInventoryReader(kafka, brokers, options.topics.inventory);
  await reader.start();
  let inventory: InventoryEntry[];
  try {
    await reader.catchUp(60_000);
    inventory = reader.all();
  } finally {
    await reader.stop();
  }
  const first = read.windows.reduce((m, w) => Math.min(m, w.window_start), Infinity);
  const last = read.windows.reduce((m, w) => Math.max(m, w.window_end), -Infinity);
  // The startup grace applies to the topic's first window (a sensor's start) only when no `from` is given: the
  // windows read start at `from`, so the grace after them would cut the range the caller asked for.
  return trainOnWindows(`kafka:${options.topics.features}`, { windows: read.windows, inventory, packets: 0, first_ts: first, last_ts: last }, config, options, options.from !== undefined);
}

/** The steps after reading: range, exclusions, plan, train, report. */
async function trainOnWindows(
  source: string,
  analysed: { windows: FeatureWindow[]; inventory: InventoryEntry[]; packets: number; first_ts: number; last_ts: number },
  config: DetectConfig,
  options: Omit<TrainFromCaptureOptions, 'inventoryFile' | 'features' | 'flows' | 'devices' | 'onProgress'>,
  fromIsExact = false,
): Promise<TrainFromCaptureResult> {
  // The capture's first startup_grace_s: the sensor starts with an empty flow table and inventory (see the option).
  const firstStart = analysed.windows.reduce((m, w) => Math.min(m, w.window_start), Infinity);
  const from = fromIsExact && options.from !== undefined ? options.from : Math.max(options.from ?? -Infinity, firstStart + config.startup_grace_s);
  const to = options.to ?? Infinity;
  const windows = windowsInRange(analysed.windows, from, to);
  const lookup = lookupOf(analysed.inventory);
  const store = new ModelStore(path.resolve(config.models_dir));

  const exclude: AlertedRange[] = [...alertedRangesFromAlerts(options.exclude_alerts ?? [])];
  if (options.exclude_current_alerts ?? true) exclude.push(...(await currentAlertedRanges(config, store, windows, lookup)));

  const jobs = planTraining(windows, (id) => lookup(id)?.device_class, config);
  const perDevice = new Map<string, number>();
  for (const w of windows) perDevice.set(w.device_id, (perDevice.get(w.device_id) ?? 0) + 1);
  options.onWindows?.({ windows: analysed.windows.length, in_range: windows.length, devices: perDevice.size, jobs: jobs.length, excluded_ranges: exclude.length });

  const trainBackend = await selectBackendFor(config, 'train');
  const trainer = new Trainer(config, store);
  const models: TrainedModelResult[] = [];
  for (const job of jobs) {
    let r: TrainedModelResult;
    try {
      const t = await trainer.train(job.windows, job.scope, { exclude, ...(job.min_windows !== undefined ? { min_windows: job.min_windows } : {}) });
      t.model.dispose();
      r = {
        scope: job.scope,
        windows: job.windows.length,
        model: `${t.ref.scope}:${t.ref.id}@v${t.ref.version}`,
        version: t.ref.version,
        epochs: t.report.epochs_run,
        threshold: t.metadata.threshold.value,
        validation_loss: t.report.val_loss,
        excluded_alerted: t.metadata.samples.excluded_alerted,
        duration_ms: Math.round(t.report.duration_ms),
      };
    } catch (err) {
      if (!(err instanceof WardwatchError)) throw err;
      r = { scope: job.scope, windows: job.windows.length, error: { code: err.code, message: describeError(err) } };
    }
    models.push(r);
    options.onModel?.(r, models.length, jobs.length);
  }
  const trainedDevices = new Set(models.filter((m) => m.model && m.scope.kind === 'device').map((m) => m.scope.id));
  return {
    capture: source,
    models_dir: path.resolve(config.models_dir),
    backend: trainBackend,
    packets: analysed.packets,
    first_ts: analysed.first_ts,
    last_ts: analysed.last_ts,
    from: Number.isFinite(from) ? from : analysed.first_ts,
    to: Number.isFinite(to) ? to : analysed.last_ts,
    windows_total: analysed.windows.length,
    windows_in_range: windows.length,
    excluded_ranges: exclude.length,
    devices_without_model: [...perDevice]
      .filter(([id]) => !trainedDevices.has(id))
      .map(([device_id, n]) => ({ device_id, windows: n }))
      .sort((a, b) => (a.device_id < b.device_id ? -1 : 1)),
    models,
  };
}

export type { CaptureProgressEvent };
