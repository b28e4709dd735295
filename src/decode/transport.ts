/**
 * Transport headers: TCP (ports, seq/ack, flags, window, MSS option; options walked and validated), UDP and
 * ICMP/ICMPv6 (type and code, kept in `src_port`/`dst_port`). Each sets `s.app`/`s.applen` to the payload.
 */
import { DecodeError, Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';

export function decodeTcp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket): boolean {
  p.proto = Proto.TCP;
  if (s.end - o < 20 || s.l4len < 20) {
    if (s.end - o >= 4) {
      p.src_port = b.readUInt16BE(o);
      p.dst_port = b.readUInt16BE(o + 2);
    }
    p.decode_error = DecodeError.TRUNCATED_TCP;
    return false;
  }
  p.src_port = b.readUInt16BE(o);
  p.dst_port = b.readUInt16BE(o + 2);
  p.tcp_seq = b.readUInt32BE(o + 4);
  p.tcp_ack = b.readUInt32BE(o + 8);
  const doff = ((b[o + 12] ?? 0) >> 4) << 2;
  p.tcp_flags = b[o + 13] ?? 0;
  p.tcp_window = b.readUInt16BE(o + 14);
  if (doff < 20 || doff > s.l4len) {
    p.decode_error = DecodeError.BAD_TCP_HEADER_LENGTH;
    return false;
  }
  if (doff > s.end - o) {
    p.decode_error = DecodeError.TRUNCATED_TCP;
    return false;
  }
  if (doff > 20) {
    // Options: 0 end, 1 no-op, else kind/length with length ≥ 2; MSS is kind 2, length 4.
    let x = o + 20;
    const end = o + doff;
    while (x < end) {
      const kind = b[x] ?? 0;
      if (kind === 0) break;
      if (kind === 1) {
        x++;
        continue;
      }
      const len = x + 1 < end ? (b[x + 1] ?? 0) : 0;
      if (len < 2 || x + len > end) {
        p.decode_error = DecodeError.BAD_TCP_OPTION;
        break;
      }
      if (kind === 2 && len === 4) p.tcp_mss = b.readUInt16BE(x + 2);
      x += len;
    }
  }
  p.payload_len = s.l4len - doff;
  s.app = o + doff;
  s.applen = p.payload_len;
  return true;
}

export function decodeUdp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket): boolean {
  p.proto = Proto.UDP;
  if (s.end - o < 8 || s.l4len < 8) {
    if (s.end - o >= 4) {
      p.src_port = b.readUInt16BE(o);
      p.dst_port = b.readUInt16BE(o + 2);
    }
    p.decode_error = DecodeError.TRUNCATED_UDP;
    return false;
  }
  p.src_port = b.readUInt16BE(o);
  p.dst_port = b.readUInt16BE(o + 2);
  const ulen = b.readUInt16BE(o + 4);
  let payload = s.l4len - 8;
  if (ulen < 8 || (ulen > s.l4len && !p.ip_fragment)) {
    p.decode_error = DecodeError.BAD_UDP_LENGTH;
  } else if (ulen - 8 < payload) {
    payload = ulen - 8;
  }
  p.payload_len = payload;
  s.app = o + 8;
  s.applen = payload;
  return true;
}

export function decodeIcmp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket, proto: typeof Proto.ICMP | typeof Proto.ICMPV6): void {
  p.proto = proto;
  if (s.end - o < 4 || s.l4len < 4) {
    p.decode_error = DecodeError.TRUNCATED_ICMP;
    return;
  }
  p.src_port = b[o] ?? 0;
  p.dst_port = b[o + 1] ?? 0;
  p.payload_len = s.l4len > 8 ? s.l4len - 8 : 0;
}
