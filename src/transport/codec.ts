/**
 * Wire formats of the records wardwatch sends over a bus. Every message carries a `ww-format` header naming its
 * codec and version, so a consumer can decode a mixed topic and reject (dead-letter) what it cannot read.
 *
 * Feature windows have two codecs; `binary` is the default (docs/kafka.md gives the measured choice: same produce
 * cost as JSON, ~1.7× cheaper to consume, and exact — values are IEEE-754 float64, so a window decodes to the same
 * numbers it was built from, NaN and −0 included, and replays give the same alerts whichever transport carried them).
 *
 * `ww-window-bin/1` layout (big-endian):
 *   u8  codec version (1)           u16 feature_schema_version      u16 n = number of values
 *   f64 window_start                f64 window_end
 *   str device_id                   str sensor_id                   str run_id          (str = u16 byte length + UTF-8)
 *   f64 × n values
 *   u8  p, then p × str new_peers   u8 q, then q × u16 new_dst_ports
 * `ww-window-bin/2`: the same with codec version 2, followed by the window's metadata:
 *   u8  m = metadata flags (bit 0: capture_loss follows; other bits must be 0)
 *   f64 capture_loss                (when bit 0)
 * `ww-window-bin/3`: the `/2` layout with codec version 3, whose metadata flags may also have bit 1: the window's
 * identity changes follow (after `capture_loss` when both are present):
 *   u8  k = number of changes, then k × ( u8 field (index in IDENTITY_FIELDS)  str value  str context
 *                                         u8 s, then s × str seen_before )
 * Each window is written in the oldest format that holds it: without metadata (no `capture_loss`: a sensor reading a
 * file; no identity change: most windows) as `ww-window-bin/1`, byte for byte what older sensors write; with
 * `capture_loss` only as `/2`; with identity changes as `/3`. So only live sensors need detectors that read `/2`, and
 * only windows naming an identity change need `/3` (upgrade detectors first).
 * `ww-window-json/1`: one FeatureWindow as UTF-8 JSON (the record's own field names; `capture_loss` and
 * `identity_changes` when present).
 *
 * `ww-window-batch/1`: several windows of ONE partition in one Kafka message (the producer's default; see
 * docs/kafka.md for why and for the key/partition rules). Layout (big-endian):
 *   u8  batch version (1)           u8  inner codec (0 = ww-window-bin/1, 1 = ww-window-json/1, 2 = ww-window-bin/2,
 *                                                    3 = ww-window-bin/3)
 *   u16 n = number of windows (1..65535)
 *   n × (u32 byte length, then one window in the inner codec)
 * The message is decoded whole or not at all: any bad window (or trailing bytes) makes the whole message poison,
 * so it goes to the dead-letter topic as it is.
 *
 * Alerts and flow records are JSON (`ww-alert-json/1`, `ww-flow-json/1`): rarer, read by people and other tools.
 */
import { FEATURE_WINDOW_SCHEMA_VERSION, IDENTITY_FIELDS, type FeatureWindow, type IdentityChange } from '../records/features.js';
import { ALERT_SCHEMA_VERSION, type Alert } from '../records/alert.js';
import { DEVICE_SCHEMA_VERSION, type InventoryEntry } from '../records/device.js';
import { FLOW_SCHEMA_VERSION, type FlowRecord } from '../records/flow.js';
import { WardwatchError } from '../errors.js';

export const FORMAT_HEADER = 'ww-format';
export const WINDOW_BINARY = 'ww-window-bin/1';
/** `ww-window-bin/1` plus the window's metadata (`capture_loss`); written only for windows that carry it. */
export const WINDOW_BINARY_V2 = 'ww-window-bin/2';
/** `ww-window-bin/2` plus the window's identity changes; written only for windows that carry them. */
export const WINDOW_BINARY_V3 = 'ww-window-bin/3';
export const WINDOW_JSON = 'ww-window-json/1';
export const WINDOW_BATCH = 'ww-window-batch/1';
export const ALERT_JSON = 'ww-alert-json/1';
export const INVENTORY_JSON = 'ww-inventory-json/1';
export const FLOW_JSON = 'ww-flow-json/1';

export type WindowCodecName = 'binary' | 'json';

/** A message that cannot be decoded: goes to the dead-letter topic, never stops a consumer. */
export class PoisonMessageError extends WardwatchError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WW_MESSAGE_UNDECODABLE', message, options);
  }
}

