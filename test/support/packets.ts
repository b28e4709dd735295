/**
 * Crafted `DecodedPacket`s for unit tests of the flows and features stages: what the decoder would produce for a
 * given frame, written out by hand. Each call returns a fresh object.
 */
import type { AppMeta, DecodedPacket } from '../../src/records/packet.js';
import { AppProto, Proto, TcpFlag, newDecodedPacket, parseMac } from '../../src/records/packet.js';
import { parseIpv4 } from '../../src/flows/address.js';

export const F = TcpFlag;
export const SYN = TcpFlag.SYN;
export const SYNACK = TcpFlag.SYN | TcpFlag.ACK;
export const ACK = TcpFlag.ACK;
export const PSHACK = TcpFlag.PSH | TcpFlag.ACK;
export const FINACK = TcpFlag.FIN | TcpFlag.ACK;
export const RST = TcpFlag.RST;
export const RSTACK = TcpFlag.RST | TcpFlag.ACK;

export interface Endpoint {
  mac?: string;
  ip: string;
  port?: number;
}

export function mac(text: string): number {
  const m = parseMac(text);
  if (m < 0) throw new Error(`bad MAC ${text}`);
  return m;
}

export function ip4(text: string): number {
  const v = parseIpv4(text);
  if (v < 0) throw new Error(`bad IPv4 ${text}`);
  return v;
}

function base(ts: number, src: Endpoint, dst: Endpoint): DecodedPacket {
  const p = newDecodedPacket();
  p.ts_sec = Math.floor(ts);
  p.ts_nsec = Math.round((ts - Math.floor(ts)) * 1e9);
  p.linktype = 1;
  p.eth_src = src.mac !== undefined ? mac(src.mac) : -1;
  p.eth_dst = dst.mac !== undefined ? mac(dst.mac) : -1;
  p.ethertype = 0x0800;
  p.ip_version = 4;
  p.ip_src = ip4(src.ip);
  p.ip_dst = ip4(dst.ip);
  p.ip_ttl = 64;
  return p;
}

/** A TCP segment with `payload` bytes of data (IP length 40 + payload; frame 14 + IP, min 60). */
export function tcp(ts: number, src: Endpoint, dst: Endpoint, flags: number, payload = 0): DecodedPacket {
  const p = base(ts, src, dst);
  p.ip_proto = 6;
  p.proto = Proto.TCP;
  p.src_port = src.port ?? 0;
  p.dst_port = dst.port ?? 0;
  p.tcp_flags = flags;
  p.payload_len = payload;
  p.ip_len = 40 + payload;
  p.cap_len = p.orig_len = Math.max(60, 14 + p.ip_len);
  return p;
}

export function udp(ts: number, src: Endpoint, dst: Endpoint, payload: number, app = 0, meta?: AppMeta): DecodedPacket {
  const p = base(ts, src, dst);
  p.ip_proto = 17;
  p.proto = Proto.UDP;
  p.src_port = src.port ?? 0;
  p.dst_port = dst.port ?? 0;
  p.payload_len = payload;
  p.ip_len = 28 + payload;
  p.cap_len = p.orig_len = Math.max(60, 14 + p.ip_len);
  p.app = app as DecodedPacket['app'];
  p.app_meta = meta;
  return p;
}

/** A DNS query for `name` (UDP to port 53, payload 17 + name length + 2). */
export function dnsQuery(ts: number, src: Endpoint, dst: Endpoint, name: string): DecodedPacket {
  return udp(ts, src, { ...dst, port: 53 }, 17 + name.length + 2, AppProto.DNS, {
    dns_qname: name,
    dns_qtype: 1,
    dns_response: false,
  });
}

/** ICMP echo request (type 8) or reply (type 0) with 56 bytes of data. */
export function icmpEcho(ts: number, src: Endpoint, dst: Endpoint, reply: boolean): DecodedPacket {
  const p = base(ts, src, dst);
  p.ip_proto = 1;
  p.proto = Proto.ICMP;
  p.src_port = reply ? 0 : 8;
  p.dst_port = 0;
  p.payload_len = 56;
  p.ip_len = 84;
  p.cap_len = p.orig_len = 98;
  return p;
}

/** ARP request (op 1, broadcast) or reply (op 2, unicast to `target.mac`). Frame 42 bytes. */
export function arp(ts: number, op: 1 | 2, sender: Endpoint, target: Endpoint): DecodedPacket {
  const p = newDecodedPacket();
  p.ts_sec = Math.floor(ts);
  p.ts_nsec = Math.round((ts - Math.floor(ts)) * 1e9);
  p.linktype = 1;
  p.eth_src = mac(sender.mac ?? '00:00:00:00:00:00');
  p.eth_dst = op === 1 ? mac('ff:ff:ff:ff:ff:ff') : mac(target.mac ?? '00:00:00:00:00:00');
  p.ethertype = 0x0806;
  p.proto = Proto.ARP;
  p.arp_op = op;
  p.arp_sha = p.eth_src;
  p.arp_spa = ip4(sender.ip);
  p.arp_tha = op === 1 ? 0 : p.eth_dst;
  p.arp_tpa = ip4(target.ip);
  p.cap_len = p.orig_len = 42;
  return p;
}

/** Sets a TCP segment's sequence and acknowledgement numbers (the crafted segments above carry 0). */
export function seqAck(p: DecodedPacket, seq: number, ack: number): DecodedPacket {
  p.tcp_seq = seq >>> 0;
  p.tcp_ack = ack >>> 0;
  return p;
}

/**
 * A TCP three-way handshake with consistent numbers (client ISN 1000, server ISN 5000): SYN, SYN-ACK, ACK, 0.1 ms
 * apart from `ts`. The ACK completes it, which the device inventory takes as evidence of two real hosts.
 */
export function handshake(ts: number, client: Endpoint, server: Endpoint): DecodedPacket[] {
  return [seqAck(tcp(ts, client, server, SYN), 1000, 0), seqAck(tcp(ts + 0.0001, server, client, SYNACK), 5000, 1001), seqAck(tcp(ts + 0.0002, client, server, ACK), 1001, 5001)];
}
