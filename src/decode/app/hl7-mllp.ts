/**
 * HL7 v2 over MLLP (start block 0x0B, message, 0x1C 0x0D), identified by content: a payload that starts with
 * `MSH` (after the optional start block). Only the MSH segment's field 3 (sending application) and field 9 (message
 * type, e.g. `ORU^R01`) are read; the scan stops at the end of the MSH segment, so no other segment — and no
 * patient field — is ever looked at.
 */
import { AppProto, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_IDENT, boundedText, isPrintable } from './text.js';

const START_BLOCK = 0x0b;
/** The MSH segment is short; a longer "segment" is not HL7. */
const MAX_MSH_BYTES = 1024;

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
  // After "MSH" and the first separator we are in MSH-2; each separator starts the next field.
  let field = 2;
  let f3s = -1;
  let f3e = -1;
  let f9s = -1;
  let f9e = -1;
  let o = start + 4;
  for (; o < limit; o++) {
    const ch = b[o] ?? 0;
    if (ch === 0x0d || ch === 0x0a || ch === 0x1c) break;
    if (ch !== sep) continue;
    if (field === 3) f3e = o;
    else if (field === 9) {
      f9e = o;
      break;
    }
    field++;
    if (field === 3) f3s = o + 1;
    else if (field === 9) f9s = o + 1;
  }
  if (field === 3 && f3e < 0) f3e = o;
  if (field === 9 && f9e < 0) f9e = o;
  const meta: AppMeta = {};
  if (f3s >= 0 && f3e >= f3s && isPrintable(b, f3s, f3e)) meta.hl7_sending_app = boundedText(b, f3s, f3e, MAX_IDENT);
  if (f9s >= 0 && f9e > f9s && isPrintable(b, f9s, f9e)) meta.hl7_msg_type = boundedText(b, f9s, f9e, MAX_IDENT);
  p.app_meta = meta;
  return meta.hl7_msg_type !== undefined;
}
