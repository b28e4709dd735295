/**
 * `wardwatch run` and `wardwatch replay`: a capture through the whole pipeline in one process on the embedded bus
 * (no Kafka needed), alerts to the terminal, to alerts.jsonl and to whatever sinks the config names.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FlowJsonlWriter } from '../sinks/file/flow-jsonl.js';
import type { FlowRecord } from '../records/flow.js';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { WardwatchConfig } from '../config/schema.js';
import { ConfigError, CaptureError } from '../errors.js';
import { selectBackendFor } from '../detect/index.js';
import { replayCapture, type ReplayResult } from '../replay.js';
import type { Alert } from '../records/alert.js';
import { SinkSet } from '../sinks/fanout.js';
import { ReportCollector, type ReportSummary } from '../sinks/report/html.js';
import { Progress } from './progress.js';

export interface ReplayCliOptions {
  config?: string;
  speed: string;
  from?: string;
  to?: string;
  runId?: string;
  alerts?: string;
  modelsDir?: string;
  quiet?: boolean;
  /** Forensic HTML report to write (sinks/report). */
  report?: string;
}

/** `max`, `1x`, `10x`, `0.5x` → undefined (as fast as possible) or the factor. */
export function parseSpeed(text: string): number | undefined {
  if (text === 'max') return undefined;
  const m = /^(\d+(?:\.\d+)?)x$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new ConfigError('--speed', `'${text}' is not a speed: use max, 1x, 10x, 0.5x ...`);
  return Number(m[1]);
}

/** ISO-8601 time or epoch seconds → epoch seconds. */
export function parseTime(text: string, field: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError(field, `'${text}' is not a time: use ISO-8601 (2026-01-05T07:30:00Z) or epoch seconds`);
  return ms / 1000;
}

const iso = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The alerts as a fixed-width table for the terminal. */
export function alertTable(alerts: readonly Alert[]): string {
  if (alerts.length === 0) return 'No alerts.\n';
  const rows = alerts.map((a) => [
    iso(a.ts).slice(0, 19).replace('T', ' '),
    a.severity.toUpperCase(),
    a.kind,
    (a.device_name || a.device_id).slice(0, 28),
    a.device_class.replace(/_/g, ' '),
    a.kind === 'new_device' ? '' : a.score.toFixed(1),
    a.summary,
  ]);
  const head = ['time (UTC)', 'severity', 'kind', 'device', 'class', 'score', 'what changed'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 6 ? 0 : r[i]!.length))));
  const line = (r: string[]): string => r.map((c, i) => (i === 6 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w, i) => '-'.repeat(i === 6 ? 12 : w))), ...rows.map(line)].join('\n') + '\n';
}

