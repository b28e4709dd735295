/**
 * The `simulate` command (commander): options, their parsing into `SimulateOptions`, and the run. Used by
 * `scripts/simulate.ts` (`node dist/scripts/simulate.js`), by `scripts/make-captures.ts` (so the shipped captures are
 * made by exactly the documented command) and, later, by `wardwatch simulate`.
 */
import { Command, Option } from 'commander';
import { ATTACKS } from './attacks.js';
import { ARCHETYPE_ORDER } from './hospital.js';
import { DEFAULTS, DEFAULT_DEVICES, parseAttack, parseDevices, parseDuration, parseStart, type SimulateOptions } from './options.js';
import { simulate, type SimulateSummary } from './simulate.js';

interface CommandOptions {
  out: string;
  labels?: string;
  seed: string;
  layoutSeed?: string;
  start: string;
  duration: string;
  devices: string;
  quietDevices?: string;
  /** The list; false with --no-attacks; undefined (neither given): `defaultAttacks(duration)`. */
  attacks?: string | false;
  format: 'pcap' | 'pcapng';
  resolution: 'us' | 'ns';
  vlan: string;
  dicomImageBytes: string;
  quiet?: boolean;
}

/** Below this duration `simulate` adds no attacks by default (they start after half of the capture). */
export const DEFAULT_ATTACKS_MIN_DURATION_S = 1200;

/**
 * The attacks `simulate` adds when neither --attacks nor --no-attacks is given, so that `simulate` then `evaluate`
 * shows detections: five attacks the baseline-free rules see from a device's first window (port scan, SYN flood,
 * ARP spoofing, DNS tunnel, lateral movement) in the second half of the capture, each on its kind's usual actor
 * (the first half stays benign). None below 20 minutes.
 */
export function defaultAttacks(duration_s: number): string {
  if (duration_s < DEFAULT_ATTACKS_MIN_DURATION_S) return '';
  const at = (f: number): string => `+${Math.round(duration_s * f)}s`;
  return [`port_scan@${at(0.5)}/60s`, `syn_flood@${at(0.6)}/10s`, `arp_spoof@${at(0.7)}/40s`, `dns_tunnel@${at(0.8)}/60s`, `lateral_movement@${at(0.9)}/60s`].join(',');
}

export function toSimulateOptions(o: CommandOptions): SimulateOptions {
  const duration_s = parseDuration(o.duration, 'duration');
  const attacks = o.attacks === false ? '' : (o.attacks ?? defaultAttacks(duration_s));
  return {
    out: o.out,
    labels: o.labels,
    seed: Number(o.seed),
    ...(o.layoutSeed !== undefined ? { layout_seed: Number(o.layoutSeed) } : {}),
    start: parseStart(o.start),
    duration_s,
    devices: parseDevices(o.devices),
    ...(o.quietDevices !== undefined ? { quiet_devices: parseDevices(o.quietDevices, 'quiet_devices') } : {}),
    attacks: attacks
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseAttack),
    format: o.format,
    resolution: o.resolution,
    vlan: Number(o.vlan),
    dicom_image_bytes: Number(o.dicomImageBytes),
  };
}

