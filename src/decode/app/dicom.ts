/**
 * DICOM upper layer (PS3.8 §9.3). An A-ASSOCIATE-RQ/AC is identified by content on any port (PDU type 1/2, protocol
 * version 1, printable AE titles, first item an Application Context); other PDU types (3 A-ASSOCIATE-RJ, 4 P-DATA-TF,
 * 5/6 A-RELEASE, 7 A-ABORT) only on the DICOM ports 104 and 11112, where their 6-byte header must be consistent.
 * Reads the PDU type; of an A-ASSOCIATE-RQ/AC the called/calling AE titles and, in its variable items, the abstract
 * syntaxes (SOP class UIDs) of an RQ's presentation contexts and the implementation class UID and version name of the
 * user information item; never a P-DATA data set. Items are read by offset, within the PDU and the captured segment.
 */
import { AppProto, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_IDENT, internText, isPrintable } from './text.js';

/** Distinct abstract syntaxes kept per A-ASSOCIATE-RQ (the others are counted). */
export const MAX_SOP_CLASSES_PER_PDU = 32;
/** Scratch for the comma-separated UID list (32 UIDs of ≤ 64 characters and their commas). */
const sopScratch = Buffer.allocUnsafe(MAX_SOP_CLASSES_PER_PDU * (MAX_IDENT + 1));
/** Start/length in `sopScratch` of the UIDs kept so far (for the distinct check). */
const sopStart = new Int32Array(MAX_SOP_CLASSES_PER_PDU);
const sopLen = new Int32Array(MAX_SOP_CLASSES_PER_PDU);

export function isDicomPort(port: number): boolean {
  return port === 104 || port === 11112;
}

/** Returns the PDU type when the payload is DICOM, 0 otherwise. */
export function dicomPduType(b: Buffer, off: number, end: number, onDicomPort: boolean): number {
  if (end - off < 6) return 0;
  const type = b[off] ?? 0;
  if (b[off + 1] !== 0 || type < 1 || type > 7) return 0;
  const len = b.readUInt32BE(off + 2);
  if (type <= 2) {
    if (len < 68 || end - off < 75) return 0;
    if ((b.readUInt16BE(off + 6) & 1) !== 1) return 0;
    if (!isPrintable(b, off + 10, off + 42)) return 0;
    return b[off + 74] === 0x10 ? type : 0;
  }
  if (!onDicomPort) return 0;
  if (type === 4) return len >= 6 ? type : 0;
  return len === 4 ? type : 0;
}

export function decodeDicom(b: Buffer, off: number, end: number, type: number, p: DecodedPacket): void {
  p.app = AppProto.DICOM;
  if (type <= 2) {
    const meta: AppMeta = {
      dicom_pdu_type: type,
      dicom_called_ae: aeTitle(b, off + 10),
      dicom_calling_ae: aeTitle(b, off + 26),
    };
    p.app_meta = meta;
    readItems(b, off, Math.min(end, off + 6 + b.readUInt32BE(off + 2)), type, meta);
  } else {
    p.app_meta = { dicom_pdu_type: type };
  }
}

/**
 * The variable items of an A-ASSOCIATE-RQ/AC in [off + 74, end): presentation contexts (0x20, RQ) → abstract syntax
 * sub-item 0x30; user information (0x50) → sub-items 0x52 implementation class UID and 0x55 implementation version
 * name. An item that runs past `end` (cut by the segment) ends the scan.
 */
function readItems(b: Buffer, off: number, end: number, type: number, meta: AppMeta): void {
  let o = off + 74;
  let kept = 0;
  let used = 0;
  let dropped = 0;
  while (o + 4 <= end) {
    const itemType = b[o]!;
    const len = b.readUInt16BE(o + 2);
    const v = o + 4;
    const itemEnd = v + len;
    if (itemType === 0x20 && type === 1) {
      // Presentation context: id, 3 reserved, then sub-items (0x30 abstract syntax, 0x40 transfer syntaxes).
      let s = v + 4;
      while (s + 4 <= Math.min(itemEnd, end)) {
        const subType = b[s]!;
        const subLen = b.readUInt16BE(s + 2);
        const sv = s + 4;
        if (subType === 0x30) {
          const e = uidEnd(b, sv, Math.min(sv + subLen, end));
          if (e > sv && e - sv <= MAX_IDENT && isUid(b, sv, e)) {
            if (!hasUid(b, sv, e, kept)) {
              if (kept < MAX_SOP_CLASSES_PER_PDU) {
                if (kept > 0) sopScratch[used++] = 0x2c;
                sopStart[kept] = used;
                sopLen[kept] = e - sv;
                b.copy(sopScratch, used, sv, e);
                used += e - sv;
                kept++;
              } else dropped++;
            }
          }
          break;
        }
        s = sv + subLen;
      }
    } else if (itemType === 0x50) {
      let s = v;
      while (s + 4 <= Math.min(itemEnd, end)) {
        const subType = b[s]!;
        const subLen = b.readUInt16BE(s + 2);
        const sv = s + 4;
        const se = uidEnd(b, sv, Math.min(sv + subLen, end));
        if (sv + subLen <= end && se > sv && isPrintable(b, sv, se)) {
          if (subType === 0x52) meta.dicom_impl_class_uid = internText(b, sv, Math.min(se, sv + MAX_IDENT), true);
          else if (subType === 0x55) meta.dicom_impl_version = internText(b, sv, Math.min(se, sv + MAX_IDENT), true);
        }
        s = sv + subLen;
      }
    }
    if (itemEnd > end) break;
    o = itemEnd;
  }
  if (kept > 0) meta.dicom_sop_classes = sopScratch.toString('latin1', 0, used);
  if (dropped > 0) meta.dicom_sop_classes_dropped = dropped;
}

/** End of a UID or name value in [s, e): trailing NUL padding and spaces removed. */
function uidEnd(b: Buffer, s: number, e: number): number {
  while (e > s && (b[e - 1] === 0 || b[e - 1] === 0x20)) e--;
  return e;
}

/** Only digits and dots (a UID). */
function isUid(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

/** Whether the UID b[s, e) is among the first `kept` in `sopScratch`. */
function hasUid(b: Buffer, s: number, e: number, kept: number): boolean {
  const n = e - s;
  for (let k = 0; k < kept; k++) {
    if (sopLen[k] !== n) continue;
    const at = sopStart[k]!;
    let same = true;
    for (let i = 0; i < n; i++) {
      if (sopScratch[at + i] !== b[s + i]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}

/** A 16-byte AE title, leading and trailing spaces removed. */
function aeTitle(b: Buffer, o: number): string {
  let s = o;
  let e = o + 16;
  while (s < e && (b[s] === 0x20 || b[s] === 0)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0)) e--;
  return internText(b, s, e, true);
}
