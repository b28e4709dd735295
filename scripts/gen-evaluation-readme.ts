#!/usr/bin/env node
/**
 * `node dist/scripts/gen-evaluation-readme.js` (`npm run readme:evaluation`): regenerates the README's evaluation tables
 * (between the `<!-- evaluation:begin -->` / `<!-- evaluation:end -->` markers), never edited by hand:
 *
 * 1. the shipped demo capture (captures/demo.pcap) replayed with the committed demo models (models/, made by
 *    scripts/make-demo-models.ts);
 * 2. the held-out simulator evaluations (test/eval/scenario.ts), models trained in a temporary store on each scenario's
 *    benign day and evaluated on its held-out traffic seed — reported, not tuned on: the main scenario (12 attack
 *    kinds and two identity spoofs, the floors test) and the slow one (beacons, slow exfiltration, a single lateral connection, quiet devices);
 * 3. the real-device sets of ../shared/dev-eval (D1, D2), as `wardwatch evaluate <set>.pcap --labels <set>.labels.json`
 *    runs them (train before train_end, evaluate the rest).
 *
 * Options: --skip-fresh (keep the simulator held-out tables already in the README), --skip-real (keep the real-device
 * tables).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDetectConfig } from '../src/detect/index.js';
import { trainFromCapture } from '../src/train.js';
import { calibrationText, evaluateCapture, readLabels, type CaptureEvaluation } from '../src/evaluate.js';
import { describeError } from '../src/errors.js';
import * as S from '../test/eval/scenario.js';

const BEGIN = '<!-- evaluation:begin -->';
const END = '<!-- evaluation:end -->';
const block = (name: string) => [`<!-- evaluation-${name}:begin -->`, `<!-- evaluation-${name}:end -->`] as const;

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Markdown tables of one evaluation: per attack, per kind and overall, then the benign line and the floors. */
export function evaluationMarkdown(e: CaptureEvaluation, names: ReadonlyMap<string, string> = new Map()): string {
  const named = (t: string) => t.replace(/mac:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}|ip:[0-9a-f.:]*[0-9a-f]/g, (m) => names.get(m) ?? m);
  const lines = ['| attack | kind | device | detected by | delay (windows) | delay (s) | max window score | window ROC-AUC |', '|---|---|---|---|---:|---:|---:|---:|'];
  for (const a of e.attacks) {
    lines.push(`| ${a.id} | ${a.kind} | ${named(a.device_id)} | ${a.detected ? (a.alert_kind ?? '') : '**missed**'} | ${a.delay_windows ?? '-'} | ${a.delay_s === null ? '-' : a.delay_s.toFixed(0)} | ${fmt(a.max_score, 2)} | ${fmt(a.roc_auc)} |`);
  }
  lines.push('', '| kind | detected | delay (windows) | precision | recall | ROC-AUC |', '|---|---|---:|---:|---:|---:|');
  for (const [kind, r] of Object.entries(e.report.per_kind)) {
    lines.push(`| ${kind} | ${r.detected}/${r.attacks} | ${r.delays_windows.map((d) => (d === null ? 'missed' : String(d))).join(', ')} | ${fmt(r.precision)} | ${fmt(r.recall)} | ${fmt(r.roc_auc)} |`);
  }
  const o = e.report.overall;
  const max = Math.max(0, ...o.delays_windows.filter((d): d is number => d !== null));
  lines.push(`| **overall** | ${o.detected}/${o.attacks} | max ${max} | ${fmt(o.precision)} | ${fmt(o.recall)} | ${fmt(o.roc_auc)} |`);
  const r = e.report;
  const benign =
    r.device_days === 'listed'
      ? `Benign part: ${fmt(r.benign_device_days, 2)} device-days (listed devices × evaluated span), ${r.false_alerts} false alerts = **${fmt(r.false_alerts_per_device_day, 2)} per device-day**${r.unlisted_alerts ? ` (${r.unlisted_alerts} alerts on unlabelled hosts, not counted)` : ''}.`
      : `Benign part: ${fmt(r.benign_device_days, 2)} device-days monitored (wall clock), ${r.false_alerts} false alerts = **${fmt(r.false_alerts_per_device_day, 2)} per device-day**` +
        ` (${fmt(r.false_alerts_per_active_device_day, 2)} per active device-day: ${r.benign_windows} benign windows with traffic = ${fmt(r.benign_active_device_days, 2)} device-days).`;
  lines.push(
    '',
    `${benign} Windows scored by a model: ${e.windows_scored}; in learning mode: ${e.learning_windows}. Calibration: ${calibrationText(r.benign_over_threshold, named)}.` +
      ` Floors (every attack within 3 windows, ≤ 1 false alert per device-day): ${e.floors.passed ? 'met' : `**not met**: ${named(e.floors.failures.join('; '))}`}.` +
      (e.unscored_attacks.length ? ` Attacks on devices no model scored (only the behavioural rules watch them): ${named(e.unscored_attacks.join('; '))}.` : ''),
  );
  return lines.join('\n');
}

