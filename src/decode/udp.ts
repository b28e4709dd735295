/** UDP (RFC 768): ports and length (checked against the IP payload). Sets `s.app`/`s.applen` to the payload. */
import { u16 } from './bytes.js';
import { DecodeError, Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';

export function decodeUdp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket): boolean {
  p.proto = Proto.UDP;
  if (s.end - o < 8 || s.l4len < 8) {
    if (s.end - o >= 4) {
      p.src_port = u16(b, o);
      p.dst_port = u16(b, o + 2);
    }
    p.decode_error = DecodeError.TRUNCATED_UDP;
    return false;
  }
  p.src_port = u16(b, o);
  p.dst_port = u16(b, o + 2);
  const ulen = u16(b, o + 4);
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
