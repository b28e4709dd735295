/**
 * Link layers other than Ethernet: Linux cooked capture v1 (SLL, 16 bytes) and v2 (SLL2, 20 bytes), BSD loopback
 * (NULL: 4-byte address family in the capturing host's byte order; LOOP: network order), and raw IP.
 * Each returns the network-layer offset (or -1 when truncated) and sets `s.net`.
 */
import type { DecodedPacket } from '../records/packet.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethernet.js';
import type { DecodeState } from './state.js';
import { u8, u16, u32, mac48 } from './bytes.js';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

function sllProtocol(s: DecodeState, p: DecodedPacket, protocol: number): void {
  // Values below 0x0600 are not EtherTypes (802.3, 802.2 LLC, CAN, …): not decoded.
  if (protocol >= 0x0600) {
    p.ethertype = protocol;
    s.net = protocol;
  } else {
    s.net = -1;
  }
}

export function decodeSll(b: Buffer, off: number, s: DecodeState, p: DecodedPacket): number {
  if (s.end - off < 16) return -1;
  const hatype = u16(b, off + 2);
  const alen = u16(b, off + 4);
  if (alen === 6 && (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK)) p.eth_src = mac48(b, off + 6);
  sllProtocol(s, p, u16(b, off + 14));
  return off + 16;
}

export function decodeSll2(b: Buffer, off: number, s: DecodeState, p: DecodedPacket): number {
  if (s.end - off < 20) return -1;
  const hatype = u16(b, off + 8);
  const alen = u8(b, off + 11);
  if (alen === 6 && (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK)) p.eth_src = mac48(b, off + 12);
  sllProtocol(s, p, u16(b, off));
  return off + 20;
}

/** Address families: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
function familyToEthertype(af: number): number {
  if (af === 2) return ETHERTYPE_IPV4;
  if (af === 10 || af === 24 || af === 28 || af === 30) return ETHERTYPE_IPV6;
  return -1;
}

export function decodeNull(b: Buffer, off: number, s: DecodeState, networkOrder: boolean): number {
  if (s.end - off < 4) return -1;
  let af: number;
  if (networkOrder) af = u32(b, off);
  else {
    // Host order of the machine that wrote the file: a small number is valid in exactly one byte order.
    const le = b.readUInt32LE(off);
    af = le < 256 ? le : u32(b, off);
  }
  s.net = familyToEthertype(af);
  return off + 4;
}

/** Raw IP: the version nibble says IPv4 or IPv6. */
export function decodeRaw(b: Buffer, off: number, s: DecodeState): number {
  if (s.end - off < 1) return -1;
  const v = u8(b, off) >> 4;
  s.net = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : -1;
  return off;
}
