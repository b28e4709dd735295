/**
 * Architecture / training-setting selection by measurement. For each candidate setting: train one device on a day
 * of 10-s windows, then measure on a held-out day (another seed, never used for training) the share of benign windows
 * over the threshold, the K-of-N false alerts, and for each anomaly kind the median score of anomalous windows (how
 * far above the threshold — the detection margin) and the detection delay in windows. CPU time of training too.
 *
 *   npm run build && taskset -c 1 node dist/bench/model-select.js [--windows 8640]
 *
 * Phase 1 runs it on the synthetic generator of test/support (documented there); phase 2 reruns it on simulator
 * captures (seeds distinct from the evaluation capture) and the defaults in src/detect/config.ts follow the result.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../src/detect/backend.js';
import { parseDetectConfig } from '../src/detect/config.js';
import { Detector } from '../src/detect/detector.js';
import { ModelStore } from '../src/detect/store.js';
import { Trainer } from '../src/detect/trainer.js';
import { ANOMALY_KINDS, benignWindows, DEFAULT_START, withAnomaly } from '../test/support/synthetic-windows.js';

const CANDIDATES: { name: string; model?: object; training?: object }[] = [
  { name: '16→6', model: { hidden_units: [16, 6] } },
  { name: '24→8', model: { hidden_units: [24, 8] } },
  { name: '32→6', model: { hidden_units: [32, 6] } },
  { name: '32→12 batch 256 lr 0.01', model: { hidden_units: [32, 12] }, training: { batch_size: 256, learning_rate: 0.01 } },
  { name: '32→16→8', model: { hidden_units: [32, 16, 8] } },
  { name: '32→12 relu', model: { hidden_units: [32, 12], activation: 'relu' } },
  { name: '32→12 batch 512 lr 0.02 (default)', model: { hidden_units: [32, 12] } },
];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const DEVICE = 'mac:02:00:00:00:00:01';
const inventory = () => ({ device_class: 'infusion_pump' as const, criticality: 'high' as const, name: '', vendor: '', first_seen: DEFAULT_START });

const windows = Number(arg('windows', '8640'));
await selectBackend(arg('backend', 'wasm') as 'wasm' | 'cpu', 'train');
const day = benignWindows({ device_id: DEVICE, count: windows, seed: 1 });
const heldout = benignWindows({ device_id: DEVICE, count: 8640, seed: 2, start: DEFAULT_START + 86_400 });
const rows: string[] = [];
const json: unknown[] = [];
for (const c of CANDIDATES) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ww-select-'));
  try {
    const config = parseDetectConfig({ models_dir: dir, learning_min_windows: 10, device_model_min_windows: 10, reload_check_ms: 60_000, ...(c.model ? { model: c.model } : {}), ...(c.training ? { training: c.training } : {}) });
    const c0 = process.cpuUsage();
    const r = await new Trainer(config, new ModelStore(dir)).train(day, { kind: 'device', id: DEVICE });
    const cpu = process.cpuUsage(c0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const det = await Detector.open(config, new ModelStore(dir));
    const benignAlerts = (await det.score(heldout, inventory)).alerts.filter((a) => a.kind === 'anomaly').length;
    const overShare = det.counters.get('windows_over_threshold') / heldout.length;
    const perKind: Record<string, { median_score: number; delay_windows: number | null }> = {};
    for (const kind of ANOMALY_KINDS) {
      const d2 = await Detector.open(config, new ModelStore(dir));
      const base = benignWindows({ device_id: DEVICE, count: 40, seed: 3, start: DEFAULT_START + 2 * 86_400 });
      await d2.score(base.slice(0, 30), inventory);
      const attack = base.slice(30, 40).map((w) => withAnomaly(w, kind));
      const scores = r.model.scoreRows(attack.map((w) => w.values)).scores;
      const alerts = (await d2.score(attack, inventory)).alerts.filter((a) => a.kind === 'anomaly');
      const firstTs = alerts[0]?.ts;
      perKind[kind] = {
        median_score: median(Array.from(scores)),
        delay_windows: firstTs === undefined ? null : attack.findIndex((w) => w.window_end === firstTs) + 1,
      };
    }
    const minMargin = Math.min(...Object.values(perKind).map((k) => k.median_score));
    json.push({ candidate: c.name, epochs: r.report.epochs_run, val_loss: r.report.val_loss, train_cpu_s: cpuS, over_share: overShare, benign_alerts: benignAlerts, per_kind: perKind });
    rows.push(
      `| ${c.name} | ${cpuS.toFixed(1)} | ${r.report.epochs_run} | ${r.report.val_loss.toFixed(4)} | ${(overShare * 100).toFixed(2)} % | ${benignAlerts} | ` +
        ANOMALY_KINDS.map((k) => `${perKind[k]?.median_score.toFixed(0)} (${perKind[k]?.delay_windows ?? '—'})`).join(' | ') +
        ` | ${minMargin.toFixed(0)} |`,
    );
    r.model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
process.stdout.write(JSON.stringify({ bench: 'model-select', windows, results: json }) + '\n\n');
process.stdout.write(
  [
    `Held-out benign day: 8,640 windows (seed 2); anomalies injected into 10 consecutive windows (seed 3). Score = error ÷ threshold; "(n)" = alert after n anomalous windows.`,
    '',
    `| candidate | train CPU (s) | epochs | val loss | benign windows over threshold | benign K-of-N alerts | ${ANOMALY_KINDS.map((k) => `${k} median score (delay)`).join(' | ')} | weakest margin |`,
    `|---|---:|---:|---:|---:|---:|${ANOMALY_KINDS.map(() => '---:').join('|')}|---:|`,
    ...rows,
  ].join('\n') + '\n',
);
