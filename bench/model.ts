/**
 * Model benchmark: for each TF.js backend (cpu, wasm; tfjs-node when installed), the time to train one device on a day
 * of 10-s windows (8,640 windows, full Trainer.train: split, scaler, autoencoder with early stopping, threshold, save)
 * and batched scoring throughput (windows/s) of the model alone and of the Detector end to end (100 devices scored by a
 * class model, K-of-N and alert building included). Medians over repeats.
 *
 *   npm run build && taskset -c 1 node dist/bench/model.js [--repeats 3] [--backends cpu,wasm] [--windows 8640]
 *
 * Prints one JSON object (first line) and a markdown table. Targets (issue 7): ≥ 20,000 windows/s scoring, ≤ 10 s to
 * train one device on a day of 10-s windows. Input: the synthetic generator of test/support (documented there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { probeTfjsNode, selectBackend, type BackendName } from '../src/detect/backend.js';
import { parseDetectConfig } from '../src/detect/config.js';
import { Detector } from '../src/detect/detector.js';
import { ModelStore } from '../src/detect/store.js';
import { Trainer } from '../src/detect/trainer.js';
import type { FeatureWindow } from '../src/records/index.js';
import { benignWindows, DEFAULT_START } from '../test/support/synthetic-windows.js';

interface BackendResult {
  backend: BackendName;
  train_ms_median: number;
  train_ms_all: number[];
  /** CPU time (user + system) of the training runs: what the job costs when the machine is not shared. */
  train_cpu_ms_median: number;
  train_cpu_ms_all: number[];
  epochs: number[];
  ms_per_epoch_median: number;
  score_model_windows_per_s_median: number;
  score_model_windows_per_s_all: number[];
  score_detector_windows_per_s_median: number;
  score_detector_windows_per_s_all: number[];
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export async function runModelBench(opts: { repeats: number; backends: BackendName[]; windows: number }): Promise<{ results: BackendResult[]; markdown: string; meta: Record<string, unknown> }> {
  const device = 'mac:02:00:00:00:00:01';
  const day = benignWindows({ device_id: device, count: opts.windows, seed: 1 });
  const scoreRows = benignWindows({ device_id: device, count: 10_000, seed: 2, start: DEFAULT_START + 86_400 }).map((w) => w.values);
  // 100 devices × 100 windows for the end-to-end detector batch.
  const fleet: FeatureWindow[] = [];
  for (let d = 0; d < 100; d++) {
    fleet.push(...benignWindows({ device_id: `mac:02:00:00:00:01:${d.toString(16).padStart(2, '0')}`, count: 100, seed: 100 + d, start: DEFAULT_START + 2 * 86_400, volume: 0.8 + (d % 5) / 10 }));
  }
  const results: BackendResult[] = [];
  for (const backend of opts.backends) {
    await selectBackend(backend === 'tensorflow' ? 'tfjs-node' : backend, 'train');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ww-bench-model-'));
    try {
      const config = parseDetectConfig({ models_dir: dir, learning_min_windows: 10, device_model_min_windows: 10, reload_check_ms: 60_000 });
      const store = new ModelStore(dir);
      const trainer = new Trainer(config, store);
      const trainMs: number[] = [];
      const trainCpu: number[] = [];
      const epochs: number[] = [];
      const perEpoch: number[] = [];
      let last;
      for (let r = 0; r < opts.repeats; r++) {
        last?.model.dispose();
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        last = await trainer.train(day, { kind: 'device', id: device });
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(c0);
        trainMs.push(ms);
        trainCpu.push((cpu.user + cpu.system) / 1000);
        epochs.push(last.report.epochs_run);
        perEpoch.push(last.report.duration_ms / last.report.epochs_run);
      }
      if (last === undefined) throw new Error('no repeats');
      // Model alone: 10,000 windows per batch.
      last.model.scoreRows(scoreRows.slice(0, 1000)); // warm-up
      const modelRates: number[] = [];
      for (let r = 0; r < Math.max(5, opts.repeats); r++) {
        const t0 = performance.now();
        last.model.scoreRows(scoreRows);
        modelRates.push(scoreRows.length / ((performance.now() - t0) / 1000));
      }
      // Detector end to end with a class model covering the fleet.
      await trainer.train(day.map((w) => ({ ...w })), { kind: 'class', id: 'infusion_pump' }, { min_windows: 10 });
      const detRates: number[] = [];
      for (let r = 0; r < Math.max(5, opts.repeats); r++) {
        const det = await Detector.open(config, store);
        const inv = () => ({ device_class: 'infusion_pump' as const, criticality: 'high' as const, name: '', vendor: '', first_seen: DEFAULT_START });
        // Get the fleet past learning mode first (not timed).
        const warm = fleet.map((w) => ({ ...w, window_start: w.window_start - 1000, window_end: w.window_end - 1000 }));
        await det.score(warm.filter((_, i) => i % 100 < 10), inv);
        const t0 = performance.now();
        await det.score(fleet, inv);
        detRates.push(fleet.length / ((performance.now() - t0) / 1000));
      }
      last.model.dispose();
      results.push({
        backend,
        train_ms_median: Math.round(median(trainMs)),
        train_ms_all: trainMs.map(Math.round),
        train_cpu_ms_median: Math.round(median(trainCpu)),
        train_cpu_ms_all: trainCpu.map(Math.round),
        epochs,
        ms_per_epoch_median: Math.round(median(perEpoch)),
        score_model_windows_per_s_median: Math.round(median(modelRates)),
        score_model_windows_per_s_all: modelRates.map(Math.round),
        score_detector_windows_per_s_median: Math.round(median(detRates)),
        score_detector_windows_per_s_all: detRates.map(Math.round),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const cfg = parseDetectConfig({});
  const meta = {
    windows_per_training: opts.windows,
    repeats: opts.repeats,
    architecture: `${FEATURE_DIM()}→${cfg.model.hidden_units.join('→')}→${[...cfg.model.hidden_units].reverse().slice(1).join('→')}${cfg.model.hidden_units.length > 1 ? '→' : ''}${FEATURE_DIM()} (${cfg.model.activation})`,
    training: `batch ${cfg.training.batch_size}, lr ${cfg.training.learning_rate}, ≤ ${cfg.training.max_epochs} epochs, patience ${cfg.training.patience}`,
    tfjs: tf.version.tfjs,
    node: process.version,
    tfjs_node: (await probeTfjsNode()).reason,
    cpus: os.cpus().length,
    loadavg_1m_at_end: Math.round(os.loadavg()[0] ?? 0),
  };
  const lines = [
    `Model (${meta.architecture}; ${meta.training}); one device, ${opts.windows} windows; medians of ${opts.repeats} training runs / ≥ 5 scoring runs of 10,000 windows. ` +
      `${meta.cpus} CPUs, load average ${meta.loadavg_1m_at_end} at the end (wall-clock times include waiting for a shared CPU; CPU time does not). tfjs-node: ${meta.tfjs_node}.`,
    '',
    '| backend | train one device, wall (s) | train, CPU time (s) | epochs | ms/epoch | score, model (windows/s) | score, detector end to end (windows/s) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.backend} | ${(r.train_ms_median / 1000).toFixed(1)} | ${(r.train_cpu_ms_median / 1000).toFixed(1)} | ${median(r.epochs)} | ${r.ms_per_epoch_median} | ${r.score_model_windows_per_s_median.toLocaleString('en-US')} | ${r.score_detector_windows_per_s_median.toLocaleString('en-US')} |`,
    ),
  ];
  return { results, markdown: lines.join('\n'), meta };
}

function FEATURE_DIM(): number {
  return benignWindows({ device_id: 'x', count: 1, seed: 0 })[0]?.values.length ?? 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href;
if (isMain) {
  const node = await probeTfjsNode();
  const requested = arg('backends', node.available ? 'tensorflow,wasm,cpu' : 'cpu,wasm').split(',') as BackendName[];
  const out = await runModelBench({ repeats: Number(arg('repeats', '3')), backends: requested, windows: Number(arg('windows', '8640')) });
  process.stdout.write(JSON.stringify({ bench: 'model', meta: out.meta, results: out.results }) + '\n\n' + out.markdown + '\n');
}
