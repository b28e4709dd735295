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
  return b.toString('utf8', start, end);
}
