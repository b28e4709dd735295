/**
 * Options of `simulate()` and the `wardwatch simulate` command: types, defaults in one place, and the parsers of the
 * command-line forms (`--devices pump=4,monitor=6`, `--attacks port_scan@+600s/60s:pump-01`). Invalid values throw
 * a ConfigError naming the option and the fix.
 */
import { ConfigError } from '../errors.js';
import { ATTACK_ALIASES, ATTACKS } from './attacks.js';
import { ARCHETYPE_ORDER } from './hospital.js';
import type { Archetype, AttackKind } from './labels.js';

export interface AttackSpec {
  kind: AttackKind;
  /** Seconds after the capture start. */
  offset_s: number;
  /** Seconds; the kind's default when omitted. */
  duration_s?: number;
  /**
   * Device name (e.g. `pump-02`); when omitted, picked deterministically among the non-quiet devices of the kind's
   * usual actors.
   */
  device?: string;
  /**
   * Put the attack on a quiet device (`:quiet` on the command line): one of the kind's usual actors if one of them is
   * quiet, else any quiet device. Not with `device`.
   */
  on_quiet?: boolean;
}

export interface SimulateOptions {
  /** PRNG seed (unsigned 32-bit). Same seed and options → same bytes. */
  seed: number;
  /**
   * Seed of the hospital's layout only (device MACs and vendors, server MACs); `seed` when omitted. Two captures with
   * the same `layout_seed` and device counts hold the same devices while their traffic (`seed`) differs: a model trained
   * on one can be evaluated on the other.
   */
  layout_seed?: number;
  /** Capture start, seconds since the epoch (UTC). */
  start: number;
  duration_s: number;
  /** Devices per archetype; archetypes left out get 0 (use DEFAULT_DEVICES for the default mix). */
  devices: Partial<Record<Archetype, number>>;
  /**
   * Quiet devices per archetype: the last n devices of the archetype (pump=1 of 3 makes pump-03 quiet) speak their
   * usual protocols at intervals of minutes instead of seconds, so that they have traffic in ≤ 10 % of 10-second
   * windows (src/simulate/README.md, "Quiet devices"). Not the PACS. None when omitted.
   */
  quiet_devices?: Partial<Record<Archetype, number>>;
  attacks: AttackSpec[];
  /** Capture file to write. */
  out: string;
  /** Labels JSON to write; `<out without extension>.labels.json` when omitted. */
  labels?: string;
  format?: 'pcap' | 'pcapng';
  resolution?: 'us' | 'ns';
  /** 802.1Q VLAN id on every frame; -1 (default) for untagged. */
  vlan?: number;
  /** Pixel bytes per CT/MR image (radiographs 4×). Real images are 0.5–8 MB; the default keeps captures small. */
  dicom_image_bytes?: number;
}

export const DEFAULTS = {
  seed: 1,
  /** 2026-01-05T07:00:00Z, a Monday morning. */
  start: 1767596400,
  duration_s: 3600,
  format: 'pcap' as const,
  resolution: 'us' as const,
  vlan: -1,
  dicom_image_bytes: 16384,
};

export const DEFAULT_DEVICES: Record<Archetype, number> = {
  pump: 4,
  monitor: 6,
  imaging: 3,
  pacs: 1,
  reading_ws: 2,
  nurse_pc: 4,
  telemetry: 2,
  lab: 2,
  bacnet: 3,
};

/** Parses `30s`, `+10m`, `2h`, `90` (seconds). */
export function parseDuration(text: string, field: string): number {
  const m = /^\+?(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new ConfigError(field, `"${text}" is not a duration; use e.g. 90, 30s, 10m or 2h`);
  const n = Number(m[1]);
  return m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : n;
}

/** Parses `pump=4,monitor=6,...` into counts (unknown archetypes rejected); `field` names the option in errors. */
export function parseDevices(text: string, field = 'devices'): Partial<Record<Archetype, number>> {
  const out: Partial<Record<Archetype, number>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || v === undefined || !ARCHETYPE_ORDER.includes(k as Archetype)) {
      throw new ConfigError(field, `"${part}": use <archetype>=<count> with archetype one of ${ARCHETYPE_ORDER.join(', ')}`);
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${field}.${k}`, `"${v}" is not a non-negative integer`);
    out[k as Archetype] = n;
  }
  return out;
}

export function attackKind(text: string): AttackKind {
  const k = ATTACK_ALIASES[text] ?? text;
  if (!(k in ATTACKS)) {
    throw new ConfigError('attacks', `unknown attack kind "${text}"; one of ${Object.keys(ATTACKS).join(', ')} (aliases ${Object.keys(ATTACK_ALIASES).join(', ')})`);
  }
  return k as AttackKind;
}

/**
 * Parses `kind@+OFFSET[/DURATION][:DEVICE]`, e.g. `port_scan@+600s/60s:nursepc-01`; DEVICE `quiet` asks for a quiet
 * device (`on_quiet`).
 */
export function parseAttack(text: string): AttackSpec {
  const m = /^([a-z0-9_]+)@([^/:]+)(?:\/([^:]+))?(?::([A-Za-z0-9_.-]+))?$/.exec(text.trim());
  if (!m) throw new ConfigError('attacks', `"${text}": use kind@+OFFSET[/DURATION][:DEVICE], e.g. port_scan@+600s/60s:nursepc-01`);
  const spec: AttackSpec = { kind: attackKind(m[1]!), offset_s: parseDuration(m[2]!, 'attacks.offset') };
  if (m[3] !== undefined) spec.duration_s = parseDuration(m[3], 'attacks.duration');
  if (m[4] === 'quiet') spec.on_quiet = true;
  else if (m[4] !== undefined) spec.device = m[4];
  return spec;
}

export function formatAttack(a: AttackSpec): string {
  const on = a.device ? `:${a.device}` : a.on_quiet ? ':quiet' : '';
  return `${a.kind}@+${a.offset_s}s${a.duration_s !== undefined ? `/${a.duration_s}s` : ''}${on}`;
}

/** Parses an ISO-8601 time or epoch seconds. */
export function parseStart(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError('start', `"${text}" is neither epoch seconds nor an ISO-8601 time (e.g. 2026-01-05T07:00:00Z)`);
  return ms / 1000;
}
