/**
 * Ethernet II with any number (≤ 8) of 802.1Q / 802.1ad (QinQ) tags, and PPPoE session frames carrying IPv4/IPv6.
 * Fills MACs, VLAN IDs and `ethertype` (the one after the VLAN tags); leaves the network EtherType in `s.net`.
 */
import type { DecodedPacket } from '../records/packet.js';
import type { DecodeState } from './state.js';
import { u16, mac48 } from './bytes.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const MAX_VLAN_TAGS = 8;

/** Returns the network-layer offset, or -1 when the frame is too short for its link headers. */
export function decodeEthernet(b: Buffer, off: number, s: DecodeState, p: DecodedPacket): number {
  const end = s.end;
  if (end - off < 14) return -1;
  p.eth_dst = mac48(b, off);
  p.eth_src = mac48(b, off + 6);
  let et = u16(b, off + 12);
  off += 14;
  let tags = 0;
  while (et === ETHERTYPE_VLAN || et === ETHERTYPE_QINQ || et === ETHERTYPE_QINQ_OLD) {
    if (end - off < 4 || ++tags > MAX_VLAN_TAGS) return -1;
    const vid = u16(b, off) & 0x0fff;
    if (p.vlan_outer < 0) p.vlan_outer = vid;
    else if (p.vlan_inner < 0) p.vlan_inner = vid;
    et = u16(b, off + 2);
    off += 4;
  }
  if (et < 0x0600) {
    // IEEE 802.3 length field (LLC/SNAP follows): not decoded.
    p.ethertype = -1;
    s.net = -1;
    return off;
  }
  p.ethertype = et;
  if (et === ETHERTYPE_PPPOE_SESSION) return decodePppoe(b, off, s);
  s.net = et;
  return off;
}

/** PPPoE session header (6 bytes) + PPP protocol (2 bytes): IPv4 0x0021, IPv6 0x0057. */
function decodePppoe(b: Buffer, off: number, s: DecodeState): number {
  if (s.end - off < 8) return -1;
  const ppp = u16(b, off + 6);
  s.net = ppp === 0x0021 ? ETHERTYPE_IPV4 : ppp === 0x0057 ? ETHERTYPE_IPV6 : -1;
  return off + 8;
}
