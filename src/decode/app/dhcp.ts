/**
 * DHCP / BOOTP (RFC 2131/2132), identified by the magic cookie at offset 236 whatever the ports. Reads options 53
 * (message type), 12 (host name), 60 (vendor class identifier) and 50 (requested IP address); nothing else.
 */
import { AppProto, formatIpv4, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_NAME, boundedText } from './text.js';

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
    o = v + len;
  }
  p.app = AppProto.DHCP;
  p.app_meta = meta;
  return ok;
}

function trimNul(b: Buffer, start: number, end: number): number {
  while (end > start && b[end - 1] === 0) end--;
  return end;
}
