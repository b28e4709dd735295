/**
 * Decoded packets in a batch, for the hand-off from the capture thread of a threaded sensor to its analysis worker
 * (src/pipeline/threaded.ts): each packet is `PACKET_SLOTS` float64 slots of a `Float64Array` (every field of
 * `DecodedPacket` is a number that a float64 holds exactly: 48-bit MACs, unsigned 32-bit words), and the rare
 * application metadata travels beside the batch as `[index, AppMeta]` pairs. The batch's buffer is transferred, not
 * copied, and comes back with the worker's answer to be filled again.
 *
 * `writePacket` then `readPacket` gives back a packet equal field by field (test/unit/pipeline-threaded.test.ts).
 */
import type { AppMeta, AppProtoCode, DecodeErrorCode, DecodedPacket, ProtoCode } from '../records/packet.js';

/** Float64 slots per packet. */
export const PACKET_SLOTS = 42;

/** Writes `p` (all but `app_meta`) at packet `i` of `b`. */
export function writePacket(b: Float64Array, i: number, p: DecodedPacket): void {
  const o = i * PACKET_SLOTS;
  b[o] = p.ts_sec;
  b[o + 1] = p.ts_nsec;
  b[o + 2] = p.interface_id;
  b[o + 3] = p.linktype;
  b[o + 4] = p.cap_len;
  b[o + 5] = p.orig_len;
  b[o + 6] = p.eth_src;
  b[o + 7] = p.eth_dst;
  b[o + 8] = p.vlan_outer;
  b[o + 9] = p.vlan_inner;
  b[o + 10] = p.ethertype;
  b[o + 11] = p.ip_version;
  b[o + 12] = p.ip_src;
  b[o + 13] = p.ip_dst;
  const s6 = p.ip6_src;
  const d6 = p.ip6_dst;
  b[o + 14] = s6[0]!;
  b[o + 15] = s6[1]!;
  b[o + 16] = s6[2]!;
  b[o + 17] = s6[3]!;
  b[o + 18] = d6[0]!;
  b[o + 19] = d6[1]!;
  b[o + 20] = d6[2]!;
  b[o + 21] = d6[3]!;
  b[o + 22] = p.ip_proto;
  b[o + 23] = p.ip_ttl;
  b[o + 24] = p.ip_len;
  b[o + 25] = p.ip_fragment ? 1 : 0;
  b[o + 26] = p.proto;
  b[o + 27] = p.src_port;
  b[o + 28] = p.dst_port;
  b[o + 29] = p.tcp_flags;
  b[o + 30] = p.tcp_seq;
  b[o + 31] = p.tcp_ack;
  b[o + 32] = p.tcp_window;
  b[o + 33] = p.tcp_mss;
  b[o + 34] = p.payload_len;
  b[o + 35] = p.arp_op;
  b[o + 36] = p.arp_sha;
  b[o + 37] = p.arp_spa;
  b[o + 38] = p.arp_tha;
  b[o + 39] = p.arp_tpa;
  b[o + 40] = p.app;
  b[o + 41] = p.decode_error;
}

/** Reads packet `i` of `b` into `p` (a reused packet); `meta` is its application metadata (from the side list). */
export function readPacket(b: Float64Array, i: number, p: DecodedPacket, meta: AppMeta | undefined): void {
  const o = i * PACKET_SLOTS;
  p.ts_sec = b[o]!;
  p.ts_nsec = b[o + 1]!;
  p.interface_id = b[o + 2]!;
  p.linktype = b[o + 3]!;
  p.cap_len = b[o + 4]!;
  p.orig_len = b[o + 5]!;
  p.eth_src = b[o + 6]!;
  p.eth_dst = b[o + 7]!;
  p.vlan_outer = b[o + 8]!;
  p.vlan_inner = b[o + 9]!;
  p.ethertype = b[o + 10]!;
  p.ip_version = b[o + 11]!;
  p.ip_src = b[o + 12]!;
  p.ip_dst = b[o + 13]!;
  const s6 = p.ip6_src;
  const d6 = p.ip6_dst;
  s6[0] = b[o + 14]!;
  s6[1] = b[o + 15]!;
  s6[2] = b[o + 16]!;
  s6[3] = b[o + 17]!;
  d6[0] = b[o + 18]!;
  d6[1] = b[o + 19]!;
  d6[2] = b[o + 20]!;
  d6[3] = b[o + 21]!;
  p.ip_proto = b[o + 22]!;
  p.ip_ttl = b[o + 23]!;
  p.ip_len = b[o + 24]!;
  p.ip_fragment = b[o + 25] === 1;
  p.proto = b[o + 26]! as ProtoCode;
  p.src_port = b[o + 27]!;
  p.dst_port = b[o + 28]!;
  p.tcp_flags = b[o + 29]!;
  p.tcp_seq = b[o + 30]!;
  p.tcp_ack = b[o + 31]!;
  p.tcp_window = b[o + 32]!;
  p.tcp_mss = b[o + 33]!;
  p.payload_len = b[o + 34]!;
  p.arp_op = b[o + 35]!;
  p.arp_sha = b[o + 36]!;
  p.arp_spa = b[o + 37]!;
  p.arp_tha = b[o + 38]!;
  p.arp_tpa = b[o + 39]!;
  p.app = b[o + 40]! as AppProtoCode;
  p.decode_error = b[o + 41]! as DecodeErrorCode;
  p.app_meta = meta;
}
