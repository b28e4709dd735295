/** ARP (RFC 826). Addresses are filled for Ethernet/IPv4 ARP only; other hardware/protocol pairs keep the opcode. */
import { DecodeError, Proto, type DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';

export function decodeArp(b: Buffer, off: number, s: DecodeState, p: DecodedPacket): void {
  p.proto = Proto.ARP;
  if (s.end - off < 8) {
    p.decode_error = DecodeError.TRUNCATED_ARP;
    return;
  }
  const htype = b.readUInt16BE(off);
  const ptype = b.readUInt16BE(off + 2);
  const hlen = b[off + 4] ?? 0;
  const plen = b[off + 5] ?? 0;
  p.arp_op = b.readUInt16BE(off + 6);
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) return;
  if (s.end - off < 28) {
    p.decode_error = DecodeError.TRUNCATED_ARP;
    return;
  }
  p.arp_sha = b.readUIntBE(off + 8, 6);
  p.arp_spa = b.readUInt32BE(off + 14);
  p.arp_tha = b.readUIntBE(off + 18, 6);
  p.arp_tpa = b.readUInt32BE(off + 24);
}
