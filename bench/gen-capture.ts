/**
 * Deterministic benchmark input: a classic pcap of N packets (default 1,000,000) with a varied mix — Ethernet with
 * and without 802.1Q/QinQ tags, IPv4 and IPv6, TCP handshakes + data + teardown, UDP DNS query/response, other UDP,
 * ARP, ICMP echo, and some application payloads (TLS ClientHello, HL7, MQTT, DHCP). Written to .cache/bench/
 * (git-ignored); regenerated only when missing or when the packet count differs.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pcapFileHeader } from '../src/capture/pcap-file/writer.js';
import { LinkType, TcpFlag } from '../src/records/packet.js';
import * as B from '../test/support/packet-builder.js';

/** LCG (Numerical Recipes constants): deterministic across runs and machines. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(r() * xs.length)];
  if (x === undefined) throw new Error('empty pick');
  return x;
}

/** Returns the frames of one "conversation" (1 to ~10 frames). */
function conversation(r: () => number, n: number): Buffer[] {
  const hostA = 0x020000000000 + (n % 5000);
  const hostB = 0x02ff00000000 + ((n * 7) % 300);
  const a4 = `10.${(n >> 8) & 255}.${n & 255}.${1 + (n % 200)}`;
  const b4 = `172.16.${(n * 3) & 255}.${1 + ((n * 11) % 250)}`;
  const a6: [number, number, number, number] = [0x20010db8, n >>> 0, 0, 1 + (n % 65000)];
  const b6: [number, number, number, number] = [0x20010db8, 0xffff, 0, 2 + (n % 65000)];
  const vlans = r() < 0.2 ? [10 + (n % 100)] : r() < 0.05 ? [100, 200 + (n % 50)] : [];
  const sport = 1024 + Math.floor(r() * 60000);
  const kind = r();
  const e4 = (proto: number, payload: Buffer, fwd = true): Buffer =>
    B.eth(fwd ? hostB : hostA, fwd ? hostA : hostB, 0x0800, B.ipv4({ src: fwd ? a4 : b4, dst: fwd ? b4 : a4, proto, payload, ttl: fwd ? 64 : 57 }), vlans);
  const e6 = (proto: number, payload: Buffer, fwd = true): Buffer => B.eth(fwd ? hostB : hostA, fwd ? hostA : hostB, 0x86dd, B.ipv6(fwd ? a6 : b6, fwd ? b6 : a6, proto, payload), vlans);
  if (kind < 0.45) {
    // TCP session over IPv4 (80%) or IPv6 (20%): handshake, data both ways, teardown.
    const v6 = r() < 0.2;
    const dport = pick(r, [443, 2575, 104, 1883, 80, 22, 8080]);
    const mk = (t: B.TcpOptions, fwd: boolean): Buffer => (v6 ? e6(6, B.tcp(t), fwd) : e4(6, B.tcp(t), fwd));
    const app =
      dport === 443 ? B.tlsClientHello(`host${n % 97}.example.org`) : dport === 2575 ? B.hl7Mllp('MON', 'ORU^R01') : dport === 1883 ? B.mqttPublish(`ward/${n % 9}/bed`, Buffer.alloc(20, 1)) : Buffer.alloc(200 + Math.floor(r() * 1000), 0x61);
    return [
      mk({ sport, dport, flags: TcpFlag.SYN, seq: n, mss: 1460 }, true),
      mk({ sport: dport, dport: sport, flags: TcpFlag.SYN | TcpFlag.ACK, seq: n * 3, ack: n + 1, mss: 1400 }, false),
      mk({ sport, dport, flags: TcpFlag.ACK, seq: n + 1, ack: n * 3 + 1 }, true),
      mk({ sport, dport, flags: TcpFlag.ACK | TcpFlag.PSH, seq: n + 1, ack: n * 3 + 1, payload: app }, true),
      mk({ sport: dport, dport: sport, flags: TcpFlag.ACK | TcpFlag.PSH, seq: n * 3 + 1, ack: n + 1 + app.length, payload: Buffer.alloc(100 + (n % 900), 0x62) }, false),
      mk({ sport, dport, flags: TcpFlag.ACK, seq: n + 1 + app.length, ack: n * 3 + 1000 }, true),
      mk({ sport, dport, flags: TcpFlag.FIN | TcpFlag.ACK, seq: n + 1 + app.length, ack: n * 3 + 1000 }, true),
      mk({ sport: dport, dport: sport, flags: TcpFlag.FIN | TcpFlag.ACK, seq: n * 3 + 1000, ack: n + 2 + app.length }, false),
      mk({ sport, dport, flags: TcpFlag.ACK, seq: n + 2 + app.length, ack: n * 3 + 1001 }, true),
    ];
  }
  if (kind < 0.7) {
    const name = `${pick(r, ['pacs', 'emr', 'lis', 'ntp', 'update'])}${n % 50}.hospital.example`;
    return [e4(17, B.udp(sport, 53, B.dns({ id: n & 0xffff, name, qtype: pick(r, [1, 28, 33]) }))), e4(17, B.udp(53, sport, B.dns({ id: n & 0xffff, name, qtype: 1, response: true, answers: 1 + (n % 3) })), false)];
  }
  if (kind < 0.8) return [e4(17, B.udp(sport, pick(r, [514, 123, 161, 5000]), Buffer.alloc(40 + (n % 300), 0x63)))];
  if (kind < 0.87) return [B.eth(0xffffffffffff, hostA, 0x0806, B.arp(1, hostA, a4, 0, b4), vlans), B.eth(hostA, hostB, 0x0806, B.arp(2, hostB, b4, hostA, a4), vlans)];
  if (kind < 0.95) return [e4(1, B.icmp(8, 0, Buffer.alloc(56, 0x64))), e4(1, B.icmp(0, 0, Buffer.alloc(56, 0x64)), false)];
  if (kind < 0.98) return [e6(17, B.udp(sport, 5353, B.dns({ name: `dev${n % 20}.local`, qtype: 12 })))];
  return [e4(17, B.udp(68, 67, B.dhcp({ msgType: 1, hostname: `pump-${n % 40}`, vendor: 'ACME Infusion 3' })))];
}

