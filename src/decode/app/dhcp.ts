/**
 * DHCP / BOOTP (RFC 2131/2132), identified by the magic cookie at offset 236 whatever the ports. Reads options 53
 * (message type), 12 (host name), 60 (vendor class identifier), 50 (requested IP address) and 55 (parameter request
 * list, as a fingerprint); nothing else.
 */
import { AppProto, formatIpv4, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_NAME, boundedText, internText } from './text.js';

/** Option codes of a parameter request list kept (a real client asks for ~10–25). */
export const MAX_PARAM_REQUEST_CODES = 64;
/** Scratch for the fingerprint text: ≤ 64 codes of ≤ 3 digits and their commas. */
const prlScratch = Buffer.allocUnsafe(MAX_PARAM_REQUEST_CODES * 4);

const MAGIC_COOKIE = 0x63825363;

export function looksLikeDhcp(b: Buffer, off: number, end: number): boolean {
  if (end - off < 240) return false;
  const op = b[off] ?? 0;
  return (op === 1 || op === 2) && b.readUInt32BE(off + 236) === MAGIC_COOKIE;
}

/** Returns false when the options run past the data (counted by the caller as malformed). */
export function decodeDhcp(b: Buffer, off: number, end: number, p: DecodedPacket): boolean {
  const meta: AppMeta = {};
  let o = off + 240;
  let ok = true;
  while (o < end) {
    const code = b[o] ?? 0;
    if (code === 255) break;
    if (code === 0) {
      o++;
      continue;
    }
    if (o + 1 >= end) {
      ok = false;
      break;
    }
    const len = b[o + 1] ?? 0;
    const v = o + 2;
    if (v + len > end) {
      ok = false;
      break;
    }
    if (code === 53 && len >= 1) meta.dhcp_msg_type = b[v] ?? 0;
    else if (code === 12 && len > 0) meta.dhcp_hostname = boundedText(b, v, trimNul(b, v, v + len), MAX_NAME);
    else if (code === 60 && len > 0) meta.dhcp_vendor_class = boundedText(b, v, trimNul(b, v, v + len), MAX_NAME);
    else if (code === 50 && len === 4) meta.dhcp_requested_ip = formatIpv4(b.readUInt32BE(v));
    else if (code === 55 && len > 0) meta.dhcp_param_request = paramRequestList(b, v, v + len);
    o = v + len;
  }
  p.app = AppProto.DHCP;
  p.app_meta = meta;
  return ok;
}

/** Option 55's codes as `1,3,6,15` (interned: the same client asks the same list every time). */
function paramRequestList(b: Buffer, s: number, e: number): string {
  if (e - s > MAX_PARAM_REQUEST_CODES) e = s + MAX_PARAM_REQUEST_CODES;
  let n = 0;
  for (let i = s; i < e; i++) {
    if (i > s) prlScratch[n++] = 0x2c;
    const c = b[i]!;
    if (c >= 100) prlScratch[n++] = 0x30 + ((c / 100) | 0);
    if (c >= 10) prlScratch[n++] = 0x30 + (((c / 10) | 0) % 10);
    prlScratch[n++] = 0x30 + (c % 10);
  }
  return internText(prlScratch, 0, n, true);
}

function trimNul(b: Buffer, start: number, end: number): number {
  while (end > start && b[end - 1] === 0) end--;
  return end;
}
