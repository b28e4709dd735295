/**
 * Crafted packets for decoder tests and the benchmark input generator: byte-exact headers written by hand from the
 * RFCs, independent of the decoder under test. Checksums are left 0 (the decoder does not verify them).
 */
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function mac(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

export function ipv4Addr(text: string): number {
  return text.split('.').reduce((a, x) => a * 256 + Number(x), 0);
}

export function eth(dst: number, src: number, type: number, payload: Buffer, vlans: number[] = [], tpid = 0x8100): Buffer {
  // Each tag is TPID + TCI: [TPID0][TCI0][TPID1][TCI1]…[type]; the outer TPID is `tpid` when stacked (QinQ).
  const tags = vlans.map((v, i) => Buffer.concat([u16(i === 0 && vlans.length > 1 ? tpid : 0x8100), u16(v)]));
  const parts: Buffer[] = [mac(dst), mac(src)];
  for (const t of tags) parts.push(t);
  parts.push(u16(type), payload);
  return Buffer.concat(parts);
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  ttl?: number;
  options?: Buffer;
  /** Flags+fragment offset field (e.g. 0x2000 = MF). */
  frag?: number;
  /** Override total length / IHL for malformed-input tests. */
  totalLength?: number;
  ihlWords?: number;
  id?: number;
}

export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  const ihl = o.ihlWords ?? (20 + opts.length) / 4;
  h[0] = 0x40 | (ihl & 0x0f);
  h.writeUInt16BE(o.totalLength ?? 20 + opts.length + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.writeUInt32BE(ipv4Addr(o.src), 12);
  h.writeUInt32BE(ipv4Addr(o.dst), 16);
  opts.copy(h, 20);
  return Buffer.concat([h, o.payload]);
}

export function ipv6Addr(words: [number, number, number, number]): Buffer {
  return Buffer.concat(words.map((w) => u32(w)));
}

/** IPv6 with a ready-made extension-header chain `ext` (its first next-header value is `next`). */
export function ipv6(src: [number, number, number, number], dst: [number, number, number, number], next: number, payload: Buffer, hopLimit = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = hopLimit;
  ipv6Addr(src).copy(h, 8);
  ipv6Addr(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** An 8-byte IPv6 extension header (Hop-by-Hop / Destination Options with PadN) pointing at `next`. */
export function ipv6Ext8(next: number): Buffer {
  return Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]);
}

export function ipv6Fragment(next: number, offset8: number, more: boolean): Buffer {
  const b = Buffer.alloc(8);
  b[0] = next;
  b.writeUInt16BE((offset8 << 3) | (more ? 1 : 0), 2);
  b.writeUInt32BE(0x1234, 4);
  return b;
}

export interface TcpOptions {
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  mss?: number;
  options?: Buffer;
  payload?: Buffer;
  dataOffsetWords?: number;
}

export function tcp(o: TcpOptions): Buffer {
  let opts = o.options ?? Buffer.alloc(0);
  if (o.mss !== undefined) opts = Buffer.concat([Buffer.from([2, 4]), u16(o.mss), opts]);
  while (opts.length % 4 !== 0) opts = Buffer.concat([opts, Buffer.from([0])]);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 1000) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (o.dataOffsetWords ?? h.length / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function udp(sport: number, dport: number, payload: Buffer, lengthOverride?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(lengthOverride ?? 8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function icmp(type: number, code: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([type, code, 0, 0, 0, 1, 0, 1]), payload]);
}

export function arp(op: number, sha: number, spa: string, tha: number, tpa: string): Buffer {
  return Buffer.concat([u16(1), u16(0x0800), Buffer.from([6, 4]), u16(op), mac(sha), u32(ipv4Addr(spa)), mac(tha), u32(ipv4Addr(tpa))]);
}

export function dnsName(name: string): Buffer {
  if (name === '') return Buffer.from([0]);
  return Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

export function dns(o: { id?: number; name: string; qtype: number; response?: boolean; rcode?: number; answers?: number }): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0x1234, 0);
  h.writeUInt16BE((o.response === true ? 0x8180 : 0x0100) | (o.rcode ?? 0), 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(o.answers ?? 0, 6);
  const answers: Buffer[] = [];
  for (let i = 0; i < (o.answers ?? 0); i++) answers.push(Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, i & 255]));
  return Buffer.concat([h, dnsName(o.name), u16(o.qtype), u16(1), ...answers]);
}

