/**
 * `wardwatch run` and `wardwatch replay`: a capture through the whole pipeline in one process on the embedded bus
 * (no Kafka needed), alerts to the terminal, to alerts.jsonl and to whatever sinks the config names. `run -i IFACE`
 * does the same on a live interface until SIGINT/SIGTERM, printing the alerts as they are raised.
 */
import { existsSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { overrideConfig, type ConfigPatch } from '../config/load.js';
import type { WardwatchConfig } from '../config/schema.js';
import { detectPatch, parseSpeed, parseTime } from './options.js';
import { CaptureError } from '../errors.js';
import { runEmbedded, type EmbeddedRunResult, type ReplayResult } from '../compose/embedded.js';
import type { CaptureProgressEvent } from '../compose/frame-loop.js';
import { Topology, type CaptureInput } from '../compose/topology.js';
import { LiveCaptureSource, type LiveCaptureOptions } from '../capture/live/cap-source.js';
import type { SensorHealth } from '../records/health.js';
import { incidentCounts, incidentSummary } from '../records/alert.js';
import { ReportCollector, type ReportSummary } from '../sinks/report/html.js';
import { Progress } from './progress.js';
import { DEFAULT_LIVE_CAPTURE } from '../capture/live/config.js';
import { captureCutShort } from '../capture/source.js';
import { AlertPrinter, alertTable } from './table.js';
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

/** The config patch of run/replay's options (validated with the config file, naming the field). */
export function runPatch(o: Pick<ReplayCliOptions, 'modelsDir' | 'alerts'>): ConfigPatch {
  return {
    ...detectPatch(o),
    ...(o.alerts ? { sinks: { files: { alerts_file: o.alerts } } } : {}),
  };
}

/** The topology run/replay builds: `config` with the options' overrides, tagged with `--run-id`. */
export function runTopology(config: WardwatchConfig, o: Partial<ReplayCliOptions>): Topology {
  return new Topology(overrideConfig(config, runPatch(o)), o.runId ?? '');
}

/** `replayToSinks` with the topology of `config` and the options (tests: the command's path without its output). */
export function runCapture(capture: CaptureInput, config: WardwatchConfig, o: ReplayCliOptions, label: string): Promise<EmbeddedRunResult> {
  return replayToSinks(capture, runTopology(config, o), o, label);
}

/**
 * A capture through the whole pipeline to the sinks (src/compose/embedded.ts): a file (path), or a live source until
 * `o.signal` aborts (its alerts printed as they are raised unless `quiet`, a status line on stderr at each health
 * point); progress on stderr, the report when asked.
 */
export async function replayToSinks(capture: CaptureInput, t: Topology, o: ReplayCliOptions, label: string): Promise<EmbeddedRunResult> {
  if (typeof capture === 'string' && !existsSync(capture)) throw new CaptureError(capture, 'no such file', { code: 'WW_CAPTURE_UNREADABLE' });
  const live = typeof capture !== 'string';
  const name = Topology.describe(capture);
  const report = o.report ? new ReportCollector() : undefined;
  const progress = new Progress(label);
  const printer = live && !o.quiet ? new AlertPrinter() : undefined;
  const speed = parseSpeed(o.speed);
  let alertCount = 0;
  const result = await runEmbedded(t, capture, {
    ...(speed !== undefined ? { speed } : {}),
    ...(o.from ? { from: parseTime(o.from, '--from') } : {}),
    ...(o.to ? { to: parseTime(o.to, '--to') } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    hooks: {
      onAlerts: (a) => {
        alertCount += a.length;
        printer?.write(a);
        report?.onAlerts(a);
      },
      onScores: (s) => report?.onScores(s),
      ...(live
        ? {
            onCaptureStart: () => process.stderr.write(`${label}: capturing on ${name.replace(/^live:/, '')}; alerts are printed as they are raised; Ctrl-C to stop\n`),
            ...(o.quiet
              ? {}
              : {
                  onHealth: (ts: number, h: SensorHealth, v: Record<string, number>) =>
                    process.stderr.write(
                      `${label}: ${new Date(ts * 1000).toISOString().slice(11, 19)} ${(v['packets'] ?? 0).toLocaleString('en-US')} packets (${Math.round(h.packets_per_s).toLocaleString('en-US')}/s), ${h.packets_dropped.toLocaleString('en-US')} dropped by the capture, ${(v['devices_created'] ?? 0).toLocaleString('en-US')} devices, ${alertCount} alerts\n`,
                    ),
                }),
          }
        : { onProgress: (p: CaptureProgressEvent) => progress.update(p.bytes_read, p.bytes_total, p.packets) }),
    },
  });
  const lost = result.live ? `, ${(result.live.pcap_dropped + result.live.pcap_ifdropped).toLocaleString('en-US')} dropped by the capture (libpcap)` : '';
  progress.done(
    `${result.packets.toLocaleString('en-US')} packets${lost}, ${result.inventory.length} devices, ${result.windows_scored.toLocaleString('en-US')} windows scored (TF.js backend ${result.backend.active}), ${incidentSummary(incidentCounts(result.alerts))}`,
  );
  // Which models scored: the user's store, or the shipped demo models while the user's default store is empty.
  process.stderr.write(
    result.models.shipped_demo
      ? `${label}: scored with the shipped demo models (${result.models.models_dir}); \`wardwatch train\` writes your own to ${t.config.detect.models_dir}, which are used from then on\n`
      : `${label}: scored with the models in ${result.models.models_dir}\n`,
  );
  if (result.inventory_file) process.stderr.write(`${label}: inventory of ${result.inventory.length} devices saved to ${result.inventory_file} (replacing the previous one; wardwatch inventory list)\n`);
  if (report && o.report) {
    const size = report.write(
      o.report,
      reportSummary(name, result, { run_id: t.run_id, sensor_id: t.config.sensor.id, models_dir: result.models.models_dir, backend: result.backend.active, startup_grace_s: t.config.detect.startup_grace_s }),
      result.inventory,
    );
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

/**
 * The closing line: incidents by kind and the alert records that hold them (the vocabulary of src/records/alert.ts:
 * one incident per alert id, its later records are updates), and where they were written.
 */
function alertSummary(result: ReplayResult, alertsFile: string): string {
  return `${incidentSummary(incidentCounts(result.alerts))}; written to ${alertsFile}\n`;
}

async function action(capture: string, t: Topology, o: ReplayCliOptions, label: string): Promise<void> {
  const result = await replayToSinks(capture, t, o, label);
  if (!o.quiet) process.stdout.write(alertTable([...result.alerts].sort((a, b) => a.ts - b.ts)));
  process.stdout.write(alertSummary(result, t.config.sinks.files.alerts_file));
}

/** `run -i IFACE`: until SIGINT/SIGTERM; then the open windows are scored, the sinks written, the summary printed. */
async function liveAction(live: LiveCaptureOptions, t: Topology, o: ReplayCliOptions, label: string): Promise<void> {
  LiveCaptureSource.interfaces(); // the libpcap binding is there (WW_CAPTURE_BINDING now, not after the models load)
  const stop = stopOnSignal(label);
  try {
    const result = await replayToSinks(live, t, { ...o, signal: stop.signal }, label).catch((err: unknown) => {
      throw explainCaptureError(err, live.interface);
    });
    process.stdout.write(alertSummary(result, t.config.sinks.files.alerts_file));
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
      const t = Topology.load(o.config, runPatch(o));
      const choice = chooseCapture(capture, o, 'captures/demo.pcap', t.config.capture);
      if (choice.live) await liveAction(choice.live, t, { ...o, speed: 'max' }, 'run');
      else await action(choice.file, t, { ...o, speed: 'max' }, 'run');
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
    .action((capture: string, o: ReplayCliOptions) => action(capture, Topology.load(o.config, runPatch(o), o.runId ?? ''), o, 'replay'));
}
