/**
 * `wardwatch train <capture>`: learns the baseline models from a capture's time range (src/train.ts) into the model
 * store; progress on stderr, the summary of each model on stdout. A running detector picks the new versions up
 * within detect.reload_check_ms.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import type { DetectConfig } from '../detect/index.js';
import { readInventoryFile } from '../flows/inventory-file.js';
import { parseTime } from './options.js';
import { trainFromCapture, trainFromKafka, type TrainedModelResult, type TrainFromCaptureResult } from '../train.js';
import { Topology } from '../compose/topology.js';
import { detectPatch } from './options.js';
import { topicNames } from '../transport/kafka/topics.js';

interface TrainCommandOptions {
  from?: string;
  to?: string;
  modelsDir?: string;
  backend?: DetectConfig['backend'];
  inventory?: string;
  excludeAlerts?: string;
  json?: boolean;
  fromKafka?: boolean;
  config?: string;
}

/** Anomaly alerts from an alerts.jsonl file (lines that are not alerts are skipped). */
export function readAlertsJsonl(file: string): { kind: string; device_id: string; since: number; ts: number }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('--exclude-alerts', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const out: { kind: string; device_id: string; since: number; ts: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const a = JSON.parse(line) as Record<string, unknown>;
      if (typeof a.kind === 'string' && typeof a.device_id === 'string' && typeof a.since === 'number' && typeof a.ts === 'number') {
        out.push({ kind: a.kind, device_id: a.device_id, since: a.since, ts: a.ts });
      }
    } catch {
      // not JSON: skipped
    }
  }
  return out;
}

function describeModel(r: TrainedModelResult): string {
  const scope = `${r.scope.kind}:${r.scope.id}`;
  if (r.error) return `  ${scope}: not trained (${r.windows} windows): ${r.error.message}`;
  return `  ${r.model}: ${r.windows} windows${r.excluded_alerted ? ` (${r.excluded_alerted} excluded: inside alerts)` : ''}, ${r.epochs} epochs, threshold ${r.threshold?.toPrecision(3)}, ${((r.duration_ms ?? 0) / 1000).toFixed(1)} s`;
}

