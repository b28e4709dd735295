/**
 * MAC vendor lookup from the IEEE registries shipped by `oui-data` (one JSON object: MA-L keys of 6 hex digits,
 * MA-M of 7, MA-S of 9, upper case; values are the organisation's name and postal address, one per line).
 *
 * The 5.6 MB file is read on the first lookup, never on the hot path (the inventory looks a vendor up only when it
 * creates a device). It is not parsed whole (that cost ~80 ms of CPU at every sensor start): the package writes one
 * entry per line (` "KEY": "VALUE",`), keys grouped by length (6, 7, 9 digits) and ascending within a group, so a
 * lookup is a binary search over the bytes and parses the one value it needs as a JSON string. If the layout is not
 * that (checked on 4096 sampled lines at load, and on every line a search meets), the file is parsed whole as
 * before: the answers are the same either way.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isLocalMac } from './address.js';

interface Registry {
  /** The file, searched in place. */
  raw?: Buffer;
  /** Sampled lines (ascending): their start offsets and keys, narrowing each search to the bytes between two. */
  sampleStart?: Int32Array;
  sampleKey?: Float64Array;
  /** The whole file parsed (fallback). */
  table?: Record<string, string>;
}

let registry: Registry | undefined;

/** Sort rank of the line starting at `s`: '{' first, then keys by (digits, value), '}' last; -2 when malformed. */
const BEFORE_ALL = -1;
const AFTER_ALL = 1e15;
const MALFORMED = -2;

/** Key of the line at `s` as digits · 2^40 + value, or BEFORE_ALL / AFTER_ALL / MALFORMED. Sets `valueAt`. */
let valueAt = 0;
function lineKey(raw: Buffer, s: number): number {
  const c = raw[s];
  if (c === 0x7b) return BEFORE_ALL;
  if (c === 0x7d || c === undefined) return AFTER_ALL;
  if (c !== 0x20 || raw[s + 1] !== 0x22) return MALFORMED;
  let i = s + 2;
  let value = 0;
  let digits = 0;
  for (;;) {
    const ch = raw[i];
    if (ch === 0x22) break;
    let d = -1;
    if (ch !== undefined && ch >= 0x30 && ch <= 0x39) d = ch - 0x30;
    else if (ch !== undefined && ch >= 0x41 && ch <= 0x46) d = ch - 0x41 + 10;
    if (d < 0 || digits === 9) return MALFORMED;
    value = value * 16 + d;
    digits++;
    i++;
  }
  if ((digits !== 6 && digits !== 7 && digits !== 9) || raw[i + 1] !== 0x3a || raw[i + 2] !== 0x20 || raw[i + 3] !== 0x22)
    return MALFORMED;
  valueAt = i + 3;
  return digits * 2 ** 40 + value;
}

/** Start of the first line at or after byte `pos` (raw.length when none). */
function lineStartFrom(raw: Buffer, pos: number): number {
  if (pos === 0) return 0;
  const nl = raw.indexOf(0x0a, pos - 1);
  return nl < 0 ? raw.length : nl + 1;
}

const SAMPLES = 4096;

/**
 * Samples SAMPLES evenly spaced lines and checks the layout the lookup relies on there: every line
 * ` "KEY": "VALUE"` (and the braces), keys in ascending (digits, value) order. Undefined when it does not hold.
 * The unit test checks every key of the installed package.
 */
function sample(raw: Buffer): Registry | undefined {
  if (raw[0] !== 0x7b) return undefined;
  const sampleStart = new Int32Array(SAMPLES);
  const sampleKey = new Float64Array(SAMPLES);
  let prev = BEFORE_ALL;
  let n = 0;
  for (let k = 1; k <= SAMPLES; k++) {
    const s = lineStartFrom(raw, Math.floor((raw.length * k) / (SAMPLES + 1)));
    if (s >= raw.length) break;
    const key = lineKey(raw, s);
    if (key === MALFORMED || key < prev) return undefined;
    if (key === AFTER_ALL) break;
    if (key !== prev) {
      sampleStart[n] = s;
      sampleKey[n] = key;
      n++;
    }
    prev = key;
  }
  return { raw, sampleStart: sampleStart.subarray(0, n), sampleKey: sampleKey.subarray(0, n) };
}

function load(): Registry {
  if (registry === undefined) {
    const require = createRequire(import.meta.url);
    const raw = readFileSync(require.resolve('oui-data'));
    registry = sample(raw) ?? { table: JSON.parse(raw.toString('utf8')) as Record<string, string> };
  }
  return registry;
}

/** Falls back to parsing the file whole (a line that breaks the layout was met). */
function parseWhole(r: Registry): Record<string, string> {
  r.table = JSON.parse(r.raw!.toString('utf8')) as Record<string, string>;
  delete r.raw;
  delete r.sampleStart;
  delete r.sampleKey;
  return r.table;
}

/** The registry entry for a prefix of `digits` hex digits, or undefined. */
function entryOf(r: Registry, value: number, digits: number): string | undefined {
  const table = r.table;
  if (table !== undefined) return table[value.toString(16).toUpperCase().padStart(digits, '0')];
  const raw = r.raw!;
  const target = digits * 2 ** 40 + value;
  // The last sample at or below the target and the next one bound the target's line.
  const starts = r.sampleStart!;
  const keys = r.sampleKey!;
  let a = 0;
  let b = keys.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (keys[m]! <= target) a = m + 1;
    else b = m;
  }
  // Binary search on byte offsets; invariant: the target's line, if any, starts in [lo, hi).
  let lo = a > 0 ? starts[a - 1]! : 0;
  let hi = a < starts.length ? starts[a]! : raw.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const s = lineStartFrom(raw, mid);
    if (s >= hi) {
      hi = mid;
      continue;
    }
    const key = lineKey(raw, s);
    if (key === MALFORMED) return entryOf({ table: parseWhole(r) }, value, digits);
    if (key === target) {
      let end = raw.indexOf(0x0a, valueAt);
      if (end < 0) end = raw.length;
      if (raw[end - 1] === 0x0d) end--;
      if (raw[end - 1] === 0x2c) end--;
      return JSON.parse(raw.toString('utf8', valueAt, end)) as string;
    }
    if (key < target) {
      const nl = raw.indexOf(0x0a, s);
      lo = nl < 0 ? raw.length : nl + 1;
    } else {
      hi = mid;
    }
  }
  return undefined;
}

/**
 * Organisation name for a 48-bit MAC (longest registry prefix first), or '' when the prefix is unassigned, the MAC is
 * locally administered (randomised/virtual) or a group address.
 */
export function macVendor(mac: number): string {
  if (mac < 0 || isLocalMac(mac) || Math.floor(mac / 0x10000000000) % 2 === 1) return '';
  const r = load();
  const entry =
    entryOf(r, Math.floor(mac / 0x1000), 9) ?? entryOf(r, Math.floor(mac / 0x100000), 7) ?? entryOf(r, Math.floor(mac / 0x1000000), 6);
  if (entry === undefined) return '';
  const nl = entry.indexOf('\n');
  return (nl < 0 ? entry : entry.slice(0, nl)).trim();
}

/** Test hook: which form the registry was loaded in ('lines' or 'parsed'). */
export function vendorRegistryForm(): 'searched' | 'parsed' {
  return load().table !== undefined ? 'parsed' : 'searched';
}
