/**
 * `wardwatch run` and `wardwatch replay`: a capture through the whole pipeline in one process on the embedded bus
 * (no Kafka needed), alerts to the terminal, to alerts.jsonl and to whatever sinks the config names. `run -i IFACE`
 * does the same on a live interface until SIGINT/SIGTERM, printing the alerts as they are raised.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FlowJsonlWriter } from '../sinks/file/flow-jsonl.js';
import type { FlowRecord } from '../records/flow.js';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { WardwatchConfig } from '../config/schema.js';
import { parseSpeed, parseTime } from './options.js';
import { CaptureError } from '../errors.js';
import { selectBackendFor } from '../detect/index.js';
import { replayCapture, type CaptureInput, type ReplayResult } from '../replay.js';
import { LiveCaptureSource, type LiveCaptureOptions } from '../capture/live/cap-source.js';
import { SinkSet } from '../sinks/fanout.js';
import { ReportCollector, type ReportSummary } from '../sinks/report/html.js';
import { Progress } from './progress.js';
import { DEFAULT_LIVE_CAPTURE } from '../capture/live/config.js';
import { CaptureLossMonitor } from '../capture/loss.js';
import { captureCutShort } from '../capture/source.js';
import { sensorHealth, sinkRetries, type SensorHealthSample } from '../records/health.js';
import { warnWithoutModels } from './models.js';
import { AlertPrinter, alertTable } from './table.js';

export { AlertPrinter, alertTable };
import { chooseCapture, explainCaptureError, interfaceList, stopOnSignal, type LiveCliOptions } from './live.js';

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
  /** Stops a live capture (the open windows are flushed, the sinks written, the result returned as for a file). */
  signal?: AbortSignal;
}

/**
 * A capture through the whole pipeline to the sinks: a file (path), or a live source until `o.signal` aborts (its
 * alerts printed as they are raised unless `quiet`, a status line on stderr at each health sample).
 */
