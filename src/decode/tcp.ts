/**
 * TCP (RFC 9293): ports, sequence and acknowledgement numbers, flags, window, and the options walked (and validated:
 * a zero or overflowing option length is `BAD_TCP_OPTION`) for MSS. Sets `s.app`/`s.applen` to the payload.
 */
import { u16, u32, u8 } from './bytes.js';
import { DecodeError, Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';

export function decodeTcp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket): boolean {
  p.proto = Proto.TCP;
  if (s.end - o < 20 || s.l4len < 20) {
    if (s.end - o >= 4) {
      p.src_port = u16(b, o);
      p.dst_port = u16(b, o + 2);
    }
    p.decode_error = DecodeError.TRUNCATED_TCP;
    return false;
  }
  p.src_port = u16(b, o);
  p.dst_port = u16(b, o + 2);
  p.tcp_seq = u32(b, o + 4);
  p.tcp_ack = u32(b, o + 8);
  const doff = (u8(b, o + 12) >> 4) << 2;
  p.tcp_flags = u8(b, o + 13);
  p.tcp_window = u16(b, o + 14);
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
      const kind = u8(b, x);
      if (kind === 0) break;
      if (kind === 1) {
        x++;
        continue;
      }
      const len = x + 1 < end ? u8(b, x + 1) : 0;
      if (len < 2 || x + len > end) {
        p.decode_error = DecodeError.BAD_TCP_OPTION;
        break;
      }
      if (kind === 2 && len === 4) p.tcp_mss = u16(b, x + 2);
      x += len;
    }
  }
  p.payload_len = s.l4len - doff;
  s.app = o + doff;
  s.applen = p.payload_len;
  return true;
}
