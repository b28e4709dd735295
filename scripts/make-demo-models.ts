#!/usr/bin/env node
/**
 * `node dist/scripts/make-demo-models.js`: regenerates the committed demo models in models/ (see models/README.md).
 *
 * captures/demo.pcap holds 30 minutes of benign traffic, too short to learn from, so its hospital's baseline comes
 * from a day of simulated benign traffic of the SAME hospital the day before (same seed, so the same devices and
 * device configuration): 2026-01-04T08:00Z for 25 h, ending when the demo starts. The first hour is not learned: its
 * traffic streams are the ones the demo's first minutes replay (same seed), so learning it would train on the demo.
 * Then the demo is replayed with the new models and the evaluation table printed.
 *
 * Options: --models-dir <dir> (default models), --keep <dir> (keep the training capture there).
 */
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simulateCommand } from '../src/simulate/command.js';
import type { SimulateSummary } from '../src/simulate/simulate.js';
import { parseDetectConfig } from '../src/detect/index.js';
import { MODEL_SCOPE_KINDS } from '../src/detect/store.js';
import { trainFromCapture } from '../src/train.js';
import { evaluateCapture, formatEvaluation, readLabels } from '../src/evaluate.js';
import { describeError } from '../src/errors.js';

export const DEMO_TRAINING_ARGS = [
  '--no-attacks', // a benign day (simulate adds attacks by default)
  '--seed', '20260105',
  '--start', '2026-01-04T08:00:00Z',
  '--duration', '25h',
  '--devices', 'pump=3,monitor=4,imaging=1,pacs=1,reading_ws=1,nurse_pc=3,telemetry=2,lab=2,bacnet=3',
  '--dicom-image-bytes', '2048',
];
export const DEMO_TRAIN_FROM = '2026-01-04T09:00:00Z';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const modelsDir = resolve(opt('--models-dir') ?? 'models');
  const keep = opt('--keep');
  const work = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'ww-demo-models-'));
  const capture = join(work, 'demo-training.pcap');
  try {
    let summary: SimulateSummary | undefined;
    await simulateCommand((s) => (summary = s)).parseAsync(['node', 'simulate', ...DEMO_TRAINING_ARGS, '-q', '-o', capture]);
    process.stderr.write(`make-demo-models: training capture ${capture}: ${summary?.frames} frames\n`);
    // A fresh store: the committed models are exactly what this run trains.
    for (const entry of [...MODEL_SCOPE_KINDS, 'GENERATION']) rmSync(join(modelsDir, entry), { recursive: true, force: true });
    const config = parseDetectConfig({ models_dir: modelsDir });
    const result = await trainFromCapture(capture, config, {
      from: Date.parse(DEMO_TRAIN_FROM) / 1000,
      onModel: (r, done, total) => process.stderr.write(`make-demo-models: [${done}/${total}] ${r.model ?? `${r.scope.kind}:${r.scope.id} not trained: ${r.error?.message}`}\n`),
    });
    const failed = result.models.filter((m) => !m.model);
    if (failed.length) throw new Error(`${failed.length} models not trained`);
    process.stdout.write(`trained ${result.models.length} models into ${modelsDir} from ${result.windows_in_range} windows\n\n`);
    const labels = readLabels('captures/demo.labels.json');
    const evaluation = await evaluateCapture('captures/demo.pcap', labels, config);
    process.stdout.write(`captures/demo.pcap replayed with them:\n\n${formatEvaluation(evaluation, new Map(labels.devices.map((d) => [d.device_id, d.name])))}`);
    writeFileSync(join(modelsDir, 'demo-evaluation.json'), `${JSON.stringify({ ...evaluation, alerts: evaluation.alerts.length, capture: 'captures/demo.pcap' }, null, 2)}\n`);
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`make-demo-models: kept ${readdirSync(work).join(', ')} in ${work}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`make-demo-models: ${describeError(err)}\n`);
  process.exitCode = 1;
});