export function dhcp(o: { op?: number; msgType: number; hostname?: string; vendor?: string; requestedIp?: string; chaddr?: number }): Buffer {
  const fixed = Buffer.alloc(240);
  fixed[0] = o.op ?? 1;
  fixed[1] = 1;
  fixed[2] = 6;
  fixed.writeUInt32BE(0xdeadbeef, 4);
  mac(o.chaddr ?? 0x0200000000aa).copy(fixed, 28);
  fixed.writeUInt32BE(0x63825363, 236);
  const opts: Buffer[] = [Buffer.from([53, 1, o.msgType])];
  if (o.hostname !== undefined) opts.push(Buffer.from([12, o.hostname.length]), Buffer.from(o.hostname));
  if (o.vendor !== undefined) opts.push(Buffer.from([60, o.vendor.length]), Buffer.from(o.vendor));
  if (o.requestedIp !== undefined) opts.push(Buffer.from([50, 4]), u32(ipv4Addr(o.requestedIp)));
  opts.push(Buffer.from([255]));
  return Buffer.concat([fixed, ...opts]);
}

export function tlsClientHello(sni: string | undefined): Buffer {
  const exts: Buffer[] = [];
  // a GREASE-like extension first, then server_name
  exts.push(Buffer.concat([u16(0x0a0a), u16(0)]));
  if (sni !== undefined) {
    const name = Buffer.from(sni);
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    const list = Buffer.concat([u16(entry.length), entry]);
    exts.push(Buffer.concat([u16(0), u16(list.length), list]));
  }
  const extBytes = Buffer.concat(exts);
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(4),
    u16(0x1301),
    u16(0x1302),
    Buffer.from([1, 0]),
    u16(extBytes.length),
    extBytes,
  ]);
  const hs = Buffer.concat([Buffer.from([1]), Buffer.from([0, body.length >> 8, body.length & 255]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(hs.length), hs]);
}

/** HL7 v2 over MLLP. The PID segment is there to prove that it is never read. */
export function hl7Mllp(sendingApp: string, msgType: string): Buffer {
  const msg = `MSH|^~\\&|${sendingApp}|WARD3|LIS|LAB|20240101120000||${msgType}|MSG0001|P|2.5\rPID|1||12345^^^MRN||DOE^JANE\r`;
  return Buffer.concat([Buffer.from([0x0b]), Buffer.from(msg, 'latin1'), Buffer.from([0x1c, 0x0d])]);
}

export function dicomAssociateRq(called: string, calling: string): Buffer {
  const appCtx = Buffer.from('1.2.840.10008.3.1.1.1');
  const item = Buffer.concat([Buffer.from([0x10, 0]), u16(appCtx.length), appCtx]);
  const body = Buffer.concat([u16(1), u16(0), Buffer.from(called.padEnd(16)), Buffer.from(calling.padEnd(16)), Buffer.alloc(32), item]);
  return Buffer.concat([Buffer.from([1, 0]), u32(body.length), body]);
}

function mqttRemaining(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

export function mqttConnect(clientId: string, level = 4): Buffer {
  const id = Buffer.from(clientId);
  const props = level === 5 ? Buffer.from([0]) : Buffer.alloc(0);
  const vh = Buffer.concat([u16(4), Buffer.from('MQTT'), Buffer.from([level, 0x02]), u16(60), props]);
  const body = Buffer.concat([vh, u16(id.length), id]);
  return Buffer.concat([Buffer.from([0x10]), mqttRemaining(body.length), body]);
}

export function mqttPublish(topic: string, payload: Buffer): Buffer {
  const t = Buffer.from(topic);
  const body = Buffer.concat([u16(t.length), t, payload]);
  return Buffer.concat([Buffer.from([0x30]), mqttRemaining(body.length), body]);
}