export function benchCapturePath(repoRoot: string, packets: number): string {
  return path.join(repoRoot, '.cache', 'bench', `mix-${packets}.pcap`);
}

/** Writes the capture if it is not already there with the right packet count; returns its path. */
export function ensureBenchCapture(repoRoot: string, packets: number): string {
  const file = benchCapturePath(repoRoot, packets);
  const stamp = `${file}.done`;
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === String(packets)) return file;
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    const header = { linktype: LinkType.ETHERNET, snaplen: 65535 };
    writeSync(fd, pcapFileHeader(header));
    const r = lcg(0x5eed);
    const chunk: Buffer[] = [];
    let chunkBytes = 0;
    let written = 0;
    let conv = 0;
    let tsUs = 1_700_000_000 * 1e6;
    while (written < packets) {
      for (const data of conversation(r, conv++)) {
        if (written >= packets) break;
        tsUs += 1 + Math.floor(r() * 200);
        const rec = Buffer.allocUnsafe(16 + data.length);
        rec.writeUInt32LE(Math.floor(tsUs / 1e6), 0);
        rec.writeUInt32LE(tsUs % 1e6, 4);
        rec.writeUInt32LE(data.length, 8);
        rec.writeUInt32LE(data.length, 12);
        data.copy(rec, 16);
        chunk.push(rec);
        chunkBytes += rec.length;
        written++;
      }
      if (chunkBytes > 4 << 20) {
        writeSync(fd, Buffer.concat(chunk));
        chunk.length = 0;
        chunkBytes = 0;
      }
    }
    if (chunk.length > 0) writeSync(fd, Buffer.concat(chunk));
  } finally {
    closeSync(fd);
  }
  writeFileSync(stamp, String(packets));
  return file;
}
