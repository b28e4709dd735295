/**
 * Model benchmark for BENCHMARKS.md (`WW_BENCH_ONLY=model npm run bench`): bench/model.ts run in-process for the
 * WASM backend (the default of `auto` without tfjs-node) beside the CPU backend (the reference column) and tfjs-node
 * when installed. Issue 7's targets: ≤ 10 s to train one device on a day of 10-s windows, ≥ 20,000 windows/s scoring.
 */
import { probeTfjsNode, type BackendName } from '../src/detect/backend.js';
import { runModelBench } from './model.js';
import { median, registerBenchmark, type BenchRow, type Measurement } from './registry.js';

const REPEATS = Number(process.env['WW_BENCH_MODEL_REPEATS'] ?? 3);
const WINDOWS = Number(process.env['WW_BENCH_MODEL_WINDOWS'] ?? 8640);

const m = (runs: number[], unit: string): Measurement => ({ median: median(runs), runs, unit });

registerBenchmark({
  name: 'model',
  title: 'Baseline model: training and scoring',
  async run() {
    const node = await probeTfjsNode();
    const backends: BackendName[] = node.available ? ['wasm', 'cpu', 'tensorflow'] : ['wasm', 'cpu'];
    const out = await runModelBench({ repeats: REPEATS, backends, windows: WINDOWS });
    const ours = out.results.find((r) => r.backend === 'wasm');
    if (!ours) throw new Error('model bench: no wasm result');
    const refs = out.results.filter((r) => r !== ours);
    const row = (what: string, pick: (r: (typeof out.results)[number]) => number[], unit: string, command: string, notes: string[] = []): BenchRow => ({
      what,
      ours: m(pick(ours), unit),
      references: refs.map((r) => ({ tool: `TF.js ${r.backend} backend`, measurement: m(pick(r), unit), command })),
      notes,
    });
    const cmd = 'node dist/bench/model.js --backends cpu (same code, same windows)';
    return {
      description: [
        `${out.markdown.split('\n')[0] ?? ''}`,
        'wardwatch column: the WASM backend (what `detect.backend: auto` uses when tfjs-node is not installed); reference column: the same code on the TF.js CPU backend' +
          (node.available ? ' and on tfjs-node' : ' (tfjs-node is not installed)') +
          '. Training = `Trainer.train` on one device (split, scaler, autoencoder with early stopping, threshold, save to the store); scoring = batches of 10,000 windows through the model alone, and 100 devices × 100 windows through `Detector.score` (K-of-N, WindowScores, alert building). Targets (issue 7): ≤ 10 s to train one device on a day of 10-s windows, ≥ 20,000 windows/s scoring. For time, lower is better; for windows/s, higher is better.',
      ],
      rows: [
        row(`train one device on ${WINDOWS.toLocaleString('en-US')} 10-s windows, wall time`, (r) => r.train_ms_all, 'ms', cmd, [`epochs per run: ${ours.epochs.join(', ')}; ms per epoch (median): ${ours.ms_per_epoch_median}`]),
        row('train one device, CPU time (user + system)', (r) => r.train_cpu_ms_all, 'ms', cmd),
        row('score windows, model alone (batches of 10,000)', (r) => r.score_model_windows_per_s_all, 'windows/s', cmd),
        row('score windows, Detector end to end (100 devices × 100 windows)', (r) => r.score_detector_windows_per_s_all, 'windows/s', cmd),
      ],
    };
  },
});
