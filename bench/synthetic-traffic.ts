/**
 * Synthetic decoded traffic for the flows/features benchmarks, held as columns of numbers so that a run can replay
 * millions of packets through ONE reused `DecodedPacket` (as the decoder hands them over) without the generator's
 * cost or garbage in the measurement.
 *
 * `hospitalMix`: 400 devices on a MAC-keyed /16 talking to 40 servers — TCP sessions (handshake, 2–12 data
 * segments, FIN both ways), DNS over UDP with query names, HL7 messages, some ICMP echo and ARP.
 * `synFlood`: SYN packets from `sources` distinct spoofed source addresses (random external IPv4) to one server.
 */
import type { DecodedPacket } from '../src/records/packet.js';
import { AppProto, Proto, TcpFlag } from '../src/records/packet.js';

export interface TrafficColumns {
  length: number;
  ts: Float64Array;
  ethSrc: Float64Array;
  ethDst: Float64Array;
  ipSrc: Uint32Array;
  ipDst: Uint32Array;
  proto: Uint8Array;
  sport: Int32Array;
  dport: Int32Array;
  flags: Uint8Array;
  payload: Int32Array;
  app: Uint8Array;
  /** Index into `names` for DNS queries, -1 otherwise. */
  name: Int32Array;
  names: string[];
}

function columns(n: number): TrafficColumns {
  return {
    length: 0,
    ts: new Float64Array(n),
    ethSrc: new Float64Array(n),
    ethDst: new Float64Array(n),
    ipSrc: new Uint32Array(n),
    ipDst: new Uint32Array(n),
    proto: new Uint8Array(n),
    sport: new Int32Array(n),
    dport: new Int32Array(n),
    flags: new Uint8Array(n),
    payload: new Int32Array(n),
    app: new Uint8Array(n),
    name: new Int32Array(n).fill(-1),
    names: [],
  };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NET = 0x0a000000; // 10.0.0.0/16
const MAC_BASE = 0x00095b000000; // a universally administered prefix

export function hospitalMix(n: number, seed = 1): TrafficColumns {
  const c = columns(n);
  const r = rng(seed);
  const DEVICES = 400;
  const SERVERS = 40;
  for (let i = 0; i < 200; i++) c.names.push(`host${i}.ward${i % 7}.hospital.example`);
  let t = 1_700_000_000;
  let i = 0;
  const push = (src: number, dst: number, proto: number, sp: number, dp: number, flags: number, payload: number, app = 0, name = -1): void => {
    if (i >= n) return;
    t += r() * 0.0004;
    c.ts[i] = t;
    c.ethSrc[i] = MAC_BASE + src;
    c.ethDst[i] = MAC_BASE + dst;
    c.ipSrc[i] = NET + src;
    c.ipDst[i] = NET + dst;
    c.proto[i] = proto;
    c.sport[i] = sp;
    c.dport[i] = dp;
    c.flags[i] = flags;
    c.payload[i] = payload;
    c.app[i] = app;
    c.name[i] = name;
    i++;
  };
  while (i < n) {
    const dev = 1 + SERVERS + Math.floor(r() * DEVICES);
    const srv = 1 + Math.floor(r() * SERVERS);
    const kind = r();
    const sp = 1024 + Math.floor(r() * 60000);
    if (kind < 0.7) {
      const port = srv % 3 === 0 ? 2575 : srv % 3 === 1 ? 443 : 104;
      const app = port === 2575 ? AppProto.HL7 : 0;
      push(dev, srv, Proto.TCP, sp, port, TcpFlag.SYN, 0);
      push(srv, dev, Proto.TCP, port, sp, TcpFlag.SYN | TcpFlag.ACK, 0);
      push(dev, srv, Proto.TCP, sp, port, TcpFlag.ACK, 0);
      const segs = 2 + Math.floor(r() * 11);
      for (let k = 0; k < segs; k++) {
        push(dev, srv, Proto.TCP, sp, port, TcpFlag.PSH | TcpFlag.ACK, 200 + Math.floor(r() * 1200), app);
        push(srv, dev, Proto.TCP, port, sp, TcpFlag.ACK, 0);
      }
      push(dev, srv, Proto.TCP, sp, port, TcpFlag.FIN | TcpFlag.ACK, 0);
      push(srv, dev, Proto.TCP, port, sp, TcpFlag.FIN | TcpFlag.ACK, 0);
      push(dev, srv, Proto.TCP, sp, port, TcpFlag.ACK, 0);
    } else if (kind < 0.9) {
      const name = Math.floor(r() * c.names.length);
      push(dev, srv, Proto.UDP, sp, 53, 0, 40, AppProto.DNS, name);
      push(srv, dev, Proto.UDP, 53, sp, 0, 120, AppProto.DNS, -1);
    } else if (kind < 0.97) {
      push(dev, srv, Proto.ICMP, 8, 0, 0, 56);
      push(srv, dev, Proto.ICMP, 0, 0, 0, 56);
    } else {
      push(dev, srv, Proto.ARP, -1, -1, 0, 0);
    }
  }
  c.length = i;
  return c;
}

export function synFlood(n: number, seed = 7): TrafficColumns {
  const c = columns(n);
  const r = rng(seed);
  let t = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    t += 0.000001;
    c.ts[i] = t;
    c.ethSrc[i] = MAC_BASE + 0xfe; // the gateway
    c.ethDst[i] = MAC_BASE + 2;
    let ip = Math.floor(r() * 0xdfffffff) >>> 0;
    if (ip >>> 24 === 10) ip ^= 0x40000000; // keep sources external
    c.ipSrc[i] = ip;
    c.ipDst[i] = NET + 2;
    c.proto[i] = Proto.TCP;
    c.sport[i] = 1024 + Math.floor(r() * 60000);
    c.dport[i] = 80;
    c.flags[i] = TcpFlag.SYN;
  }
  c.length = n;
  return c;
}

