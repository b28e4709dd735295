/**
 * `simulate(options)`: generates a hospital capture with known truth. Builds the network and devices, schedules
 * their benign behaviour and the requested attacks, runs the event scheduler over simulated time writing frames in
 * time order to the capture (streamed, bounded memory), then writes the labels JSON.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { ATTACKS, injectAttack, type PlannedAttack } from './attacks.js';
import { bmsDiscovery, startDevice } from './behaviours.js';
import type { SimContext } from './context.js';
import { Engine } from './engine.js';
import { macText } from './frames.js';
import { ARCHETYPE_ORDER, EXTERNAL_RANGES, Hospital, SUBNET, type Host } from './hospital.js';
import { LABELS_SCHEMA_VERSION, type Archetype, type LabelAttack, type SimulationLabels } from './labels.js';
import { DEFAULTS, formatAttack, type SimulateOptions } from './options.js';
import { CaptureWriter } from './pcap-writer.js';
import { Prng } from './prng.js';

export interface SimulateSummary {
  out: string;
  labels: string;
  frames: number;
  bytes: number;
  devices: number;
  attacks: LabelAttack[];
  duration_s: number;
  elapsed_ms: number;
  /** Most frames waiting in the output heap at once (memory bound check). */
  max_pending_frames: number;
  /** Frames a behaviour tried to emit before the current event's time (moved to it); 0 unless there is a bug. */
  clamped_frames: number;
}

const MAX_PER_ARCHETYPE = 240;
/** Brute-force intruders take 10.20.99.(10 + attack number). */
const MAX_ATTACKS = 200;
/** Attacks start after every device has booted (boot times are spread over the first 90 s). */
const MIN_ATTACK_OFFSET_S = 120;

function validate(o: SimulateOptions): void {
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new ConfigError('seed', 'must be an integer in 0..4294967295');
  if (o.layout_seed !== undefined && (!Number.isInteger(o.layout_seed) || o.layout_seed < 0 || o.layout_seed > 0xffffffff)) {
    throw new ConfigError('layout_seed', 'must be an integer in 0..4294967295 (or omitted: the layout then follows seed)');
  }
  if (!(o.duration_s > 0) || o.duration_s > 7 * 86400) throw new ConfigError('duration_s', 'must be > 0 and at most 7 days');
  if (!Number.isFinite(o.start) || o.start < 0) throw new ConfigError('start', 'must be seconds since the epoch');
  for (const [k, n] of Object.entries(o.devices)) {
    if (!ARCHETYPE_ORDER.includes(k as Archetype)) throw new ConfigError(`devices.${k}`, `unknown archetype; one of ${ARCHETYPE_ORDER.join(', ')}`);
    if (!Number.isInteger(n) || n < 0 || n > MAX_PER_ARCHETYPE) throw new ConfigError(`devices.${k}`, `must be an integer in 0..${MAX_PER_ARCHETYPE}`);
  }
  if ((o.dicom_image_bytes ?? DEFAULTS.dicom_image_bytes) < 16) throw new ConfigError('dicom_image_bytes', 'must be at least 16');
  const vlan = o.vlan ?? -1;
  if (!Number.isInteger(vlan) || vlan < -1 || vlan > 4094) throw new ConfigError('vlan', 'must be -1 (untagged) or 0..4094');
  if (o.attacks.length > MAX_ATTACKS) throw new ConfigError('attacks', `at most ${MAX_ATTACKS} attacks per capture`);
  for (const a of o.attacks) {
    if (!(a.kind in ATTACKS)) throw new ConfigError('attacks', `unknown kind ${a.kind}`);
    const dur = a.duration_s ?? ATTACKS[a.kind].duration_s;
    if (a.offset_s < MIN_ATTACK_OFFSET_S) {
      throw new ConfigError('attacks', `${formatAttack(a)} starts before +${MIN_ATTACK_OFFSET_S}s: devices boot and take their DHCP lease in the first 90 s; start it later`);
    }
    if (a.offset_s + dur > o.duration_s) {
      throw new ConfigError('attacks', `${formatAttack(a)} ends at +${a.offset_s + dur}s, after the capture (${o.duration_s}s); shorten it or lengthen --duration`);
    }
    if (a.kind.startsWith('brute_force') && dur < 30) throw new ConfigError('attacks', `${formatAttack(a)}: brute force needs at least 30 s`);
    const min = ATTACKS[a.kind].min_duration_s;
    if (min !== undefined && dur < min) throw new ConfigError('attacks', `${formatAttack(a)}: ${a.kind} needs at least ${min} s; lengthen its duration`);
    if (a.device !== undefined && a.on_quiet) throw new ConfigError('attacks', `${formatAttack(a)}: name a device or ask for a quiet one, not both`);
  }
  for (const [k, n] of Object.entries(o.quiet_devices ?? {})) {
    if (!ARCHETYPE_ORDER.includes(k as Archetype)) throw new ConfigError(`quiet_devices.${k}`, `unknown archetype; one of ${ARCHETYPE_ORDER.join(', ')}`);
    if (k === 'pacs' && n > 0) throw new ConfigError('quiet_devices.pacs', 'the PACS answers the other devices and cannot be quiet; leave it out');
    const have = o.devices[k as Archetype] ?? 0;
    if (!Number.isInteger(n) || n < 0 || n > have) throw new ConfigError(`quiet_devices.${k}`, `must be an integer in 0..${have} (the ${k} devices asked for in devices)`);
  }
}

