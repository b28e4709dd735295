/**
 * Writes the synthetic hospital traffic (`hospitalMix`) as a classic pcap (µs, Ethernet) for the end-to-end
 * benchmark: real frames that the capture reader and decoder must parse (Ethernet/IPv4/TCP/UDP/ICMP/ARP, DNS
 * queries and answers, HL7 v2 over MLLP). Checksums are left 0 (neither our decoder nor tshark/tcpdump verify them
 * by default). Payloads are synthetic filler: no patient data.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppProto, Proto } from '../src/records/packet.js';
import type { TrafficColumns } from './synthetic-traffic.js';

const HL7_HEAD = Buffer.from('\x0bMSH|^~\\&|MONITOR|WARD7|HIS|HOSP|20260101120000||ORU^R01|MSG0001|P|2.5\rOBX|1|NM|HR||72|bpm\r', 'latin1');

function dnsPayload(name: string, response: boolean): Buffer {
  const labels = name.split('.');
  const qlen = labels.reduce((a, l) => a + 1 + l.length, 1);
  const b = Buffer.alloc(12 + qlen + 4);
  b.writeUInt16BE(0x1234, 0);
  b.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    b[o++] = l.length;
    b.write(l, o, 'latin1');
    o += l.length;
  }
  b[o++] = 0;
  b.writeUInt16BE(1, o);
  b.writeUInt16BE(1, o + 2);
  return b;
}

export function writePcap(path: string, c: TrafficColumns): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const chunk = Buffer.alloc(4 << 20);
  let used = 0;
  const dnsCache = new Map<string, Buffer>();
  for (let i = 0; i < c.length; i++) {
    if (used > chunk.length - 2000) {
      writeSync(fd, chunk, 0, used);
      used = 0;
    }
    const proto = c.proto[i]!;
    const rec = used;
    const f = rec + 16; // frame start
    // Ethernet
    writeMac(chunk, f, c.ethDst[i]!);
    writeMac(chunk, f + 6, c.ethSrc[i]!);
    let len: number;
    if (proto === Proto.ARP) {
      chunk.writeUInt16BE(0x0806, f + 12);
      const a = f + 14;
      chunk.writeUInt16BE(1, a);
      chunk.writeUInt16BE(0x0800, a + 2);
      chunk[a + 4] = 6;
      chunk[a + 5] = 4;
      chunk.writeUInt16BE(1, a + 6);
      writeMac(chunk, a + 8, c.ethSrc[i]!);
      chunk.writeUInt32BE(c.ipSrc[i]!, a + 14);
      writeMac(chunk, a + 18, 0);
      chunk.writeUInt32BE(c.ipDst[i]!, a + 24);
      len = 14 + 28;
    } else {
      chunk.writeUInt16BE(0x0800, f + 12);
      const ip = f + 14;
      const l4 = ip + 20;
      let l4len: number;
      let ipProto: number;
      if (proto === Proto.TCP) {
        ipProto = 6;
        chunk.writeUInt16BE(c.sport[i]!, l4);
        chunk.writeUInt16BE(c.dport[i]!, l4 + 2);
        chunk.writeUInt32BE((i * 7919) >>> 0, l4 + 4);
        chunk.writeUInt32BE((i * 104729) >>> 0, l4 + 8);
        chunk[l4 + 12] = 0x50;
        chunk[l4 + 13] = c.flags[i]!;
        chunk.writeUInt16BE(65535, l4 + 14);
        chunk.writeUInt32BE(0, l4 + 16);
        const n = c.payload[i]!;
        if (n > 0) {
          const p = l4 + 20;
          if (c.app[i] === AppProto.HL7) {
            HL7_HEAD.copy(chunk, p);
            chunk.fill(0x58, p + HL7_HEAD.length, p + n - 2);
            chunk[p + n - 2] = 0x1c;
            chunk[p + n - 1] = 0x0d;
          } else {
            chunk.fill(0x17, p, p + n);
          }
        }
        l4len = 20 + n;
      } else if (proto === Proto.UDP) {
        ipProto = 17;
        let payload: Buffer | undefined;
        if (c.app[i] === AppProto.DNS) {
          const qi = c.name[i]!;
          const name = `host${qi >= 0 ? qi : i % 200}.ward${(qi >= 0 ? qi : i % 200) % 7}.hospital.example`;
          const key = `${name}|${qi < 0}`;
          payload = dnsCache.get(key);
          if (payload === undefined) {
            payload = dnsPayload(name, qi < 0);
            dnsCache.set(key, payload);
          }
        }
        const n = payload?.length ?? c.payload[i]!;
        chunk.writeUInt16BE(c.sport[i]!, l4);
        chunk.writeUInt16BE(c.dport[i]!, l4 + 2);
        chunk.writeUInt16BE(8 + n, l4 + 4);
        chunk.writeUInt16BE(0, l4 + 6);
        if (payload !== undefined) payload.copy(chunk, l4 + 8);
        else chunk.fill(0x33, l4 + 8, l4 + 8 + n);
        l4len = 8 + n;
      } else {
        ipProto = 1;
        chunk[l4] = c.sport[i]!;
        chunk[l4 + 1] = 0;
        chunk.writeUInt16BE(0, l4 + 2);
        chunk.writeUInt32BE(i & 0xffff, l4 + 4);
        chunk.fill(0x61, l4 + 8, l4 + 8 + 56);
        l4len = 8 + 56;
      }
      chunk[ip] = 0x45;
      chunk[ip + 1] = 0;
      chunk.writeUInt16BE(20 + l4len, ip + 2);
      chunk.writeUInt16BE(i & 0xffff, ip + 4);
      chunk.writeUInt16BE(0x4000, ip + 6);
      chunk[ip + 8] = 64;
      chunk[ip + 9] = ipProto;
      chunk.writeUInt16BE(0, ip + 10);
      chunk.writeUInt32BE(c.ipSrc[i]!, ip + 12);
      chunk.writeUInt32BE(c.ipDst[i]!, ip + 16);
      len = 14 + 20 + l4len;
    }
    if (len < 60) {
      chunk.fill(0, f + len, f + 60);
      len = 60;
    }
    const ts = c.ts[i]!;
    const sec = Math.floor(ts);
    chunk.writeUInt32LE(sec, rec);
    chunk.writeUInt32LE(Math.floor((ts - sec) * 1e6), rec + 4);
    chunk.writeUInt32LE(len, rec + 8);
    chunk.writeUInt32LE(len, rec + 12);
    used = f + len;
  }
  writeSync(fd, chunk, 0, used);
  closeSync(fd);
}

function writeMac(b: Buffer, o: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  b.writeUInt16BE(hi & 0xffff, o);
  b.writeUInt32BE(mac >>> 0, o + 2);
}