/** Trains on a scenario's benign day in a temporary store and evaluates its held-out seed. */
async function heldOut(train: (out: string) => Promise<unknown>, evaluate: (out: string, seed: number) => Promise<unknown>, seed: number, from: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ww-eval-readme-'));
  try {
    await train(join(dir, 'train.pcap'));
    const config = parseDetectConfig({ models_dir: join(dir, 'models') });
    await trainFromCapture(join(dir, 'train.pcap'), config);
    await evaluate(join(dir, 'eval.pcap'), seed);
    const labels = readLabels(join(dir, 'eval.labels.json'));
    const e = await evaluateCapture(join(dir, 'eval.pcap'), labels, config, { from });
    return evaluationMarkdown(e, new Map(labels.devices.map((d) => [d.device_id, d.name])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = resolve('.');
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  if (!readme.includes(BEGIN) || !readme.includes(END)) throw new Error(`README.md lacks the ${BEGIN} / ${END} markers`);
  const kept = (name: string): string => {
    const [b, e] = block(name);
    return readme.includes(b) ? readme.slice(readme.indexOf(b) + b.length, readme.indexOf(e)).trim() : '(not generated yet: run without --skip-fresh / --skip-real)';
  };
  const labels = readLabels(join(root, 'captures/demo.labels.json'));
  const demo = await evaluateCapture(join(root, 'captures/demo.pcap'), labels, parseDetectConfig({ models_dir: join(root, 'models') }));
  const fresh = process.argv.includes('--skip-fresh') ? kept('fresh') : await heldOut(S.simulateTrainingDay, S.simulateEvaluation, S.HELD_OUT_SEED, S.MEASURE_FROM);
  const slow = process.argv.includes('--skip-fresh') ? kept('slow') : await heldOut(S.simulateSlowTrainingDay, S.simulateSlowEvaluation, S.SLOW_HELD_OUT_SEED, S.SLOW_MEASURE_FROM);
  const real: string[] = [];
  for (const set of S.DEV_EVAL_SETS) {
    if (process.argv.includes('--skip-real')) real.push(kept(`real-${set}`));
    else {
      const { evaluation, names } = await S.evaluateDevSet(set);
      real.push(evaluationMarkdown(evaluation, names));
    }
  }
  const wrap = (name: string, text: string) => [block(name)[0], text, block(name)[1]].join('\n');
  const section = [
    BEGIN,
    '<!-- Generated by `node dist/scripts/gen-evaluation-readme.js` (scripts/gen-evaluation-readme.ts). Do not edit by hand. -->',
    '',
    '**Demo capture** (`npx wardwatch evaluate captures/demo.pcap --labels captures/demo.labels.json`, the committed demo models; delay in windows of 10 s, 1 = alerted on the first attack window):',
    '',
    evaluationMarkdown(demo, new Map(labels.devices.map((d) => [d.device_id, d.name]))),
    '',
    `**Simulator, held-out seed** (the floors test, test/eval/floors.test.ts: a hospital of 16 devices + 9 servers, layout seed ${S.LAYOUT_SEED}; models trained on a benign day with traffic seed ${S.TRAIN_SEED}; evaluated on 4.25 h with held-out traffic seed ${S.HELD_OUT_SEED} — no capture with that seed was used to choose settings — one attack of each of the 12 original kinds, then a monitor sending HL7 ADT messages and the CT querying its PACS from a new AE title (\`identity_spoof\`), measured from +1 h):`,
    '',
    wrap('fresh', fresh),
    '',
    `**Simulator, slow and periodic attacks, held-out seed** (test/eval/scenario.ts "slow": the same hospital with 3 quiet devices (traffic in ≤ 5 % of windows), layout seed ${S.SLOW_LAYOUT_SEED}, trained on a benign day with traffic seed ${S.SLOW_TRAIN_SEED}, evaluated on 4 h with held-out seed ${S.SLOW_HELD_OUT_SEED}: beacons every 30 s, 2 min and 10 min (±20 % jitter), 25 MB exfiltrated over 30 min, one lateral-movement connection, a port scan from a quiet device; measured from +1 h):`,
    '',
    wrap('slow', slow),
    '',
    ...S.DEV_EVAL_SETS.flatMap((set, i) => [
      `**Real device ${set}** (\`npx wardwatch evaluate ../shared/dev-eval/${set}.pcap --labels ../shared/dev-eval/${set}.labels.json\`: trained on the capture before its train_end in a temporary store, evaluated after it with the generic rules of src/records/labels.ts):`,
      '',
      wrap(`real-${set}`, real[i] ?? ''),
      '',
    ]),
    END,
  ].join('\n');
  const out = readme.slice(0, readme.indexOf(BEGIN)) + section + readme.slice(readme.indexOf(END) + END.length);
  writeFileSync(readmePath, out);
  process.stderr.write(`gen-evaluation-readme: wrote ${readmePath}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gen-evaluation-readme: ${describeError(err)}\n`);
  process.exitCode = 1;
});
