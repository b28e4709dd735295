/**
 * Detector tuning on simulator captures: trains on the scenario's benign day (test/eval/scenario.ts) and evaluates
 * detector settings on evaluation captures with TUNING traffic seeds only — the held-out seed of the floors test is
 * refused, so settings are never chosen on it.
 *
 *   npm run build && node dist/bench/model-tune.js [--scenario main|slow] [--seeds 7201,7202] [--variants '{"name": {detect options}}'] [--dir /tmp/ww-tune]
 *
 * Captures and trained stores are cached in --dir (keyed by seed / by the training options), so re-running with other
 * alerting options only replays. Prints one line per variant and seed, then per variant the worst over the seeds.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseDetectConfig } from '../src/detect/index.js';
import { trainFromCapture } from '../src/train.js';
import { evaluateCapture, formatEvaluation, readLabels } from '../src/evaluate.js';
import * as S from '../test/eval/scenario.js';

/**
 * The two simulator scenarios (test/eval/scenario.ts): `main` (12 attack kinds and two identity spoofs, the floors test) and `slow` (beacons at
 * 30 s / 2 min / 10 min, slow exfiltration, a single lateral connection, quiet devices). Each has its held-out seed,
 * refused here.
 */
const SCENARIOS = {
  main: { held_out: S.HELD_OUT_SEED, tuning: S.TUNING_SEEDS, train_seed: S.TRAIN_SEED, measure_from: S.MEASURE_FROM, train: S.simulateTrainingDay, evaluate: S.simulateEvaluation },
  slow: { held_out: S.SLOW_HELD_OUT_SEED, tuning: S.SLOW_TUNING_SEEDS, train_seed: S.SLOW_TRAIN_SEED, measure_from: S.SLOW_MEASURE_FROM, train: S.simulateSlowTrainingDay, evaluate: S.simulateSlowEvaluation },
} as const;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Options that change the trained models (everything else only changes scoring and alerting). */
const TRAINING_KEYS = ['scaler', 'model', 'training', 'threshold', 'threshold_floor', 'class_model_min_windows', 'device_model_min_windows', 'learning_min_windows', 'startup_grace_s'];

async function main(): Promise<void> {
  const scenarioName = (arg('scenario') ?? 'main') as keyof typeof SCENARIOS;
  const sc = SCENARIOS[scenarioName];
  if (!sc) throw new Error(`--scenario: ${scenarioName} is not one of ${Object.keys(SCENARIOS).join(', ')}`);
  const dir = path.resolve(arg('dir') ?? `/tmp/ww-tune${scenarioName === 'main' ? '' : `-${scenarioName}`}`);
  const seeds = (arg('seeds') ?? sc.tuning.join(',')).split(',').map(Number);
  if (seeds.includes(sc.held_out)) throw new Error(`seed ${sc.held_out} is the held-out seed of the ${scenarioName} scenario: settings are never tuned on it`);
  const variants = JSON.parse(arg('variants') ?? '{"default": {}}') as Record<string, Record<string, unknown>>;
  const verbose = process.argv.includes('--verbose');
  mkdirSync(dir, { recursive: true });
  const trainPcap = path.join(dir, `train-${sc.train_seed}.pcap`);
  if (!existsSync(trainPcap)) await sc.train(trainPcap);
  for (const seed of seeds) {
    const p = path.join(dir, `eval-${seed}.pcap`);
    if (!existsSync(p)) await sc.evaluate(p, seed);
  }
  const summary: string[] = [];
  for (const [name, raw] of Object.entries(variants)) {
    // Keyed by the effective training options (defaults filled in), so a changed default retrains.
    const effective = parseDetectConfig(raw) as Record<string, unknown>;
    const trainingPart = Object.fromEntries(TRAINING_KEYS.map((k) => [k, effective[k]]));
    const key = createHash('sha256').update(JSON.stringify(trainingPart)).digest('hex').slice(0, 10);
    const modelsDir = path.join(dir, `models-${key}`);
    const config = parseDetectConfig({ ...raw, models_dir: modelsDir });
    if (!existsSync(path.join(modelsDir, 'GENERATION'))) {
      rmSync(modelsDir, { recursive: true, force: true });
      const t0 = Date.now();
      const r = await trainFromCapture(trainPcap, config);
      process.stderr.write(`[${name}] trained ${r.models.filter((m) => m.model).length} models in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    const rows: { seed: number; detected: number; attacks: number; maxDelay: number; slow: number | null; fa: number; days: number; activeDays: number; failures: number }[] = [];
    for (const seed of seeds) {
      const pcap = path.join(dir, `eval-${seed}.pcap`);
      const labels = readLabels(pcap.replace(/\.pcap$/, '.labels.json'));
      const t0 = Date.now();
      const e = await evaluateCapture(pcap, labels, config, { from: sc.measure_from });
      const delays = e.attacks.map((a) => a.delay_windows ?? Infinity);
      const row = {
        seed,
        detected: e.attacks.filter((a) => a.detected).length,
        attacks: e.attacks.length,
        maxDelay: Math.max(...delays),
        slow: e.attacks.find((a) => a.kind === 'slow_scan')?.delay_windows ?? null,
        fa: e.report.false_alerts,
        days: e.report.benign_device_days,
        activeDays: e.report.benign_active_device_days,
        failures: e.floors.failures.length,
      };
      rows.push(row);
      const perKind = e.attacks.map((a) => `${a.kind}=${a.delay_windows ?? 'miss'}`).join(' ');
      process.stdout.write(
        `${name}\tseed ${seed}\tdetected ${row.detected}/${row.attacks}\tmax delay ${row.maxDelay}\tslow ${row.slow}\tFA ${row.fa} / ${row.days.toFixed(2)} dd = ${(row.fa / row.days).toFixed(2)} (active ${row.activeDays.toFixed(2)} dd: ${(row.fa / row.activeDays).toFixed(2)})\tAUC ${e.report.overall.roc_auc.toFixed(3)}\t(${((Date.now() - t0) / 1000).toFixed(0)} s)\n\t${perKind}\n`,
      );
      if (verbose) process.stdout.write(formatEvaluation(e, new Map(labels.devices.map((d) => [d.device_id, d.name]))).replace(/^/gm, '\t') + '\n');
    }
    const fa = rows.reduce((s, r) => s + r.fa, 0);
    const days = rows.reduce((s, r) => s + r.days, 0);
    const activeDays = rows.reduce((s, r) => s + r.activeDays, 0);
    summary.push(
      `| ${name} | ${JSON.stringify(raw).replace(/\|/g, '/')} | ${rows.reduce((s, r) => s + r.detected, 0)}/${rows.reduce((s, r) => s + r.attacks, 0)} | ${Math.max(...rows.map((r) => r.maxDelay))} | ${rows.map((r) => r.slow ?? 'miss').join(', ')} | ${rows.map((r) => r.fa).join(', ')} | ${(fa / days).toFixed(2)} | ${(fa / activeDays).toFixed(2)} | ${rows.filter((r) => r.failures === 0).length}/${rows.length} |`,
    );
  }
  process.stdout.write(`\nseeds ${seeds.join(', ')}\n| variant | options | detected | max delay | slow_scan delay per seed | false alerts per seed | per device-day (wall clock) | per active device-day | seeds meeting the floors |\n|---|---|---|---:|---|---|---:|---:|---|\n${summary.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
