/**
 * `wardwatch evaluate <capture> --labels <file>`: replays a labelled (simulator) capture through the detector with the
 * store's models and prints, per attack kind and overall, detection, delay, precision, recall and ROC-AUC, and false
 * alerts per device-day on the benign part (src/evaluate.ts). It is a measurement: exit code 0 whatever the numbers,
 * unless --check-floors is given (then 1 when a floor fails).
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { parseDetectConfig, type DetectConfig } from '../detect/index.js';
import { evaluateCapture, formatEvaluation, readLabels, EVALUATION_FLOORS } from '../evaluate.js';
import { parseTime } from '../train.js';

interface EvaluateCommandOptions {
  labels: string;
  modelsDir: string;
  backend: DetectConfig['backend'];
  json?: string;
  checkFloors?: boolean;
  from?: string;
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('Measure detection on a labelled capture: per attack kind and overall, detected, delay, precision, recall, ROC-AUC, false alerts per device-day.')
    .argument('<capture>', 'pcap/pcapng file with labelled attacks (e.g. made by wardwatch simulate)')
    .requiredOption('--labels <file>', 'ground truth: the simulator labels JSON (<capture>.labels.json)')
    .option('--models-dir <dir>', 'model store directory', 'models')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['auto', 'wasm', 'cpu', 'tfjs-node']).default('auto'))
    .option('--from <time>', 'measure from this time (ISO-8601 or epoch seconds; the whole capture is still replayed), e.g. after a simulated boot')
    .option('--json <file>', 'also write the full evaluation (report, per-attack results, floors) as JSON')
    .option('--check-floors', `exit 1 unless every attack is detected within ${EVALUATION_FLOORS.max_delay_windows} windows and there are ≤ ${EVALUATION_FLOORS.max_false_alerts_per_device_day} false alerts per device-day`)
    .addHelpText(
      'after',
      `
Delay is in windows: 1 = alerted on the first window overlapping the attack. Window metrics count only windows a
model scored (devices in learning mode are left out). Models must come from other traffic than the capture evaluated
(e.g. wardwatch train on a capture with the same --layout-seed and another --seed).

Examples:
  wardwatch evaluate captures/demo.pcap --labels captures/demo.labels.json
  wardwatch evaluate eval.pcap --labels eval.labels.json --models-dir /tmp/models --json out/eval.json --check-floors`,
    )
    .action(async (capture: string, o: EvaluateCommandOptions) => {
      const config = parseDetectConfig({ models_dir: o.modelsDir, backend: o.backend });
      const labels = readLabels(o.labels);
      let lastPct = -1;
      const evaluation = await evaluateCapture(capture, labels, config, {
        ...(o.from !== undefined ? { from: parseTime(o.from, '--from') } : {}),
        onProgress: (p) => {
          const pct = p.bytes_total > 0 ? Math.floor((100 * p.bytes_read) / p.bytes_total / 10) * 10 : -1;
          if (pct > lastPct) {
            lastPct = pct;
            process.stderr.write(`evaluate: replaying ${capture}: ${pct}% (${p.packets} packets)\n`);
          }
        },
      });
      const names = new Map(labels.devices.map((d) => [d.device_id, d.name]));
      process.stdout.write(formatEvaluation(evaluation, names));
      if (o.json) {
        try {
          writeFileSync(o.json, `${JSON.stringify({ ...evaluation, alerts: evaluation.alerts.length }, null, 2)}\n`);
        } catch (err) {
          throw new ConfigError('--json', `cannot write ${o.json}: ${(err as Error).message}`, { cause: err });
        }
      }
      if (o.checkFloors && !evaluation.floors.passed) process.exitCode = 1;
    });
}
