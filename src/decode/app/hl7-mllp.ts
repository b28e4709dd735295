/**
 * HL7 v2 over MLLP (start block 0x0B, message, 0x1C 0x0D), identified by content: a payload that starts with
 * `MSH` (after the optional start block).
 *
 * What is read, and nothing else:
 *  - MSH-3 sending application, MSH-4 sending facility, MSH-5 receiving application, MSH-6 receiving facility,
 *    MSH-9 message type (e.g. `ORU^R01`), MSH-12 version id;
 *  - of an OBX segment, field 18 (equipment instance identifier) only; of a PRT segment, fields 10 (participation
 *    device, the UDI as on the label) and 16 (participation device identifier, the UDI-DI) only. The first non-empty
 *    value of each per message.
 * Every other segment (PID, NK1, PV1, OBR, …) is skipped from its 3-character name to its end without a byte of it
 * being looked at, and of OBX/PRT only the separators before the wanted field are counted: no observation value,
 * patient or next-of-kin field is ever read or copied. Offsets only; a string is made (interned, see text.ts) only for
 * a field that is present and printable. The scan stops at the end block 0x1C or at the end of the segment as
 * captured (no TCP reassembly: OBX/PRT segments in a later TCP segment of the message are not seen).
 */
import { AppProto, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_IDENT, boundedText, isPrintable } from './text.js';

const START_BLOCK = 0x0b;
const END_BLOCK = 0x1c;
const CR = 0x0d;
const LF = 0x0a;
/** The MSH segment is short; a longer "segment" is not HL7. */
const MAX_MSH_BYTES = 1024;
/** Highest MSH field read. */
const MSH_LAST = 12;
/** Start and end offsets of MSH fields 0..MSH_LAST (index = field number), -1 when absent. Module scratch. */
const fieldStart = new Int32Array(MSH_LAST + 1);
const fieldEnd = new Int32Array(MSH_LAST + 1);

export function looksLikeHl7(b: Buffer, off: number, end: number): boolean {
  let o = off;
  if (b[o] === START_BLOCK) o++;
  // "MSH" + field separator + encoding characters.
  if (end - o < 8 || b[o] !== 0x4d || b[o + 1] !== 0x53 || b[o + 2] !== 0x48) return false;
  const sep = b[o + 3] ?? 0;
  return sep > 0x20 && sep < 0x7f && sep !== 0x5e && (b[o + 4] ?? 0) > 0x20;
}

/** Call after `looksLikeHl7`. Returns false when MSH-9 is missing or not text (counted as malformed). */
export function decodeHl7(b: Buffer, off: number, end: number, p: DecodedPacket): boolean {
  p.app = AppProto.HL7;
  const start = b[off] === START_BLOCK ? off + 1 : off;
  const sep = b[start + 3] ?? 0;
  const limit = Math.min(end, start + MAX_MSH_BYTES);
  fieldStart.fill(-1);
  fieldEnd.fill(-1);
  // After "MSH" and the first separator we are in MSH-2; each separator starts the next field.
  let field = 2;
  fieldStart[2] = start + 4;
  let o = start + 4;
  for (; o < limit; o++) {
    const ch = b[o] ?? 0;
    if (ch === CR || ch === LF || ch === END_BLOCK) break;
    if (ch !== sep) continue;
    fieldEnd[field] = o;
    if (field === MSH_LAST) {
      o = skipSegment(b, o, end, false);
      break;
    }
    field++;
    fieldStart[field] = o + 1;
  }
  if (field <= MSH_LAST && fieldEnd[field]! < 0) fieldEnd[field] = o;
  const meta: AppMeta = {};
  const app = mshField(b, 3);
  if (app !== undefined) meta.hl7_sending_app = app;
  const sf = mshField(b, 4);
  if (sf !== undefined && sf !== '') meta.hl7_sending_facility = sf;
  const ra = mshField(b, 5);
  if (ra !== undefined && ra !== '') meta.hl7_receiving_app = ra;
  const rf = mshField(b, 6);
  if (rf !== undefined && rf !== '') meta.hl7_receiving_facility = rf;
  const type = mshField(b, 9);
  if (type !== undefined && type !== '') meta.hl7_msg_type = type;
  const version = mshField(b, 12);
  if (version !== undefined && version !== '') meta.hl7_version = version;
  p.app_meta = meta;
  if (o < end && (b[o] === CR || b[o] === LF)) scanEquipment(b, o, end, sep, b[o] === CR, meta);
  return meta.hl7_msg_type !== undefined;
}

