/**
 * Fuzzing: random mutations of real captures (the public fixtures when present, plus crafted packets) must never
 * make the decoder or the file reader throw (other than the one CaptureError for a file that is not a capture) or
 * hang. Seeded, so a failure is reproducible: the seed and iteration are in the message.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import * as W from '../../src/capture/pcap-file/writer.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { CaptureError } from '../../src/errors.js';
import { LinkType, TcpFlag, newDecodedPacket, type CapturedFrame } from '../../src/records/packet.js';
import * as B from '../support/packet-builder.js';
import { publicCapturesDir } from '../support/fixtures.js';

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  linktype: number;
  data: Buffer;
}

function craftedSamples(): Sample[] {
  const e = (type: number, payload: Buffer): Sample => ({ linktype: LinkType.ETHERNET, data: B.eth(1, 2, type, payload) });
  const v4 = (proto: number, payload: Buffer): Buffer => B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto, payload });
  return [
    e(0x0800, v4(6, B.tcp({ sport: 5000, dport: 443, flags: TcpFlag.ACK, payload: B.tlsClientHello('a.example') }))),
    e(0x0800, v4(6, B.tcp({ sport: 5000, dport: 2575, flags: TcpFlag.ACK, payload: B.hl7Mllp('APP', 'ADT^A01') }))),
    e(0x0800, v4(6, B.tcp({ sport: 5000, dport: 104, flags: TcpFlag.ACK, payload: B.dicomAssociateRq('A', 'B') }))),
    e(0x0800, v4(6, B.tcp({ sport: 5000, dport: 1883, flags: TcpFlag.ACK, payload: B.mqttConnect('c', 5) }))),
    e(0x0800, v4(6, B.tcp({ sport: 5000, dport: 1883, flags: TcpFlag.ACK, payload: B.mqttPublish('t/1', Buffer.from('x')) }))),
    e(0x0800, v4(17, B.udp(5000, 53, B.dns({ name: 'a.b.c', qtype: 1, answers: 2, response: true })))),
    e(0x0800, v4(17, B.udp(68, 67, B.dhcp({ msgType: 1, hostname: 'h', vendor: 'v', requestedIp: '1.2.3.4' })))),
    e(0x86dd, B.ipv6([0, 0, 0, 1], [0, 0, 0, 2], 0, Buffer.concat([B.ipv6Ext8(44), B.ipv6Fragment(17, 0, true), B.udp(1, 53, B.dns({ name: 'x', qtype: 28 }))]))),
    e(0x0806, B.arp(1, 1, '1.1.1.1', 0, '1.1.1.2')),
  ];
}

function publicSamples(): Promise<Sample[]> {
  const out: Sample[] = [];
  if (!existsSync(publicCapturesDir)) return Promise.resolve(out);
  const files = readdirSync(publicCapturesDir).filter((f) => /\.pcap(ng)?$/.test(f));
  return files
    .reduce(
      (chain, f) =>
        chain.then(async () => {
          const src = await readCapture(path.join(publicCapturesDir, f));
          await src.forEachFrame((fr: CapturedFrame) => {
            const at = fr.data_offset ?? 0;
            if (out.length < 3000) out.push({ linktype: fr.linktype, data: Buffer.from(fr.data.subarray(at, at + fr.cap_len)) });
          });
        }),
      Promise.resolve(),
    )
    .then(() => out);
}

const INTERESTING = [0, 1, 2, 4, 5, 0x0f, 0x40, 0x45, 0x60, 0x7f, 0x80, 0xc0, 0xff];

function mutate(rand: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const edits = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < edits && b.length > 0; i++) {
    const at = Math.floor(rand() * Math.min(b.length, rand() < 0.7 ? 80 : b.length));
    const r = rand();
    if (r < 0.4) b[at] = Math.floor(rand() * 256);
    else if (r < 0.8) b[at] = INTERESTING[Math.floor(rand() * INTERESTING.length)] ?? 0;
    else b[at] = (b[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
  }
  const cut = rand() < 0.3 ? Math.floor(rand() * b.length) : b.length;
  return b.subarray(0, cut);
}

describe('fuzz: mutated captures never crash the decoder or the reader', function () {
  this.timeout(60000);
  let samples: Sample[] = [];
  let dir: string;
  before(async () => {
    samples = [...craftedSamples(), ...(await publicSamples())];
    dir = mkdtempSync(path.join(tmpdir(), 'ww-fuzz-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decoder: 30,000 mutated frames, no throw, every frame counted', () => {
    const seed = 20261124;
    const rand = prng(seed);
    const d = new PacketDecoder();
    const p = newDecodedPacket();
    const linktypes = [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.RAW, LinkType.IPV6, 192];
    const started = Date.now();
    const N = 30000;
    for (let i = 0; i < N; i++) {
      const s = samples[Math.floor(rand() * samples.length)];
      if (s === undefined) continue;
      const data = mutate(rand, s.data);
      const linktype = rand() < 0.05 ? (linktypes[Math.floor(rand() * linktypes.length)] ?? 1) : s.linktype;
      const buf = Buffer.concat([Buffer.alloc(13, 0xaa), data, Buffer.alloc(9, 0xbb)]);
      const frame: CapturedFrame = { ts_sec: i, ts_nsec: 0, cap_len: data.length, orig_len: data.length, linktype, interface_id: 0, data: buf, data_offset: 13 };
      try {
        d.decode(frame, p);
      } catch (err) {
        assert.fail(`seed ${seed} iteration ${i}: decoder threw ${String(err)} on ${data.toString('hex')}`);
      }
    }
    const snap = d.counters.snapshot();
    assert.equal(snap.frames, N);
    assert.equal(snap.clean + snap.malformed, N);
    assert.ok(snap.malformed > 0, 'mutations should produce malformed frames');
    assert.ok(Date.now() - started < 20000, 'decoder too slow on mutated input (hang?)');
  });

  it('reader + decoder: 400 mutated capture files, no throw except CaptureError at open, no hang', async () => {
    const seed = 424242;
    const rand = prng(seed);
    const bases: Buffer[] = [];
    const small = samples.slice(0, 40).map((s, i) => ({ ts_sec: 1000 + i, ts_nsec: i * 1000, data: s.data }));
    bases.push(W.encodePcap(small, { linktype: LinkType.ETHERNET, snaplen: 65535 }));
    bases.push(Buffer.concat([W.pcapngSectionHeader(), W.pcapngInterfaceBlock({ linktype: 1, tsresol: 9 }), ...small.map((f) => W.pcapngEnhancedPacket(f, 9))]));
    if (existsSync(publicCapturesDir)) {
      for (const f of ['ndpi_dns.pcap', 'ndpi_mqtt.pcap', 'tapirx_HL7-ADT.pcap', 'ndpi_gre.pcapng', 'ndpi_dazn.pcapng']) {
        const p = path.join(publicCapturesDir, f);
        if (existsSync(p)) bases.push(readFileSync(p));
      }
    }
    let opened = 0;
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const base = bases[i % bases.length] ?? Buffer.alloc(0);
      const data = Buffer.from(base);
      // Mutate mostly framing: headers and lengths near the start, plus random bytes anywhere.
      const edits = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < edits; k++) {
        const at = rand() < 0.6 ? Math.floor(rand() * Math.min(96, data.length)) : Math.floor(rand() * data.length);
        data[at] = rand() < 0.5 ? Math.floor(rand() * 256) : (INTERESTING[Math.floor(rand() * INTERESTING.length)] ?? 0);
      }
      const cut = rand() < 0.25 ? Math.floor(rand() * data.length) : data.length;
      const file = path.join(dir, `m${i}.pcap`);
      writeFileSync(file, data.subarray(0, cut));
      let src;
      try {
        src = await readCapture(file);
      } catch (err) {
        assert.ok(err instanceof CaptureError, `seed ${seed} iteration ${i}: open threw ${String(err)}`);
        refused++;
        continue;
      }
      opened++;
      const d = new PacketDecoder();
      const p = newDecodedPacket();
      const t0 = Date.now();
      await src.forEachFrame((f) => {
        d.decode(f, p);
      });
      assert.ok(Date.now() - t0 < 2000, `seed ${seed} iteration ${i}: read took too long`);
    }
    assert.ok(opened > 100 && refused > 0, `opened ${opened}, refused ${refused}`);
  });
});
