/**
 * IPv6 (RFC 8200) with its extension headers walked (Hop-by-Hop, Routing, Fragment, Destination Options, AH,
 * Mobility, HIP, Shim6), at most `MAX_EXTENSION_HEADERS` of them: a longer chain (e.g. a crafted repeating chain)
 * is counted as `IPV6_EXT_LIMIT` and the transport header is not decoded.
 * Returns the transport offset (with `s.l4len`), or -1 when there is none to decode.
 */
import { DecodeError, type DecodedPacket } from '../records/packet.js';
import type { DecodeCounters } from './counters.js';
import type { DecodeState } from './state.js';
import { u8, u16, u32 } from './bytes.js';

export const MAX_EXTENSION_HEADERS = 12;

export function decodeIpv6(b: Buffer, off: number, s: DecodeState, p: DecodedPacket, c: DecodeCounters): number {
  p.ip_version = 6;
  if (s.end - off < 40) {
    p.decode_error = s.end - off > 0 && u8(b, off) >> 4 !== 6 ? DecodeError.BAD_IPV6_VERSION : DecodeError.TRUNCATED_IPV6;
    return -1;
  }
  if (u8(b, off) >> 4 !== 6) {
    p.decode_error = DecodeError.BAD_IPV6_VERSION;
    return -1;
  }
  const plen = u16(b, off + 4);
  let next = u8(b, off + 6);
  p.ip_ttl = u8(b, off + 7);
  p.ip_len = 40 + plen;
  const src = p.ip6_src;
  const dst = p.ip6_dst;
  src[0] = u32(b, off + 8);
  src[1] = u32(b, off + 12);
  src[2] = u32(b, off + 16);
  src[3] = u32(b, off + 20);
  dst[0] = u32(b, off + 24);
  dst[1] = u32(b, off + 28);
  dst[2] = u32(b, off + 32);
  dst[3] = u32(b, off + 36);
  p.ip_src = ((src[0] ?? 0) ^ (src[1] ?? 0) ^ (src[2] ?? 0) ^ (src[3] ?? 0)) >>> 0;
  p.ip_dst = ((dst[0] ?? 0) ^ (dst[1] ?? 0) ^ (dst[2] ?? 0) ^ (dst[3] ?? 0)) >>> 0;

  let o = off + 40;
  let remaining = plen;
  for (let n = 0; ; n++) {
    let hlen: number;
    switch (next) {
      case 0: // Hop-by-Hop
      case 43: // Routing
      case 60: // Destination Options
      case 135: // Mobility
      case 139: // HIP
      case 140: // Shim6
        if (s.end - o < 8) return truncatedExt(p, next);
        hlen = (u8(b, o + 1) + 1) << 3;
        break;
      case 51: // AH
        if (s.end - o < 8) return truncatedExt(p, next);
        hlen = (u8(b, o + 1) + 2) << 2;
        break;
      case 44: {
        // Fragment
        if (s.end - o < 8) return truncatedExt(p, next);
        const fo = u16(b, o + 2);
        p.ip_fragment = true;
        c.ipv6_fragments++;
        if (fo >> 3 !== 0) {
          p.ip_proto = u8(b, o);
          return -1;
        }
        hlen = 8;
        break;
      }
      default:
        p.ip_proto = next;
        s.l4 = o;
        s.l4len = remaining;
        return o;
    }
    if (n >= MAX_EXTENSION_HEADERS) {
      p.ip_proto = next;
      p.decode_error = DecodeError.IPV6_EXT_LIMIT;
      return -1;
    }
    if (hlen > s.end - o || (plen !== 0 && hlen > remaining)) return truncatedExt(p, next);
    next = u8(b, o);
    o += hlen;
    remaining -= hlen;
  }
}

function truncatedExt(p: DecodedPacket, next: number): number {
  p.ip_proto = next;
  p.decode_error = DecodeError.TRUNCATED_IPV6_EXT;
  return -1;
}