export function defaultLabelsPath(out: string): string {
  return `${out.replace(/\.(pcapng|pcap)$/i, '')}.labels.json`;
}

export function simulate(options: SimulateOptions): Promise<SimulateSummary> {
  try {
    return Promise.resolve(simulateSync(options));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Synchronous core of `simulate` (the capture is written with synchronous, buffered writes). */
export function simulateSync(options: SimulateOptions): SimulateSummary {
  validate(options);
  const began = Date.now();
  const format = options.format ?? DEFAULTS.format;
  const resolution = options.resolution ?? DEFAULTS.resolution;
  const vlan = options.vlan ?? DEFAULTS.vlan;
  const dicomImageBytes = options.dicom_image_bytes ?? DEFAULTS.dicom_image_bytes;
  const labelsPath = options.labels ?? defaultLabelsPath(options.out);
  const startUs = Math.round(options.start * 1e6);
  const endUs = startUs + Math.round(options.duration_s * 1e6);
  const counts = Object.fromEntries(ARCHETYPE_ORDER.map((a) => [a, options.devices[a] ?? 0])) as Record<Archetype, number>;
  const quietCounts: Partial<Record<Archetype, number>> = Object.fromEntries(
    ARCHETYPE_ORDER.filter((a) => (options.quiet_devices?.[a] ?? 0) > 0).map((a) => [a, options.quiet_devices?.[a] ?? 0]),
  );

  const writer = new CaptureWriter(options.out, { format, resolution });
  try {
    const engine = new Engine(startUs, endUs, writer);
    const hospital = new Hospital(engine, options.seed, vlan, options.layout_seed);
    const byArchetype = new Map<Archetype, Host[]>();
    /** Quiet devices: the last `quiet_devices[a]` of each archetype. */
    const quiet = new Set<Host>();
    for (const a of ARCHETYPE_ORDER) {
      const list: Host[] = [];
      for (let i = 1; i <= counts[a]; i++) list.push(hospital.addDevice(a, i));
      byArchetype.set(a, list);
      for (const d of list.slice(list.length - (quietCounts[a] ?? 0))) {
        quiet.add(d);
        if (d.label) d.label.quiet = true;
      }
    }
    const ctx: SimContext = { engine, hospital, vlan, seed: options.seed, startUs, endUs, dicomImageBytes, pacs: byArchetype.get('pacs') ?? [] };
    for (const a of ARCHETYPE_ORDER) (byArchetype.get(a) ?? []).forEach((d, i) => startDevice(ctx, d, a, i + 1, quiet.has(d)));
    const controllers = byArchetype.get('bacnet') ?? [];
    if (controllers.length > 0) bmsDiscovery(ctx, controllers);

    // Plan attacks in order of start; pick default actors deterministically.
    const pick = new Prng(options.seed, 'attack-actors');
    // A stream of its own for `:quiet` picks, so that asking for one leaves every other pick as it was.
    const pickQuiet = new Prng(options.seed, 'attack-actors-quiet');
    const specs = [...options.attacks].sort((x, y) => x.offset_s - y.offset_s);
    const planned: PlannedAttack[] = specs.map((s, i) => {
      const def = ATTACKS[s.kind];
      let device: Host | undefined;
      let archetype: Archetype | undefined;
      if (s.device) {
        for (const [a, list] of byArchetype) {
          const found = list.find((d) => d.name === s.device);
          if (found) {
            device = found;
            archetype = a;
          }
        }
        if (!device) throw new ConfigError('attacks', `${formatAttack(s)}: no device named ${s.device}`);
      } else if (s.on_quiet) {
        // A quiet device of the kind's usual actors (in their order of preference), else any quiet device.
        const quietOf = (a: Archetype): Host[] => (byArchetype.get(a) ?? []).filter((d) => quiet.has(d));
        const order = [...def.actors, ...ARCHETYPE_ORDER.filter((a) => !def.actors.includes(a))];
        for (const a of order) {
          const list = quietOf(a);
          if (list.length > 0) {
            device = pickQuiet.pick(list);
            archetype = a;
            break;
          }
        }
        if (!device) throw new ConfigError('attacks', `${formatAttack(s)}: no quiet device; make some quiet with quiet_devices (--quiet-devices pump=1)`);
      } else {
        // The kind's usual actors, quiet devices left out (they are attacked only when asked for with `:quiet`).
        for (const a of def.actors) {
          const list = (byArchetype.get(a) ?? []).filter((d) => !quiet.has(d));
          if (list.length > 0) {
            device = pick.pick(list);
            archetype = a;
            break;
          }
        }
        if (!device) {
          const q = quiet.size > 0 ? ' that is not quiet (or put it on a quiet one with :quiet)' : '';
          throw new ConfigError('attacks', `${formatAttack(s)}: needs a device of one of ${def.actors.join(', ')}${q}; add one with --devices`);
        }
      }
      const startA = startUs + Math.round(s.offset_s * 1e6);
      const index = (byArchetype.get(archetype!) ?? []).indexOf(device) + 1;
      return { id: `a${i + 1}`, kind: s.kind, startUs: startA, endUs: startA + Math.round((s.duration_s ?? def.duration_s) * 1e6), device, archetype: archetype!, index };
    });
    const labelAttacks = planned.map((p) => injectAttack(ctx, p));

    engine.run();
    writer.close();
    const attacks = labelAttacks.map((label) => label());

    const labels: SimulationLabels = {
      schema_version: LABELS_SCHEMA_VERSION,
      generator: 'wardwatch-simulate',
      seed: options.seed,
      ...(options.layout_seed !== undefined && options.layout_seed !== options.seed ? { layout_seed: options.layout_seed } : {}),
      options: {
        start: options.start,
        duration_s: options.duration_s,
        devices: counts,
        ...(Object.keys(quietCounts).length > 0 ? { quiet_devices: quietCounts } : {}),
        attacks: specs.map(formatAttack),
        format,
        resolution,
        vlan,
        dicom_image_bytes: dicomImageBytes,
      },
      network: {
        subnet: SUBNET,
        gateway_ip: '10.20.0.1',
        gateway_mac: macText(hospital.gateway.mac),
        vlan,
        external_ranges: EXTERNAL_RANGES,
      },
      devices: hospital.labelled,
      attacks,
    };
    writeFileSync(labelsPath, `${JSON.stringify(labels, null, 2)}\n`);
    return {
      out: options.out,
      labels: labelsPath,
      frames: writer.frames,
      bytes: writer.bytes,
      devices: hospital.labelled.length,
      attacks,
      duration_s: options.duration_s,
      elapsed_ms: Date.now() - began,
      max_pending_frames: engine.maxPendingFrames,
      clamped_frames: engine.clamped,
    };
  } catch (err) {
    // Leave no half-written capture behind.
    writer.close();
    rmSync(options.out, { force: true });
    throw err;
  }
}