export async function replayToSinks(capture: CaptureInput, config: WardwatchConfig, o: ReplayCliOptions, label: string): Promise<ReplayResult> {
  if (typeof capture === 'string' && !existsSync(capture)) throw new CaptureError(capture, 'no such file', { code: 'WW_CAPTURE_UNREADABLE' });
  const live = capture instanceof LiveCaptureSource ? capture : undefined;
  const name = typeof capture === 'string' ? capture : capture.description;
  const runId = o.runId ?? '';
  const detect = { ...config.detect, ...(o.modelsDir ? { models_dir: o.modelsDir } : {}) };
  const backend = await selectBackendFor(detect, 'score');
  // Live: once capturing (a capture that cannot start fails with its one error line alone).
  if (!live) await warnWithoutModels(detect.models_dir);
  const sinks = new SinkSet({
    alerts_file: { file: o.alerts ?? config.sinks.files.alerts_file, max_bytes: config.sinks.files.max_bytes, keep: config.sinks.files.keep },
    // A file replayed with a run id is a forensic replay: its own retention policy, whatever the capture's age.
    influx: config.sinks.influx && runId !== '' && !live ? { ...config.sinks.influx, replay: true } : config.sinks.influx,
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
  const printer = live && !o.quiet ? new AlertPrinter() : undefined;
  const speed = parseSpeed(o.speed);
  let lastHealth: SensorHealthSample | undefined;
  let lastPoint: { ts: number; fields: Record<string, number> } | undefined;
  // A live capture's drops: warned about (rate-limited, naming the setting to change) and logged at the end.
  const loss = live ? new CaptureLossMonitor(config.capture_loss, live.settings) : undefined;
  let alertCount = 0;
  // Health writes in flight (a live run writes one every 10 s for as long as it runs: each leaves once written).
  const pendingHealth = new Set<Promise<void>>();
  const result = await replayCapture(capture, detect, {
    flows: config.flows,
    devices: config.devices,
    ...(config.devices.state_file ? { save_inventory: config.devices.state_file } : {}),
    features: { ...config.features, sensor_id: config.sensor.id, run_id: runId },
    ...(speed !== undefined ? { speed } : {}),
    ...(o.from ? { from: parseTime(o.from, '--from') } : {}),
    ...(o.to ? { to: parseTime(o.to, '--to') } : {}),
    ...(flowLog ? { onFlow: (r: FlowRecord) => flowLog.write(r) } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(loss ? { loss } : {}),
    ...(live
      ? {
          onCaptureStart: () => {
            process.stderr.write(`${label}: capturing on ${live.description.replace(/^live:/, '')}; alerts are printed as they are raised; Ctrl-C to stop\n`);
            void warnWithoutModels(detect.models_dir);
          },
        }
      : { onProgress: (p) => progress.update(p.bytes_read, p.bytes_total, p.packets) }),
    // Sensor health every 10 s (packet time for a file, wall time live), in the fields the dashboards plot
    // (docs/dashboards.md).
    onHealth: (ts, h) => {
      // The ww_health contract (src/records/health.ts), as `wardwatch sensor` writes it; in one process nothing
      // waits for a broker (windows_undelivered 0).
      const now: SensorHealthSample = {
        at: ts,
        packets: h.packets,
        packets_dropped: h.packets_dropped,
        decode_errors: h.decode_malformed,
        flows_active: h.metrics['flows_active'] ?? 0,
        max_flows: config.flows.max_flows,
        windows_undelivered: 0,
        sink_retries: sinkRetries(sinks.stats()),
      };
      const health = sensorHealth(now, lastHealth);
      const rate = health.packets_per_s;
      lastHealth = now;
      lastPoint = { ts, fields: { ...health, ...h.metrics } };
      const written = sinks.onHealth('sensor', ts, lastPoint.fields);
      pendingHealth.add(written);
      // A failed write stays in the set: it fails the run at the end, as it always did.
      written.then(() => pendingHealth.delete(written), () => undefined);
      if (live && !o.quiet) {
        process.stderr.write(
          `${label}: ${new Date(ts * 1000).toISOString().slice(11, 19)} ${h.packets.toLocaleString('en-US')} packets (${Math.round(rate).toLocaleString('en-US')}/s), ${h.packets_dropped.toLocaleString('en-US')} dropped by the capture, ${(h.metrics['devices_created'] ?? 0).toLocaleString('en-US')} devices, ${alertCount} alerts\n`,
        );
      }
    },
    sinks: {
      onAlerts: (a) => {
        alertCount += a.length;
        printer?.write(a);
        report?.onAlerts(a);
      },
      onScores: (s) => {
        report?.onScores(s);
      },
      onBatch: (s, w, a) => sinks.onBatch(s, w, a),
    },
  });
  flowLog?.close();
  loss?.logFinal();
  await Promise.all(pendingHealth);
  // A file cut short: its last ww_health point again (same time: InfluxDB merges it), with the reader's counters.
  if (lastPoint && cutShort(result)) await sinks.onHealth('sensor', lastPoint.ts, { ...lastPoint.fields, capture_truncated_record: result.capture.truncated_record, capture_gzip_corrupt: result.capture.gzip_corrupt });
  const at = Number.isFinite(result.last_ts) ? result.last_ts : Date.now() / 1000;
  await sinks.onInventory(result.inventory, at);
  await sinks.close();
  const lost = result.live ? `, ${(result.live.pcap_dropped + result.live.pcap_ifdropped).toLocaleString('en-US')} dropped by the capture (libpcap)` : '';
  progress.done(
    `${result.packets.toLocaleString('en-US')} packets${lost}, ${result.inventory.length} devices, ${result.windows_scored.toLocaleString('en-US')} windows scored (TF.js backend ${backend.active}), ${result.alerts.length} alerts`,
  );
  if (config.devices.state_file) process.stderr.write(`${label}: inventory of ${result.inventory.length} devices saved to ${config.devices.state_file} (replacing the previous one; wardwatch inventory list)\n`);
  if (report && o.report) {
    const size = report.write(o.report, reportSummary(name, result, { run_id: runId, sensor_id: config.sensor.id, models_dir: detect.models_dir, backend: backend.active, startup_grace_s: detect.startup_grace_s }), result.inventory);
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

/** Why a capture file was not read to its end, when it was not (a live capture is never cut short). */
function cutShort(r: ReplayResult): string | undefined {
  return r.live ? undefined : captureCutShort(r.capture);
}

/** The replay's own counters, as the report's capture summary (`capture`: the file, or `live:<interface>`). */
export function reportSummary(capture: string, r: ReplayResult, run: Pick<ReportSummary, 'run_id' | 'sensor_id' | 'models_dir' | 'backend' | 'startup_grace_s'>): ReportSummary {
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
    // A live capture has no file: the bytes it captured.
    size_bytes: r.live ? r.capture.frame_bytes : statSync(capture).size,
    packets: r.packets,
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    link_types,
    malformed,
    flows: r.metrics['flows_created'] ?? 0,
    devices: r.inventory.length,
    windows: r.metrics['features_windows_emitted'] ?? 0,
    windows_scored: r.windows_scored,
    ...(cutShort(r) ? { cut_short: cutShort(r) } : {}),
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
    .option('-q, --quiet', 'print only the summary, not the alert table (run -i: nor the alerts as they are raised, nor the status lines)');
}

/** The closing line: alerts by kind, and where they were written. */
function alertSummary(result: ReplayResult, alertsFile: string): string {
  const anomalies = result.alerts.filter((a) => a.kind === 'anomaly').length;
  const behavioural = result.alerts.filter((a) => a.kind !== 'anomaly' && a.kind !== 'new_device').length;
  const notices = result.alerts.length - anomalies - behavioural;
  return `${anomalies} anomaly alert${anomalies === 1 ? '' : 's'}, ${behavioural} behavioural alert${behavioural === 1 ? '' : 's'} (scans, floods, brute force, …), ${notices} new-device notice${notices === 1 ? '' : 's'}; alerts written to ${alertsFile}\n`;
}

async function action(capture: string, o: ReplayCliOptions, label: string): Promise<void> {
  const config = loadConfig(o.config);
  const result = await replayToSinks(capture, config, o, label);
  if (!o.quiet) process.stdout.write(alertTable([...result.alerts].sort((a, b) => a.ts - b.ts)));
  process.stdout.write(alertSummary(result, o.alerts ?? config.sinks.files.alerts_file));
}

/** `run -i IFACE`: until SIGINT/SIGTERM; then the open windows are scored, the sinks written, the summary printed. */
async function liveAction(live: LiveCaptureOptions, o: ReplayCliOptions, label: string): Promise<void> {
  const config = loadConfig(o.config);
  LiveCaptureSource.interfaces(); // the libpcap binding is there (WW_CAPTURE_BINDING now, not after the models load)
  const stop = stopOnSignal(label);
  try {
    const result = await replayToSinks(new LiveCaptureSource(live), config, { ...o, signal: stop.signal }, label).catch((err: unknown) => {
      throw explainCaptureError(err, live.interface);
    });
    process.stdout.write(alertSummary(result, o.alerts ?? config.sinks.files.alerts_file));
  } finally {
    stop.dispose();
  }
}

type RunCliOptions = Omit<ReplayCliOptions, 'speed'> & LiveCliOptions & { listInterfaces?: boolean };

export function runCommand(): Command {
  return common(
    new Command('run')
      .description(
        'Sensor + detector in one process on the embedded default (no Kafka, no InfluxDB needed): replay a capture at full speed and print the alerts, or watch a live interface (-i) until Ctrl-C.',
      )
      .argument('[capture]', 'pcap/pcapng file (plain or .gz); default captures/demo.pcap (none with -i)'),
  )
    .option('-i, --interface <name>', 'capture live from this interface (receive-only; SPAN/TAP port) instead of a file, until SIGINT/SIGTERM')
    .option('-f, --filter <bpf>', 'BPF capture filter (live), e.g. "not port 22"')
    .option('--snaplen <bytes>', `bytes kept per frame (live; overrides capture.snaplen_bytes, default ${DEFAULT_LIVE_CAPTURE.snaplen_bytes})`)
    .option('--buffer-size <bytes>', `kernel capture ring in bytes (live; overrides capture.buffer_size_bytes, default ${DEFAULT_LIVE_CAPTURE.buffer_size_bytes})`)
    .option('--list-interfaces', 'list the interfaces libpcap can capture on, and exit')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  wardwatch run                                  # the shipped demo capture',
        '  wardwatch run ward3.pcapng.gz -c site.yaml     # sinks from the config (InfluxDB, webhooks, ...)',
        '  wardwatch run --list-interfaces                # what -i can capture on',
        '  sudo wardwatch run -i eth1 -f "not port 22"    # watch a SPAN port live; Ctrl-C prints the summary',
        '  wardwatch run -i eth1 --alerts ward3.jsonl --report ward3.html   # (root or CAP_NET_RAW)',
        '',
      ].join('\n'),
    )
    .action(async (capture: string | undefined, o: RunCliOptions) => {
      if (o.listInterfaces) {
        process.stdout.write(interfaceList());
        return;
      }
      const choice = chooseCapture(capture, o, 'captures/demo.pcap', loadConfig(o.config).capture);
      if (choice.live) await liveAction(choice.live, { ...o, speed: 'max' }, 'run');
      else await action(choice.file, { ...o, speed: 'max' }, 'run');
    });
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