export function trainCommand(): Command {
  return new Command('train')
    .description("Learn each device's baseline model (and a model per device class) from the benign traffic of a capture's time range, or of the Kafka feature topic's.")
    .argument('[capture]', 'pcap/pcapng file of normal traffic (or --from-kafka)')
    .option('--from-kafka', 'read the windows of --from..--to (packet time) from the Kafka feature topic and the device classes from the inventory topic (transport.kafka of --config)')
    .option('-c, --config <file>', 'YAML configuration (with --from-kafka: transport.kafka; WARDWATCH_KAFKA_BROKERS works too)')
    .option('--from <time>', 'first moment to learn: ISO-8601 UTC or epoch seconds (default: the capture start + detect.startup_grace_s, 300 s)')
    .option('--to <time>', 'last moment to learn: ISO-8601 UTC or epoch seconds (default: the capture end)')
    .option('--models-dir <dir>', 'model store directory, new versions are added (overrides detect.models_dir; default out/models, never the shipped demo models)')
    .addOption(new Option('--backend <name>', 'TF.js backend (overrides detect.backend; default auto)').choices(['auto', 'wasm', 'cpu', 'tfjs-node']))
    .option('--inventory <file>', 'operator inventory file (device classes and criticality, YAML/JSON)')
    .option('--exclude-alerts <file>', 'alerts.jsonl: windows inside these anomaly alerts are not learned')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
A device gets its own model with >= detect.device_model_min_windows windows (6 h of 10-s windows); a device class gets
one with >= detect.learning_min_windows windows over its devices (1 h). Windows inside alerts are not learned: those
of --exclude-alerts and those the store's current models alert on.

Examples:
  wardwatch train day.pcap
  wardwatch train week.pcapng --from 2026-01-05T00:00:00Z --to 2026-01-06T00:00:00Z --models-dir /var/lib/wardwatch/models
  wardwatch train day.pcap --exclude-alerts out/alerts.jsonl --backend wasm
  wardwatch train --from-kafka -c /etc/wardwatch/wardwatch.yaml --from 2026-01-05T00:00:00Z --to 2026-01-06T00:00:00Z`,
    )
    .action(async (capture: string | undefined, o: TrainCommandOptions) => {
      if (o.fromKafka ? capture !== undefined : capture === undefined) throw new ConfigError('<capture>', 'give a capture file, or --from-kafka (not both)');
      const t = Topology.load(o.config, detectPatch(o));
      const config = t.config.detect;
      const from = o.from !== undefined ? parseTime(o.from, '--from') : undefined;
      const to = o.to !== undefined ? parseTime(o.to, '--to') : undefined;
      const err = (line: string) => process.stderr.write(`${line}\n`);
      let lastPct = -1;
      let result: TrainFromCaptureResult;
      if (o.fromKafka) {
        const k = t.config.transport.kafka;
        if (!k) throw new ConfigError('transport.kafka', '--from-kafka needs Kafka: set transport.kafka.brokers in --config (or WARDWATCH_KAFKA_BROKERS)');
        err(`train: reading the windows of ${o.from ?? 'the start'} .. ${o.to ?? 'the end'} from ${topicNames(k.topics).features}`);
        const { kafkaFromConfig } = await import('../compose/kafka.js');
        result = await trainFromKafka(kafkaFromConfig(k), k.brokers, config, {
          topics: topicNames(k.topics),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(o.excludeAlerts ? { exclude_alerts: readAlertsJsonl(o.excludeAlerts) } : {}),
          onWindows: (i) => err(`train: ${i.in_range} of ${i.windows} windows in range, ${i.devices} devices, ${i.jobs} models to train, ${i.excluded_ranges} alerted ranges excluded`),
          onModel: (r, done, total) => err(`train: [${done}/${total}]${describeModel(r)}`),
        });
      } else result = await trainFromCapture(capture!, config, {
        ...t.analysisOptions(),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(o.inventory ? { inventoryFile: readInventoryFile(o.inventory) } : {}),
        ...(o.excludeAlerts ? { exclude_alerts: readAlertsJsonl(o.excludeAlerts) } : {}),
        onProgress: (p) => {
          const pct = p.bytes_total > 0 ? Math.floor((100 * p.bytes_read) / p.bytes_total / 10) * 10 : -1;
          if (pct > lastPct) {
            lastPct = pct;
            err(`train: reading ${capture}: ${pct}% (${p.packets} packets)`);
          }
        },
        onWindows: (i) => err(`train: ${i.in_range} of ${i.windows} windows in range, ${i.devices} devices, ${i.jobs} models to train, ${i.excluded_ranges} alerted ranges excluded`),
        onModel: (r, done, total) => err(`train: [${done}/${total}]${describeModel(r)}`),
      });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const iso = (t: number) => (Number.isFinite(t) ? new Date(t * 1000).toISOString() : '-');
      const ok = result.models.filter((m) => m.model);
      const lines = [
        `trained ${ok.length} of ${result.models.length} models into ${result.models_dir} (backend ${result.backend.active}) from ${result.windows_in_range} windows, ${iso(result.from)} .. ${iso(result.to)}`,
        ...(ok.length > 0 && o.modelsDir === undefined ? [`  run, replay, evaluate and detect score with this store from now on (detect.models_dir); the shipped demo models stay as they are`] : []),
        ...result.models.map(describeModel),
      ];
      if (result.devices_without_model.length) {
        lines.push(`  ${result.devices_without_model.length} devices without a model of their own (too few windows; their class model scores them): ${result.devices_without_model.map((d) => `${d.device_id} (${d.windows})`).join(', ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
