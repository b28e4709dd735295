/**
 * `wardwatch evaluate <capture> --labels <file>`: replays a labelled capture (generic labels or the simulator's,
 * src/records/labels.ts) through the detector and prints, per attack, per kind and overall, detection, delay, max
 * score, precision, recall and ROC-AUC, and false alerts per device-day on the benign part (src/evaluate.ts). With
 * `--train-before T` (default: the labels' `train_end`) it first trains on the capture before T into a temporary
 * model store. It is a measurement: exit code 0 whatever the numbers, unless --check-floors is given (then 1 when a
 * floor fails).
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import type { DetectConfig } from '../detect/index.js';
import { Topology } from '../compose/topology.js';
import { evaluateCapture, formatEvaluation, readLabels, EVALUATION_FLOORS } from '../evaluate.js';
import { detectPatch, parseTime } from './options.js';

interface EvaluateCommandOptions {
  labels: string;
  config?: string;
  modelsDir?: string;
  backend?: DetectConfig['backend'];
  json?: string;
  checkFloors?: boolean;
  from?: string;
  trainBefore?: string;
  train: boolean;
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('Measure detection on a labelled capture: per attack kind and overall, detected, delay, precision, recall, ROC-AUC, false alerts per device-day.')
    .argument('<capture>', 'pcap/pcapng file with labelled attacks (your own, or made by wardwatch simulate)')
    .requiredOption('--labels <file>', 'ground truth: generic labels JSON (devices, attacks, train_end; README "Evaluating on your own capture") or the simulator\'s (X.labels.json beside X.pcap)')
    .option('--train-before <time>', "train on the capture's packets before this time into a temporary model store, then evaluate the rest (default: the labels' train_end when they have one)")
    .option('--no-train', "never train: use the models of --models-dir even when the labels have a train_end")
    .option('-c, --config <file>', 'YAML configuration (flows, devices, features and detect sections apply; default: built-in defaults)')
    .option('--models-dir <dir>', 'model store directory when not training (overrides detect.models_dir; default models)')
    .addOption(new Option('--backend <name>', 'TF.js backend (overrides detect.backend; default auto)').choices(['auto', 'wasm', 'cpu', 'tfjs-node']))
    .option('--from <time>', 'measure from this time (ISO-8601 or epoch seconds; the whole capture is still replayed), e.g. after a simulated boot')
    .option('--json <file>', 'also write the full evaluation (report, per-attack results, floors) as JSON; - = on stdout instead of the tables')
    .option('--check-floors', `exit 1 unless every attack is detected within ${EVALUATION_FLOORS.max_delay_windows} windows (beacons and slow exfiltration within ${EVALUATION_FLOORS.max_delay_slow_s / 60} min) and there are ≤ ${EVALUATION_FLOORS.max_false_alerts_per_device_day} false alerts per device-day`)
    .addHelpText(
      'after',
      `
Delay is in windows: 1 = alerted on the first window overlapping the attack. Window metrics count only windows a
model scored (devices in learning mode are left out). Models must come from other traffic than the part evaluated:
with generic labels that have a train_end, evaluate trains on the packets before it and measures after it;
otherwise give --models-dir (e.g. wardwatch train on a capture with the same --layout-seed and another --seed).

Examples:
  wardwatch evaluate my-week.pcap --labels my-week.labels.json
  wardwatch evaluate my-week.pcap --labels my-week.labels.json --train-before 2026-03-12T00:00:00Z --json -
  wardwatch evaluate captures/demo.pcap --labels captures/demo.labels.json
  wardwatch evaluate eval.pcap --labels eval.labels.json --models-dir /tmp/models --json out/eval.json --check-floors`,
    )
    .action(async (capture: string, o: EvaluateCommandOptions) => {
      const t = Topology.load(o.config, detectPatch(o));
      // Scored with a store only when not training first (the demo models while the user's default store is empty).
      const { detect: config, store } = await t.scoringConfig(true);
      const labels = readLabels(o.labels);
      const trainBefore = !o.train ? undefined : o.trainBefore !== undefined ? parseTime(o.trainBefore, '--train-before') : labels.train_end;
      // Which models are measured: trained here first, or a store (the shipped demo models while yours is empty).
      if (trainBefore === undefined) {
        process.stderr.write(store.shipped_demo ? `evaluate: scoring with the shipped demo models (${store.models_dir})\n` : `evaluate: scoring with the models in ${store.models_dir}\n`);
      }
      let lastPct = -1;
      const evaluation = await evaluateCapture(capture, labels, config, {
        ...t.analysisOptions(),
        ...(o.from !== undefined ? { from: parseTime(o.from, '--from') } : {}),
        ...(trainBefore !== undefined ? { train_before: trainBefore } : {}),
        onTraining: (phase, info) => {
          process.stderr.write(
            phase === 'start'
              ? `evaluate: training on ${capture} before ${new Date(info.to * 1000).toISOString()} (temporary model store)\n`
              : `evaluate: ${info.models ?? 0} models trained; replaying ${capture}\n`,
          );
          lastPct = -1;
        },
        onProgress: (p) => {
          const pct = p.bytes_total > 0 ? Math.floor((100 * p.bytes_read) / p.bytes_total / 10) * 10 : -1;
          if (pct > lastPct) {
            lastPct = pct;
            process.stderr.write(`evaluate: reading ${capture}: ${pct}% (${p.packets} packets)\n`);
          }
        },
      });
      const names = new Map(labels.devices.map((d) => [d.device_id, d.name]));
      for (const a of evaluation.attacks) if (!names.has(a.device_id)) names.set(a.device_id, labels.devices.find((d) => d.ip && a.device_id === `ip:${d.ip}`)?.name ?? a.device_id);
      const json = `${JSON.stringify({ ...evaluation, alerts: evaluation.alerts.length }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
      if (o.json === '-') process.stdout.write(json);
      else process.stdout.write(formatEvaluation(evaluation, names));
      if (o.json && o.json !== '-') {
        try {
          writeFileSync(o.json, json);
        } catch (err) {
          throw new ConfigError('--json', `cannot write ${o.json}: ${(err as Error).message}`, { cause: err });
        }
      }
      if (o.checkFloors && !evaluation.floors.passed) process.exitCode = 1;
    });
}