/** MSH field `n` as text (cut to MAX_IDENT), undefined when absent or not printable. */
function mshField(b: Buffer, n: number): string | undefined {
  const s = fieldStart[n]!;
  const e = fieldEnd[n]!;
  if (s < 0 || e < s || !isPrintable(b, s, e)) return undefined;
  return boundedText(b, s, e, MAX_IDENT);
}

/**
 * Offset of the end of the segment that contains `o`: its CR/LF, the end block, or `end`. `crOnly` (the message's
 * MSH ended on CR, as the standard has it): the next CR, found by `indexOf` (native, ~8× a loop over the bytes); else
 * byte by byte.
 */
function skipSegment(b: Buffer, o: number, end: number, crOnly: boolean): number {
  if (crOnly) {
    const i = b.indexOf(CR, o);
    return i < 0 || i > end ? end : i;
  }
  while (o < end) {
    const ch = b[o]!;
    if (ch === CR || ch === LF || ch === END_BLOCK) return o;
    o++;
  }
  return o;
}

/**
 * The segments after MSH, from `o` (a segment terminator): OBX-18, PRT-10 and PRT-16 into `meta` (first non-empty
 * each); every other segment skipped unread.
 */
function scanEquipment(b: Buffer, o: number, end: number, sep: number, crOnly: boolean, meta: AppMeta): void {
  while (o < end) {
    const ch = b[o]!;
    if (ch === END_BLOCK) return;
    if (ch === CR || ch === LF) {
      o++;
      continue;
    }
    // A segment starts at `o`: its name is 3 characters, then the field separator.
    if (o + 4 <= end && b[o + 3] === sep) {
      const c0 = b[o]!;
      const c1 = b[o + 1]!;
      const c2 = b[o + 2]!;
      if (c0 === 0x4f && c1 === 0x42 && c2 === 0x58) {
        // OBX
        if (meta.hl7_obx18 === undefined) {
          const v = segmentField(b, o + 3, end, sep, 18);
          if (v !== undefined) meta.hl7_obx18 = v;
        }
      } else if (c0 === 0x50 && c1 === 0x52 && c2 === 0x54) {
        // PRT
        if (meta.hl7_prt10 === undefined) {
          const v = segmentField(b, o + 3, end, sep, 10);
          if (v !== undefined) meta.hl7_prt10 = v;
        }
        if (meta.hl7_prt16 === undefined) {
          const v = segmentField(b, o + 3, end, sep, 16);
          if (v !== undefined) meta.hl7_prt16 = v;
        }
      }
    }
    o = skipSegment(b, o, end, crOnly);
  }
}

/**
 * Field `n` of the segment whose first field separator is at `o`: only separators are compared until the field's
 * start; then its bytes up to the next separator or segment end. Undefined when the field is absent, empty or not
 * printable.
 */
function segmentField(b: Buffer, o: number, end: number, sep: number, n: number): string | undefined {
  let field = 0;
  for (; o < end; o++) {
    const ch = b[o]!;
    if (ch === CR || ch === LF || ch === END_BLOCK) return undefined;
    if (ch === sep && ++field === n) break;
  }
  if (field !== n) return undefined;
  const s = o + 1;
  let e = s;
  while (e < end) {
    const ch = b[e]!;
    if (ch === sep || ch === CR || ch === LF || ch === END_BLOCK) break;
    e++;
  }
  if (e === s || !isPrintable(b, s, e)) return undefined;
  return boundedText(b, s, e, MAX_IDENT);
}
