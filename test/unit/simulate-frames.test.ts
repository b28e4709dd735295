import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arpFrame, macFromText, parseIpv4, tcpFrame, udpFrame, TCP_SYN, ZERO_MAC, type Station } from '../../src/simulate/frames.js';
import { CaptureWriter } from '../../src/simulate/pcap-writer.js';

/** Independent RFC 1071 checksum over a byte list: the sum including the checksum field folds to 0xffff. */
function onesSum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function station(mac: string, ip: string): Station {
  return { mac: macFromText(mac), ip: parseIpv4(ip), ttl: 64, ipId: 0x1234 };
}

const A = station('58:42:e4:00:00:01', '10.20.10.11');
const B = station('10:65:30:00:00:02', '10.20.1.10');

describe('simulate/frames', () => {
  it('builds a TCP SYN with valid IPv4 and TCP checksums and MSS option', () => {
    const f = tcpFrame(-1, { ...A }, B, { sport: 50000, dport: 443, seq: 0x01020304, ack: 0, flags: TCP_SYN, window: 502 });
    assert.equal(f.readUInt16BE(12), 0x0800);
    const ip = [...f.subarray(14, 34)];
    assert.equal(onesSum(ip), 0xffff, 'IPv4 header checksum');
    const totalLen = f.readUInt16BE(16);
    const tcp = [...f.subarray(34, 14 + totalLen)];
    const pseudo = [...f.subarray(26, 34), 0, 6, (tcp.length >> 8) & 0xff, tcp.length & 0xff];
    assert.equal(onesSum([...pseudo, ...tcp]), 0xffff, 'TCP checksum over the pseudo-header');
    assert.equal(f[34 + 13], TCP_SYN);
    assert.equal(f.readUInt32BE(34 + 4), 0x01020304);
    assert.deepEqual([...f.subarray(34 + 20, 34 + 24)], [2, 4, 0x05, 0xb4]);
  });

  it('builds UDP with a valid checksum and pads short frames to 60 bytes', () => {
    const f = udpFrame(-1, { ...A }, B, 123, 123, Buffer.from('hi'));
    assert.equal(f.length, 60);
    const totalLen = f.readUInt16BE(16);
    assert.equal(totalLen, 20 + 8 + 2);
    const udp = [...f.subarray(34, 14 + totalLen)];
    const pseudo = [...f.subarray(26, 34), 0, 17, 0, udp.length];
    assert.equal(onesSum([...pseudo, ...udp]), 0xffff);
  });

  it('adds an 802.1Q tag when a VLAN is given', () => {
    const f = udpFrame(20, { ...A }, B, 1, 2, Buffer.alloc(40));
    assert.equal(f.readUInt16BE(12), 0x8100);
    assert.equal(f.readUInt16BE(14), 20);
    assert.equal(f.readUInt16BE(16), 0x0800);
  });

  it('builds ARP requests (broadcast) and replies', () => {
    const req = arpFrame(-1, 1, A.mac, A.ip, ZERO_MAC, B.ip);
    assert.equal(req.subarray(0, 6).toString('hex'), 'ffffffffffff');
    assert.equal(req.readUInt16BE(12), 0x0806);
    assert.equal(req.readUInt16BE(20), 1);
    const rep = arpFrame(-1, 2, B.mac, B.ip, A.mac, A.ip);
    assert.equal(rep.subarray(0, 6).toString('hex'), A.mac.toString('hex'));
    assert.equal(rep.readUInt32BE(28), B.ip);
  });

  it('increments the IPv4 identification per packet', () => {
    const s = { ...A };
    const f1 = udpFrame(-1, s, B, 1, 2, Buffer.alloc(1));
    const f2 = udpFrame(-1, s, B, 1, 2, Buffer.alloc(1));
    assert.equal(f2.readUInt16BE(18), (f1.readUInt16BE(18) + 1) & 0xffff);
  });
});

describe('simulate/pcap-writer', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ww-pcapw-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes classic pcap with µs and ns timestamps', () => {
    for (const resolution of ['us', 'ns'] as const) {
      const file = join(dir, `x-${resolution}.pcap`);
      const w = new CaptureWriter(file, { format: 'pcap', resolution });
      w.write(1767596400_123456, Buffer.alloc(60, 1));
      w.close();
      const b = readFileSync(file);
      assert.equal(b.readUInt32LE(0), resolution === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4);
      assert.equal(b.readUInt32LE(20), 1);
      assert.equal(b.readUInt32LE(24), 1767596400);
      assert.equal(b.readUInt32LE(28), resolution === 'ns' ? 123456000 : 123456);
      assert.equal(b.readUInt32LE(32), 60);
      assert.equal(b.length, 24 + 16 + 60);
    }
  });

  it('writes pcapng blocks whose lengths chain to the end of the file', () => {
    const file = join(dir, 'x.pcapng');
    const w = new CaptureWriter(file, { format: 'pcapng', resolution: 'ns' });
    w.write(1767596400_000001, Buffer.alloc(61, 2));
    w.write(1767596400_000002, Buffer.alloc(64, 3));
    w.close();
    const b = readFileSync(file);
    const types: number[] = [];
    for (let off = 0; off < b.length; ) {
      const len = b.readUInt32LE(off + 4);
      assert.equal(b.readUInt32LE(off + len - 4), len, 'trailing block length');
      assert.equal(len % 4, 0);
      types.push(b.readUInt32LE(off));
      off += len;
    }
    assert.deepEqual(types, [0x0a0d0d0a, 1, 6, 6]);
    const epb = 28 + 32;
    const ticks = (BigInt(b.readUInt32LE(epb + 12)) << 32n) | BigInt(b.readUInt32LE(epb + 16));
    assert.equal(ticks, 1767596400_000001n * 1000n);
  });
});
