/** Bounded text extraction for application metadata (the only per-packet strings the decoder makes). */

/** Longest DNS name / host name kept, and longest identifier (AE title, client id, HL7 field). */
export const MAX_NAME = 255;
export const MAX_IDENT = 64;

/** True when every byte in [start, end) is printable ASCII (0x20–0x7e). */
export function isPrintable(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Bytes [start, end) as text, cut to `max` bytes; UTF-8 where valid (MQTT, DHCP), otherwise Latin-1. */
export function boundedText(b: Buffer, start: number, end: number, max: number): string {
  if (end - start > max) end = start + max;
  if (end <= start) return '';
  return internText(b, start, end, false);
}

// Interned texts: the same few names recur on every packet of a protocol (HL7 message types and applications, MQTT
// topics, DNS names, AE titles), so the decoder keeps the last text per hash slot with a copy of its bytes and
// returns the same string while the bytes match: no per-packet string (and no garbage) for a recurring name. A miss
// decodes the bytes as before and replaces the slot. The string is the same as `toString` would give.
const INTERN_SLOTS = 1024;
const internBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INTERN_SLOTS).fill(undefined);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');
const internLatin1 = new Uint8Array(INTERN_SLOTS);

/** Bytes [start, end) (at most 255 + a little) decoded as UTF-8, or Latin-1 when `latin1`, interned (see above). */
export function internText(b: Buffer, start: number, end: number, latin1: boolean): string {
  let h = latin1 ? 0x2545f491 : 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  h ^= h >>> 15;
  const slot = h & (INTERN_SLOTS - 1);
  const kept = internBytes[slot];
  const n = end - start;
  if (kept !== undefined && kept.length === n && internLatin1[slot] === (latin1 ? 1 : 0)) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (kept[i] !== b[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return internStrings[slot]!;
  }
  const text = b.toString(latin1 ? 'latin1' : 'utf8', start, end);
  const copy = new Uint8Array(n);
  for (let i = 0; i < n; i++) copy[i] = b[start + i]!;
  internBytes[slot] = copy;
  internStrings[slot] = text;
  internLatin1[slot] = latin1 ? 1 : 0;
  return text;
}