export async function replayToSinks(capture: string, config: WardwatchConfig, o: ReplayCliOptions, label: string): Promise<ReplayResult> {
  if (!existsSync(capture)) throw new CaptureError(capture, 'no such file', { code: 'WW_CAPTURE_UNREADABLE' });
  const runId = o.runId ?? '';
  const detect = { ...config.detect, ...(o.modelsDir ? { models_dir: o.modelsDir } : {}) };
  const backend = await selectBackendFor(detect, 'score');
  const sinks = new SinkSet({
    alerts_file: { file: o.alerts ?? config.sinks.files.alerts_file, max_bytes: config.sinks.files.max_bytes, keep: config.sinks.files.keep },
    influx: config.sinks.influx,
    webhooks: config.sinks.webhooks,
    syslog: config.sinks.syslog,
    sensor_id: config.sensor.id,
    run_id: runId,
  });
  await sinks.start();
  const files = config.sinks.files;
  if (files.flows_file) mkdirSync(path.dirname(files.flows_file), { recursive: true });
  const flowLog = files.flows_file ? new FlowJsonlWriter(files.flows_file, { append: true, max_bytes: files.max_bytes, keep: files.keep }) : undefined;
  const report = o.report ? new ReportCollector() : undefined;
  const progress = new Progress(label);
  const speed = parseSpeed(o.speed);
  let lastHealth: { ts: number; packets: number } | undefined;
  const pendingHealth: Promise<void>[] = [];
  const result = await replayCapture(capture, detect, {
    flows: config.flows,
    devices: config.devices,
    ...(config.devices.state_file ? { save_inventory: config.devices.state_file } : {}),
    features: { ...config.features, sensor_id: config.sensor.id, run_id: runId },
    ...(speed !== undefined ? { speed } : {}),
    ...(o.from ? { from: parseTime(o.from, '--from') } : {}),
    ...(o.to ? { to: parseTime(o.to, '--to') } : {}),
    ...(flowLog ? { onFlow: (r: FlowRecord) => flowLog.write(r) } : {}),
    onProgress: (p) => progress.update(p.bytes_read, p.bytes_total, p.packets),
    // Sensor health every 10 s of packet time, in the fields the dashboards plot (docs/dashboards.md).
    onHealth: (ts, h) => {
      const dt = lastHealth ? ts - lastHealth.ts : 10;
      const rate = lastHealth && dt > 0 ? (h.packets - lastHealth.packets) / dt : 0;
      lastHealth = { ts, packets: h.packets };
      const sinkStats = sinks.stats();
      pendingHealth.push(
        sinks.onHealth('sensor', ts, {
          packets_per_s: rate,
          packets_dropped: 0,
          decode_errors: h.decode_malformed,
          flow_table_fill: (h.metrics['flows_active'] ?? 0) / config.flows.max_flows,
          kafka_lag: 0,
          sink_retries: (sinkStats['influx_write_retries'] ?? 0) + (sinkStats['webhook_delivery_retries'] ?? 0),
          ...h.metrics,
        }),
      );
    },
    sinks: {
      onAlerts: (a) => {
        report?.onAlerts(a);
        return sinks.onAlerts(a);
      },
      onScores: (s, w) => {
        report?.onScores(s);
        return sinks.onScores(s, w);
      },
    },
  });
  flowLog?.close();
  await Promise.all(pendingHealth);
  const at = Number.isFinite(result.last_ts) ? result.last_ts : Date.now() / 1000;
  await sinks.onInventory(result.inventory, at);
  await sinks.close();
  progress.done(
    `${result.packets.toLocaleString('en-US')} packets, ${result.inventory.length} devices, ${result.windows_scored.toLocaleString('en-US')} windows scored (TF.js backend ${backend.active}), ${result.alerts.length} alerts`,
  );
  if (report && o.report) {
    const size = report.write(o.report, reportSummary(capture, result, { run_id: runId, sensor_id: config.sensor.id, models_dir: detect.models_dir, backend: backend.active }), result.inventory);
    process.stderr.write(`${label}: report written to ${o.report} (${(size / 1024).toFixed(0)} kB)\n`);
  }
  return result;
}

/** pcap LINKTYPE_* numbers → tcpdump's names (the ones the decoder reads, and a few it reports as unsupported). */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'EN10MB (Ethernet)',
  101: 'RAW',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP',
  192: 'PPI',
  276: 'LINUX_SLL2',
};

