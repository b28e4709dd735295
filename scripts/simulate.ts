#!/usr/bin/env node
/**
 * `node dist/scripts/simulate.js`: writes a simulated hospital capture and its ground-truth labels.
 * (Wired later as `wardwatch simulate`.) Exit codes: 0 ok, 2 invalid options, 1 other failure.
 */
import { Command, Option } from 'commander';
import { describeError, WardwatchError } from '../src/errors.js';
import { ARCHETYPE_ORDER, ATTACKS, DEFAULTS, DEFAULT_DEVICES, parseAttack, parseDevices, parseDuration, parseStart, simulate } from '../src/simulate/index.js';

const program = new Command('simulate')
  .description('Generate a synthetic hospital network capture (pcap/pcapng) with labelled attacks, deterministic for a seed and options.')
  .requiredOption('-o, --out <file>', 'capture file to write (.pcap or .pcapng)')
  .option('--labels <file>', 'labels JSON to write (default: <out>.labels.json beside the capture)')
  .option('--seed <n>', 'PRNG seed, 0..4294967295', String(DEFAULTS.seed))
  .option('--start <time>', 'capture start: ISO-8601 UTC time or epoch seconds', new Date(DEFAULTS.start * 1000).toISOString())
  .option('--duration <d>', 'simulated duration: 90, 30s, 10m, 24h', `${DEFAULTS.duration_s}s`)
  .option(
    '--devices <list>',
    `devices per archetype, e.g. pump=4,monitor=6 (archetypes: ${ARCHETYPE_ORDER.join(', ')}; omitted ones get 0)`,
    Object.entries(DEFAULT_DEVICES)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  )
  .option('--attacks <list>', `comma-separated kind@+OFFSET[/DURATION][:DEVICE], e.g. port_scan@+600s/60s:nursepc-01 (kinds: ${Object.keys(ATTACKS).join(', ')})`, '')
  .addOption(new Option('--format <fmt>', 'capture format').choices(['pcap', 'pcapng']).default(DEFAULTS.format))
  .addOption(new Option('--resolution <r>', 'timestamp resolution').choices(['us', 'ns']).default(DEFAULTS.resolution))
  .option('--vlan <id>', '802.1Q VLAN id on every frame (-1 = untagged)', String(DEFAULTS.vlan))
  .option('--dicom-image-bytes <n>', 'pixel bytes per CT/MR image (radiographs 4x)', String(DEFAULTS.dicom_image_bytes))
  .option('-q, --quiet', 'print nothing but errors');

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    out: string;
    labels?: string;
    seed: string;
    start: string;
    duration: string;
    devices: string;
    attacks: string;
    format: 'pcap' | 'pcapng';
    resolution: 'us' | 'ns';
    vlan: string;
    dicomImageBytes: string;
    quiet?: boolean;
  }>();
  const summary = await simulate({
    out: o.out,
    labels: o.labels,
    seed: Number(o.seed),
    start: parseStart(o.start),
    duration_s: parseDuration(o.duration, 'duration'),
    devices: parseDevices(o.devices),
    attacks: o.attacks
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseAttack),
    format: o.format,
    resolution: o.resolution,
    vlan: Number(o.vlan),
    dicom_image_bytes: Number(o.dicomImageBytes),
  });
  if (!o.quiet) {
    const mb = (summary.bytes / 1048576).toFixed(2);
    process.stdout.write(
      `wrote ${summary.out} (${summary.frames} frames, ${mb} MiB, ${summary.devices} hosts, ${summary.attacks.length} attacks) and ${summary.labels} in ${(summary.elapsed_ms / 1000).toFixed(1)} s\n`,
    );
    for (const a of summary.attacks) process.stdout.write(`  ${a.id} ${a.kind} ${new Date(a.start * 1000).toISOString()} .. ${new Date(a.end * 1000).toISOString()}: ${a.description}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`simulate: ${describeError(err)}\n`);
  process.exitCode = err instanceof WardwatchError && err.code === 'WW_CONFIG_INVALID' ? 2 : 1;
});