const MAX_STR = 0xffff;

function strBytes(s: string): number {
  // ASCII (device ids, sensor ids, addresses) is the common case: its UTF-8 length is its length.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

function writeStr(buf: Buffer, off: number, s: string): number {
  const n = s.length === 0 ? 0 : buf.write(s, off + 2, 'utf8');
  buf.writeUInt16BE(n, off);
  return off + 2 + n;
}

/** Metadata flags of `ww-window-bin/2` (bit 0) and `/3` (bits 0 and 1). */
const META_CAPTURE_LOSS = 1;
const META_IDENTITY_CHANGES = 2;

/** The window's identity changes to write (≤ 255), none when it has none. */
function identityChangesOf(w: FeatureWindow): readonly IdentityChange[] {
  return w.identity_changes === undefined || w.identity_changes.length === 0 ? [] : w.identity_changes.slice(0, 255);
}

/** The oldest binary format that holds the window: `/3` with identity changes, else `/2` with `capture_loss`, else `/1`. */
function binaryFormatOf(w: FeatureWindow): typeof WINDOW_BINARY | typeof WINDOW_BINARY_V2 | typeof WINDOW_BINARY_V3 {
  if (w.identity_changes !== undefined && w.identity_changes.length > 0) return WINDOW_BINARY_V3;
  return w.capture_loss === undefined ? WINDOW_BINARY : WINDOW_BINARY_V2;
}

/** Encodes one window in the oldest binary format that holds it (`binaryFormatOf`; see the layouts above). */
export function encodeWindowBinary(w: FeatureWindow): Buffer {
  const changes = identityChangesOf(w);
  const version = changes.length > 0 ? 3 : w.capture_loss !== undefined ? 2 : 1;
  const np = Math.min(w.new_peers.length, 255);
  const nq = Math.min(w.new_dst_ports.length, 255);
  const nv = w.values.length;
  const dev = strBytes(w.device_id);
  const sen = strBytes(w.sensor_id);
  const run = strBytes(w.run_id);
  let size = 1 + 2 + 2 + 8 + 8 + 6 + dev + sen + run + 8 * nv + 1 + 1 + 2 * nq + (version > 1 ? 1 : 0) + (w.capture_loss !== undefined && version > 1 ? 8 : 0);
  let maxStr = Math.max(dev, sen, run);
  const text = (t: string): void => {
    const b = strBytes(t);
    if (b > maxStr) maxStr = b;
    size += 2 + b;
  };
  for (let i = 0; i < np; i++) text(w.new_peers[i]!);
  if (changes.length > 0) {
    size += 1;
    for (const c of changes) {
      size += 2; // field, number of seen_before
      text(c.value);
      text(c.context);
      for (const v of c.seen_before.slice(0, 255)) text(v);
    }
  }
  if (maxStr > MAX_STR) throw new PoisonMessageError(`string field longer than ${MAX_STR} bytes`);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = version;
  buf.writeUInt16BE(w.feature_schema_version, 1);
  buf.writeUInt16BE(nv, 3);
  buf.writeDoubleBE(w.window_start, 5);
  buf.writeDoubleBE(w.window_end, 13);
  let o = writeStr(buf, 21, w.device_id);
  o = writeStr(buf, o, w.sensor_id);
  o = writeStr(buf, o, w.run_id);
  const values = w.values;
  for (let i = 0; i < nv; i++, o += 8) buf.writeDoubleBE(values[i]!, o);
  buf[o++] = np;
  for (let i = 0; i < np; i++) o = writeStr(buf, o, w.new_peers[i]!);
  buf[o++] = nq;
  for (let i = 0; i < nq; i++, o += 2) buf.writeUInt16BE(w.new_dst_ports[i]!, o);
  if (version > 1) {
    buf[o++] = (w.capture_loss !== undefined ? META_CAPTURE_LOSS : 0) | (changes.length > 0 ? META_IDENTITY_CHANGES : 0);
    if (w.capture_loss !== undefined) {
      buf.writeDoubleBE(w.capture_loss, o);
      o += 8;
    }
  }
  if (changes.length > 0) {
    buf[o++] = changes.length;
    for (const c of changes) {
      const field = IDENTITY_FIELDS.indexOf(c.field);
      if (field < 0) throw new PoisonMessageError(`identity change of unknown field '${String(c.field)}'`);
      buf[o++] = field;
      o = writeStr(buf, o, c.value);
      o = writeStr(buf, o, c.context);
      const before = c.seen_before.slice(0, 255);
      buf[o++] = before.length;
      for (const v of before) o = writeStr(buf, o, v);
    }
  }
  return buf;
}

export function decodeWindowBinary(buf: Buffer): FeatureWindow {
  let o = 0;
  const need = (n: number): void => {
    if (o + n > buf.length) throw new PoisonMessageError(`feature window truncated at byte ${o} of ${buf.length}`);
  };
  const str = (): string => {
    need(2);
    const n = buf.readUInt16BE(o);
    need(2 + n);
    const s = buf.toString('utf8', o + 2, o + 2 + n);
    o += 2 + n;
    return s;
  };
  need(21);
  const version = buf.readUInt8(0);
  if (version !== 1 && version !== 2 && version !== 3) throw new PoisonMessageError(`unknown feature window codec version ${version}`);
  const feature_schema_version = buf.readUInt16BE(1);
  const n = buf.readUInt16BE(3);
  const window_start = buf.readDoubleBE(5);
  const window_end = buf.readDoubleBE(13);
  o = 21;
  const device_id = str();
  const sensor_id = str();
  const run_id = str();
  need(8 * n);
  const values = new Array<number>(n);
  for (let i = 0; i < n; i++, o += 8) values[i] = buf.readDoubleBE(o);
  need(1);
  const np = buf.readUInt8(o++);
  const new_peers: string[] = [];
  for (let i = 0; i < np; i++) new_peers.push(str());
  need(1);
  const nq = buf.readUInt8(o++);
  need(2 * nq);
  const new_dst_ports: number[] = [];
  for (let i = 0; i < nq; i++, o += 2) new_dst_ports.push(buf.readUInt16BE(o));
  let capture_loss: number | undefined;
  let identity_changes: IdentityChange[] | undefined;
  if (version >= 2) {
    need(1);
    const flags = buf.readUInt8(o++);
    const known = version === 2 ? META_CAPTURE_LOSS : META_CAPTURE_LOSS | META_IDENTITY_CHANGES;
    if ((flags & ~known) !== 0) throw new PoisonMessageError(`feature window has unknown metadata flags 0x${flags.toString(16)}`);
    if (flags & META_CAPTURE_LOSS) {
      need(8);
      capture_loss = buf.readDoubleBE(o);
      o += 8;
    }
    if (flags & META_IDENTITY_CHANGES) {
      need(1);
      const k = buf.readUInt8(o++);
      identity_changes = [];
      for (let i = 0; i < k; i++) {
        need(1);
        const field = IDENTITY_FIELDS[buf.readUInt8(o++)];
        if (field === undefined) throw new PoisonMessageError(`identity change ${i} has an unknown field ${buf.readUInt8(o - 1)}`);
        const value = str();
        const context = str();
        need(1);
        const s = buf.readUInt8(o++);
        const seen_before: string[] = [];
        for (let j = 0; j < s; j++) seen_before.push(str());
        identity_changes.push({ field, value, context, seen_before });
      }
    }
  }
  if (o !== buf.length) throw new PoisonMessageError(`feature window has ${buf.length - o} trailing bytes`);
  if (!device_id) throw new PoisonMessageError('feature window without device_id');
  const w: FeatureWindow = {
    schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
    feature_schema_version,
    device_id,
    sensor_id,
    run_id,
    window_start,
    window_end,
    values,
    new_peers,
    new_dst_ports,
  };
  if (capture_loss !== undefined) w.capture_loss = capture_loss;
  if (identity_changes !== undefined) w.identity_changes = identity_changes;
  return w;
}

function encodeWindowJson(w: FeatureWindow): Buffer {
  return Buffer.from(JSON.stringify(w), 'utf8');
}

function decodeWindowJson(buf: Buffer): FeatureWindow {
  let w: unknown;
  try {
    w = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError('feature window is not valid JSON', { cause: err });
  }
  const version = (w as { schema_version?: unknown } | null)?.schema_version;
  if (version !== FEATURE_WINDOW_SCHEMA_VERSION) throw new PoisonMessageError(`feature window schema_version ${String(version)} is not ${FEATURE_WINDOW_SCHEMA_VERSION}`);
  if (!isWindow(w)) throw new PoisonMessageError('JSON is not a feature window (missing or mistyped fields)');
  return w;
}

function isWindow(x: unknown): x is FeatureWindow {
  if (!x || typeof x !== 'object') return false;
  const w = x as Record<string, unknown>;
  return (
    typeof w['device_id'] === 'string' &&
    w['device_id'] !== '' &&
    typeof w['window_start'] === 'number' &&
    typeof w['window_end'] === 'number' &&
    typeof w['feature_schema_version'] === 'number' &&
    Array.isArray(w['values']) &&
    (w['values'] as unknown[]).every((v) => typeof v === 'number') &&
    Array.isArray(w['new_peers']) &&
    Array.isArray(w['new_dst_ports']) &&
    typeof w['sensor_id'] === 'string' &&
    typeof w['run_id'] === 'string' &&
    (w['capture_loss'] === undefined || typeof w['capture_loss'] === 'number') &&
    (w['identity_changes'] === undefined || (Array.isArray(w['identity_changes']) && (w['identity_changes'] as unknown[]).every(isIdentityChange)))
  );
}

function isIdentityChange(x: unknown): x is IdentityChange {
  if (!x || typeof x !== 'object') return false;
  const c = x as Record<string, unknown>;
  return (
    IDENTITY_FIELDS.includes(c['field'] as IdentityChange['field']) &&
    typeof c['value'] === 'string' &&
    typeof c['context'] === 'string' &&
    Array.isArray(c['seen_before']) &&
    (c['seen_before'] as unknown[]).every((v) => typeof v === 'string')
  );
}

export interface EncodedMessage {
  key: string;
  value: Buffer;
  format: string;
}

export function encodeWindow(w: FeatureWindow, codec: WindowCodecName = 'binary'): EncodedMessage {
  return codec === 'binary'
    ? { key: w.device_id, value: encodeWindowBinary(w), format: binaryFormatOf(w) }
    : { key: w.device_id, value: encodeWindowJson(w), format: WINDOW_JSON };
}

/** Decodes a single-window message by its format header; unknown formats and bad bytes throw `PoisonMessageError`. */
export function decodeWindow(value: Buffer | null, format: string | undefined): FeatureWindow {
  if (!value) throw new PoisonMessageError('message has no value');
  if (format === WINDOW_BINARY || format === WINDOW_BINARY_V2 || format === WINDOW_BINARY_V3) return decodeWindowBinary(value);
  if (format === WINDOW_JSON) return decodeWindowJson(value);
  throw new PoisonMessageError(`unknown message format '${format ?? '(none)'}'`);
}

const INNER_CODEC: Record<string, number> = { [WINDOW_BINARY]: 0, [WINDOW_JSON]: 1, [WINDOW_BINARY_V2]: 2, [WINDOW_BINARY_V3]: 3 };
/** Fixed bytes of a batch message, and per window inside it. */
export const BATCH_HEADER_BYTES = 4;
export const BATCH_ENTRY_OVERHEAD = 4;
export const BATCH_MAX_WINDOWS = 0xffff;

/**
 * Packs already-encoded windows (all of one inner format, e.g. from the producer's buffer or spool) into one
 * `ww-window-batch/1` value.
 */
export function encodeWindowBatch(windows: readonly { value: Buffer; format: string }[]): Buffer {
  if (windows.length === 0 || windows.length > BATCH_MAX_WINDOWS) throw new RangeError(`a window batch holds 1..${BATCH_MAX_WINDOWS} windows, not ${windows.length}`);
  const format = windows[0]!.format;
  const inner = INNER_CODEC[format];
  if (inner === undefined) throw new RangeError(`cannot batch windows of format '${format}'`);
  let size = BATCH_HEADER_BYTES;
  for (const w of windows) {
    if (w.format !== format) throw new RangeError(`one batch mixes window formats '${format}' and '${w.format}'`);
    size += BATCH_ENTRY_OVERHEAD + w.value.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let o = buf.writeUInt8(1, 0);
  o = buf.writeUInt8(inner, o);
  o = buf.writeUInt16BE(windows.length, o);
  for (const w of windows) {
    o = buf.writeUInt32BE(w.value.length, o);
    o += w.value.copy(buf, o);
  }
  return buf;
}

export function decodeWindowBatch(buf: Buffer): FeatureWindow[] {
  if (buf.length < BATCH_HEADER_BYTES) throw new PoisonMessageError(`window batch truncated: ${buf.length} bytes`);
  const version = buf.readUInt8(0);
  if (version !== 1) throw new PoisonMessageError(`unknown window batch version ${version}`);
  const inner = buf.readUInt8(1);
  if (inner > 3) throw new PoisonMessageError(`unknown inner codec ${inner} in window batch`);
  const n = buf.readUInt16BE(2);
  if (n === 0) throw new PoisonMessageError('window batch holds no windows');
  const out = new Array<FeatureWindow>(n);
  let o = BATCH_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    if (o + 4 > buf.length) throw new PoisonMessageError(`window batch truncated at window ${i} of ${n}`);
    const len = buf.readUInt32BE(o);
    o += 4;
    if (o + len > buf.length) throw new PoisonMessageError(`window batch truncated in window ${i} of ${n}`);
    const part = buf.subarray(o, o + len);
    try {
      out[i] = inner === 1 ? decodeWindowJson(part) : decodeWindowBinary(part);
    } catch (err) {
      throw new PoisonMessageError(`window ${i} of ${n} in batch: ${(err as Error).message}`, { cause: err });
    }
    o += len;
  }
  if (o !== buf.length) throw new PoisonMessageError(`window batch has ${buf.length - o} trailing bytes`);
  return out;
}

/** Decodes any window message (batch or single) by its format header; bad input throws `PoisonMessageError`. */
export function decodeWindows(value: Buffer | null, format: string | undefined): FeatureWindow[] {
  if (format === WINDOW_BATCH) {
    if (!value) throw new PoisonMessageError('message has no value');
    return decodeWindowBatch(value);
  }
  return [decodeWindow(value, format)];
}

export function encodeAlert(a: Alert): EncodedMessage {
  return { key: a.device_id, value: Buffer.from(JSON.stringify(a), 'utf8'), format: ALERT_JSON };
}

export function decodeAlert(value: Buffer | null, format: string | undefined): Alert {
  if (!value) throw new PoisonMessageError('message has no value');
  if (format !== ALERT_JSON) throw new PoisonMessageError(`unknown alert format '${format ?? '(none)'}'`);
  let a: unknown;
  try {
    a = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError('alert is not valid JSON', { cause: err });
  }
  if (!a || typeof a !== 'object' || (a as Alert).schema_version !== ALERT_SCHEMA_VERSION || typeof (a as Alert).alert_id !== 'string') {
    throw new PoisonMessageError('JSON is not an alert of schema version 1');
  }
  return a as Alert;
}

/** An inventory entry (compacted inventory topic, key = device id). */
export function encodeInventory(e: InventoryEntry): EncodedMessage {
  return { key: e.device_id, value: Buffer.from(JSON.stringify(e), 'utf8'), format: INVENTORY_JSON };
}

export function decodeInventory(value: Buffer | null, format: string | undefined): InventoryEntry {
  if (!value) throw new PoisonMessageError('message has no value');
  if (format !== INVENTORY_JSON) throw new PoisonMessageError(`unknown inventory format '${format ?? '(none)'}'`);
  let e: unknown;
  try {
    e = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError('inventory entry is not valid JSON', { cause: err });
  }
  const x = e as Partial<InventoryEntry> | null;
  if (!x || typeof x !== 'object' || x.schema_version !== DEVICE_SCHEMA_VERSION || typeof x.device_id !== 'string' || !x.device_id || typeof x.device_class !== 'string' || typeof x.criticality !== 'string') {
    throw new PoisonMessageError(`JSON is not an inventory entry of schema version ${DEVICE_SCHEMA_VERSION}`);
  }
  return x as InventoryEntry;
}

/** An ended flow record (optional flows topic, key = the flow's device id, else its originator address). */
export function encodeFlow(r: FlowRecord, key: string): EncodedMessage {
  return { key, value: Buffer.from(JSON.stringify(r), 'utf8'), format: FLOW_JSON };
}

export function decodeFlow(value: Buffer | null, format: string | undefined): FlowRecord {
  if (!value) throw new PoisonMessageError('message has no value');
  if (format !== FLOW_JSON) throw new PoisonMessageError(`unknown flow format '${format ?? '(none)'}'`);
  let r: unknown;
  try {
    r = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError('flow record is not valid JSON', { cause: err });
  }
  if (!r || typeof r !== 'object' || (r as FlowRecord).schema_version !== FLOW_SCHEMA_VERSION) throw new PoisonMessageError(`JSON is not a flow record of schema version ${FLOW_SCHEMA_VERSION}`);
  return r as FlowRecord;
}