/** The replay's own counters, as the report's capture summary. */
export function reportSummary(capture: string, r: ReplayResult, run: Pick<ReportSummary, 'run_id' | 'sensor_id' | 'models_dir' | 'backend'>): ReportSummary {
  const malformed: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.capture)) {
    if (k !== 'frames' && k !== 'frame_bytes' && typeof v === 'number' && v > 0) malformed[`capture: ${k}`] = v;
  }
  for (const [k, v] of Object.entries(r.decode.errors)) if (v > 0) malformed[`decode: ${k}`] = v;
  if (r.decode.app_malformed > 0) malformed['decode: app_malformed'] = r.decode.app_malformed;
  if (r.decode.unknown_ethertype > 0) malformed['decode: unknown_ethertype (not decoded)'] = r.decode.unknown_ethertype;
  if (r.decode.unknown_ip_proto > 0) malformed['decode: unknown_ip_proto (not decoded)'] = r.decode.unknown_ip_proto;
  const link_types: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.link_types)) link_types[`${LINK_TYPE_NAMES[Number(k)] ?? 'linktype'} (${k})`] = v;
  return {
    file: capture,
    size_bytes: statSync(capture).size,
    packets: r.packets,
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    link_types,
    malformed,
    flows: r.metrics['flows_created'] ?? 0,
    devices: r.inventory.length,
    windows: r.metrics['features_windows_emitted'] ?? 0,
    windows_scored: r.windows_scored,
    generated_at: new Date().toISOString(),
    ...run,
  };
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML configuration (see deploy/wardwatch.example.yaml); default: built-in defaults')
    .option('--models-dir <dir>', 'model store (overrides detect.models_dir)')
    .option('--alerts <file>', 'alerts JSONL to write (overrides sinks.files.alerts_file)')
    .option('--report <file>', 'also write a self-contained forensic HTML report (summary, score timelines, alerts, inventory)')
    .option('-q, --quiet', 'print only the summary, not the alert table');
}

async function action(capture: string, o: ReplayCliOptions, label: string): Promise<void> {
  const config = loadConfig(o.config);
  const result = await replayToSinks(capture, config, o, label);
  if (!o.quiet) process.stdout.write(alertTable([...result.alerts].sort((a, b) => a.ts - b.ts)));
  const anomalies = result.alerts.filter((a) => a.kind === 'anomaly').length;
  const behavioural = result.alerts.filter((a) => a.kind !== 'anomaly' && a.kind !== 'new_device').length;
  const notices = result.alerts.length - anomalies - behavioural;
  process.stdout.write(
    `${anomalies} anomaly alert${anomalies === 1 ? '' : 's'}, ${behavioural} behavioural alert${behavioural === 1 ? '' : 's'} (scans, floods, brute force, …), ${notices} new-device notice${notices === 1 ? '' : 's'}; alerts written to ${o.alerts ?? config.sinks.files.alerts_file}\n`,
  );
}

export function runCommand(): Command {
  return common(
    new Command('run')
      .description('Sensor + detector in one process on the embedded default (no Kafka, no InfluxDB needed): replay a capture at full speed and print the alerts.')
      .argument('[capture]', 'pcap/pcapng file (plain or .gz)', 'captures/demo.pcap'),
  )
    .addHelpText('after', '\nExamples:\n  wardwatch run                                  # the shipped demo capture\n  wardwatch run ward3.pcapng.gz -c site.yaml     # sinks from the config (InfluxDB, webhooks, ...)\n')
    .action((capture: string, o: Omit<ReplayCliOptions, 'speed'>) => action(capture, { ...o, speed: 'max' }, 'run'));
}

export function replayCommand(): Command {
  return common(
    new Command('replay')
      .description('Forensic replay of a capture through the pipeline: same input and models, same alerts, whatever the speed.')
      .argument('<capture>', 'pcap/pcapng file (plain or .gz)'),
  )
    .addOption(new Option('--speed <speed>', 'max, or N× the capture\'s own pace (1x = real time)').default('max'))
    .option('--from <time>', 'start of the time range (ISO-8601 or epoch seconds)')
    .option('--to <time>', 'end of the time range (exclusive)')
    .option('--run-id <id>', 'tag every window and alert with this run id (Grafana\'s forensic view filters on it)')
    .addHelpText('after', '\nExamples:\n  wardwatch replay incident.pcap --run-id case-4711 -c site.yaml\n  wardwatch replay day.pcap --from 2026-01-05T09:00:00Z --to 2026-01-05T10:00:00Z --speed 10x\n')
    .action((capture: string, o: ReplayCliOptions) => action(capture, o, 'replay'));
}
