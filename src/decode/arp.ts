/** ARP (RFC 826). Addresses are filled for Ethernet/IPv4 ARP only; other hardware/protocol pairs keep the opcode. */
import { DecodeError, Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';
import { u8, u16, u32, mac48 } from './bytes.js';

export function decodeArp(b: Buffer, off: number, s: DecodeState, p: DecodedPacket): void {
  p.proto = Proto.ARP;
  if (s.end - off < 8) {
    p.decode_error = DecodeError.TRUNCATED_ARP;
    return;
  }
  const htype = u16(b, off);
  const ptype = u16(b, off + 2);
  const hlen = u8(b, off + 4);
  const plen = u8(b, off + 5);
  p.arp_op = u16(b, off + 6);
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) return;
  if (s.end - off < 28) {
    p.decode_error = DecodeError.TRUNCATED_ARP;
    return;
  }
  p.arp_sha = mac48(b, off + 8);
  p.arp_spa = u32(b, off + 14);
  p.arp_tha = mac48(b, off + 18);
  p.arp_tpa = u32(b, off + 24);
}
