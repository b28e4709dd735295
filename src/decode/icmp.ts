/** ICMP and ICMPv6: type and code, kept in `src_port`/`dst_port` (as flow tables key them). */
import { u8 } from './bytes.js';
import { DecodeError, type Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';

export function decodeIcmp(b: Buffer, o: number, s: DecodeState, p: DecodedPacket, proto: typeof Proto.ICMP | typeof Proto.ICMPV6): void {
  p.proto = proto;
  if (s.end - o < 4 || s.l4len < 4) {
    p.decode_error = DecodeError.TRUNCATED_ICMP;
    return;
  }
  p.src_port = u8(b, o);
  p.dst_port = u8(b, o + 1);
  p.payload_len = s.l4len > 8 ? s.l4len - 8 : 0;
}