function report(summary: SimulateSummary, defaulted: boolean): string {
  const mb = (summary.bytes / 1048576).toFixed(2);
  const lines = [
    `wrote ${summary.out} (${summary.frames} frames, ${mb} MiB, ${summary.devices} hosts, ${summary.attacks.length} attacks${defaulted ? ': the defaults, --no-attacks for none' : ''}) and ${summary.labels} in ${(summary.elapsed_ms / 1000).toFixed(1)} s`,
    ...summary.attacks.map((a) => `  ${a.id} ${a.kind} ${new Date(a.start * 1000).toISOString()} .. ${new Date(a.end * 1000).toISOString()}: ${a.description}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The attack kinds with their default duration and actors, for `--help`. */
function attackHelp(): string {
  const dur = (s: number): string => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);
  const rows = Object.entries(ATTACKS).map(([k, d]) => `  ${k.padEnd(20)} ${dur(d.duration_s).padStart(4)}  on ${d.actors.join(', ')}`);
  return ['', 'Attack kinds (default duration, usual actors; src/simulate/README.md says what each injects):', ...rows].join('\n');
}

const EXAMPLES = [
  '',
  'Examples:',
  '  wardwatch simulate -o ward.pcap                          # 1 h, the default hospital, five attacks in the second half',
  '  wardwatch evaluate ward.pcap --labels ward.labels.json   # ... then: which attacks were detected, how fast',
  '  wardwatch simulate -o day.pcap --duration 24h --no-attacks             # a benign day to train on',
  '  wardwatch simulate -o scan.pcap --attacks port_scan@+30m/60s:nursepc-01,c2_beacon_2min@+40m/20m',
  '  wardwatch simulate -o small.pcapng --format pcapng --devices pump=2,monitor=2,nurse_pc=2 --duration 30m --seed 7',
].join('\n');

/** Builds the command; `onDone` receives the summary (the default prints it unless --quiet). */
export function simulateCommand(onDone?: (summary: SimulateSummary) => void): Command {
  const cmd = new Command('simulate')
    .description('Generate a synthetic hospital network capture (pcap/pcapng) with labelled attacks, deterministic for a seed and options.')
    .requiredOption('-o, --out <file>', 'capture file to write (.pcap or .pcapng)')
    .option('--labels <file>', 'labels JSON to write (default: <out>.labels.json beside the capture)')
    .option('--seed <n>', 'PRNG seed, 0..4294967295', String(DEFAULTS.seed))
    .option('--layout-seed <n>', 'seed of the hospital layout (device MACs, vendors) when it should differ from --seed: same layout, other traffic')
    .option('--start <time>', 'capture start: ISO-8601 UTC time or epoch seconds', new Date(DEFAULTS.start * 1000).toISOString())
    .option('--duration <d>', 'simulated duration: 90, 30s, 10m, 24h', `${DEFAULTS.duration_s}s`)
    .option(
      '--devices <list>',
      `devices per archetype, e.g. pump=4,monitor=6 (archetypes: ${ARCHETYPE_ORDER.join(', ')}; omitted ones get 0)`,
      Object.entries(DEFAULT_DEVICES)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    )
    .option(
      '--quiet-devices <list>',
      'quiet devices per archetype, e.g. pump=1,bacnet=1: the last n of each archetype report every few minutes (traffic in <= 10% of 10-s windows); not pacs',
    )
    .option(
      '--attacks <list>',
      `comma-separated kind@+OFFSET[/DURATION][:DEVICE], e.g. port_scan@+600s/60s:nursepc-01; DEVICE "quiet" picks a quiet device (kinds: ${Object.keys(ATTACKS).join(', ')}). Default: a port scan, SYN flood, ARP spoofing, DNS tunnel and lateral movement at 50, 60, 70, 80 and 90 % of --duration (none under 20m)`,
    )
    .option('--no-attacks', 'benign traffic only (no default attacks)')
    .addOption(new Option('--format <fmt>', 'capture format').choices(['pcap', 'pcapng']).default(DEFAULTS.format))
    .addOption(new Option('--resolution <r>', 'timestamp resolution').choices(['us', 'ns']).default(DEFAULTS.resolution))
    .option('--vlan <id>', '802.1Q VLAN id on every frame (-1 = untagged)', String(DEFAULTS.vlan))
    .option('--dicom-image-bytes <n>', 'pixel bytes per CT/MR image (radiographs 4x)', String(DEFAULTS.dicom_image_bytes))
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', () => `${EXAMPLES}${attackHelp()}`)
    .action(async (o: CommandOptions) => {
      const summary = await simulate(toSimulateOptions(o));
      if (onDone) onDone(summary);
      else if (!o.quiet) process.stdout.write(report(summary, o.attacks === undefined && summary.attacks.length > 0));
    });
  return cmd;
}
