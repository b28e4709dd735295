/**
 * IPv4 (RFC 791): addresses, TTL, total length, fragments; options are walked only to validate them.
 * An Authentication Header (protocol 51) is stepped over so that `ip_proto` is the transport protocol behind it.
 * Returns the transport offset (with `s.l4len` = transport bytes per the header), or -1 when there is no transport
 * header to decode (error, or a fragment after the first).
 */
import { DecodeError, type DecodedPacket } from '../records/packet.js';
import type { DecodeCounters } from './counters.js';
import type { DecodeState } from './state.js';
import { u8, u16, u32 } from './bytes.js';

export const IPPROTO_AH = 51;

export function decodeIpv4(b: Buffer, off: number, s: DecodeState, p: DecodedPacket, c: DecodeCounters): number {
  const avail = s.end - off;
  p.ip_version = 4;
  if (avail < 20) {
    p.decode_error = avail > 0 && u8(b, off) >> 4 !== 4 ? DecodeError.BAD_IPV4_VERSION : DecodeError.TRUNCATED_IPV4;
    return -1;
  }
  const vihl = u8(b, off);
  if (vihl >> 4 !== 4) {
    p.decode_error = DecodeError.BAD_IPV4_VERSION;
    return -1;
  }
  const ihl = (vihl & 0x0f) << 2;
  const total = u16(b, off + 2);
  p.ip_len = total;
  p.ip_ttl = u8(b, off + 8);
  const proto = u8(b, off + 9);
  p.ip_proto = proto;
  p.ip_src = u32(b, off + 12);
  p.ip_dst = u32(b, off + 16);
  if (ihl < 20) {
    p.decode_error = DecodeError.BAD_IPV4_HEADER_LENGTH;
    return -1;
  }
  if (total < ihl) {
    p.decode_error = ihl > 20 && total >= 20 ? DecodeError.BAD_IPV4_HEADER_LENGTH : DecodeError.BAD_IPV4_TOTAL_LENGTH;
    return -1;
  }
  if (ihl > avail) {
    p.decode_error = DecodeError.TRUNCATED_IPV4;
    return -1;
  }
  const frag = u16(b, off + 6);
  const fragOffset = frag & 0x1fff;
  if ((frag & 0x2000) !== 0 || fragOffset !== 0) {
    p.ip_fragment = true;
    c.ipv4_fragments++;
  }
  if (ihl > 20 && !optionsValid(b, off + 20, off + ihl)) {
    p.decode_error = DecodeError.BAD_IPV4_OPTION;
    // The header length is still known: carry on to the transport header.
  }
  if (fragOffset !== 0) return -1;
  let l4 = off + ihl;
  let l4len = total - ihl;
  if (proto === IPPROTO_AH) {
    // AH: next header, payload length in 4-octet units minus 2.
    if (s.end - l4 < 8 || l4len < 8) {
      p.decode_error = DecodeError.TRUNCATED_AH;
      return -1;
    }
    const ahLen = (u8(b, l4 + 1) + 2) << 2;
    if (ahLen > l4len || s.end - l4 < ahLen) {
      p.decode_error = DecodeError.TRUNCATED_AH;
      return -1;
    }
    p.ip_proto = u8(b, l4);
    l4 += ahLen;
    l4len -= ahLen;
  }
  s.l4 = l4;
  s.l4len = l4len;
  return l4;
}

/** Options: 0 = end, 1 = no-op, others type/length/value with length ≥ 2 and inside the header. */
function optionsValid(b: Buffer, o: number, end: number): boolean {
  while (o < end) {
    const type = u8(b, o);
    if (type === 0) return true;
    if (type === 1) {
      o++;
      continue;
    }
    if (o + 1 >= end) return false;
    const len = u8(b, o + 1);
    if (len < 2 || o + len > end) return false;
    o += len;
  }
  return true;
}