/** Overwrites the reused packet with row `i`, as the decoder does for each frame. */
export function fillPacket(p: DecodedPacket, c: TrafficColumns, i: number): void {
  const ts = c.ts[i]!;
  const sec = Math.floor(ts);
  p.ts_sec = sec;
  p.ts_nsec = Math.floor((ts - sec) * 1e9);
  p.eth_src = c.ethSrc[i]!;
  p.eth_dst = c.ethDst[i]!;
  const proto = c.proto[i]! as DecodedPacket['proto'];
  p.proto = proto;
  const payload = c.payload[i]!;
  p.payload_len = payload;
  p.app = c.app[i]! as DecodedPacket['app'];
  p.app_meta = undefined;
  if (proto === Proto.ARP) {
    p.ip_version = 0;
    p.ethertype = 0x0806;
    p.arp_op = 1;
    p.arp_sha = p.eth_src;
    p.arp_spa = c.ipSrc[i]!;
    p.arp_tha = 0;
    p.arp_tpa = c.ipDst[i]!;
    p.src_port = p.dst_port = -1;
    p.tcp_flags = 0;
    p.orig_len = p.cap_len = 60;
    return;
  }
  p.ethertype = 0x0800;
  p.ip_version = 4;
  p.arp_op = -1;
  p.ip_src = c.ipSrc[i]!;
  p.ip_dst = c.ipDst[i]!;
  p.src_port = c.sport[i]!;
  p.dst_port = c.dport[i]!;
  p.tcp_flags = c.flags[i]!;
  const hdr = proto === Proto.TCP ? 40 : proto === Proto.UDP ? 28 : 28;
  p.ip_proto = proto === Proto.TCP ? 6 : proto === Proto.UDP ? 17 : 1;
  p.ip_len = hdr + payload;
  p.orig_len = p.cap_len = Math.max(60, 14 + p.ip_len);
  const name = c.name[i]!;
  if (name >= 0) p.app_meta = DNS_META[name % DNS_META.length];
  else if (p.app === AppProto.HL7) p.app_meta = HL7_META;
}

// Application metadata objects are made once (the decoder allocates them only for the packets that carry them).
const DNS_META = Array.from({ length: 200 }, (_, i) => ({ dns_qname: `host${i}.ward${i % 7}.hospital.example`, dns_qtype: 1, dns_response: false }));
const HL7_META = { hl7_msg_type: 'ORU^R01', hl7_sending_app: 'MONITOR' };
