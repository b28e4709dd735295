import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { captureCutShort } from '../../src/capture/source.js';
import * as W from '../../src/capture/pcap-file/writer.js';
import { CaptureError } from '../../src/errors.js';
import { LinkType, type CapturedFrame } from '../../src/records/packet.js';

interface Seen {
  ts_sec: number;
  ts_nsec: number;
  cap_len: number;
  orig_len: number;
  linktype: number;
  interface_id: number;
  bytes: string;
}

function frames(n: number, size = 60): W.FrameToWrite[] {
  return Array.from({ length: n }, (_, i) => ({
    ts_sec: 1700000000 + i,
    ts_nsec: (i * 7919 * 1000 + 123000) % 1000000000,
    data: Buffer.alloc(size + (i % 7), i & 0xff),
  }));
}

describe('capture file reader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ww-reader-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: Buffer): string {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  }

  async function readAll(p: string): Promise<{ seen: Seen[]; counters: Awaited<ReturnType<Awaited<ReturnType<typeof readCapture>>['forEachFrame']>> }> {
    const src = await readCapture(p, { buffer_bytes: 64 * 1024 });
    const seen: Seen[] = [];
    const counters = await src.forEachFrame((f: CapturedFrame) => {
      const at = f.data_offset ?? 0;
      seen.push({ ts_sec: f.ts_sec, ts_nsec: f.ts_nsec, cap_len: f.cap_len, orig_len: f.orig_len, linktype: f.linktype, interface_id: f.interface_id, bytes: f.data.toString('hex', at, at + f.cap_len) });
    });
    return { seen, counters };
  }

  function expected(fs: W.FrameToWrite[], linktype: number, nanos: boolean): Seen[] {
    return fs.map((f) => ({
      ts_sec: f.ts_sec,
      ts_nsec: nanos ? f.ts_nsec : Math.floor(f.ts_nsec / 1000) * 1000,
      cap_len: f.data.length,
      orig_len: f.orig_len ?? f.data.length,
      linktype,
      interface_id: f.interface_id ?? 0,
      bytes: f.data.toString('hex'),
    }));
  }

  for (const [label, nanosecond, bigEndian] of [
    ['µs little-endian', false, false],
    ['µs big-endian', false, true],
    ['ns little-endian', true, false],
    ['ns big-endian', true, true],
  ] as const) {
    it(`classic pcap ${label}, across buffer refills`, async () => {
      const fs = frames(3000);
      const opts = { linktype: LinkType.ETHERNET, nanosecond, bigEndian };
      const { seen, counters } = await readAll(file(`c-${label}.pcap`, W.encodePcap(fs, opts)));
      assert.deepEqual(seen, expected(fs, LinkType.ETHERNET, nanosecond));
      assert.equal(counters.frames, 3000);
      assert.equal(counters.truncated_record, 0);
    });
  }

  it('pcapng: two interfaces with µs and ns resolution, SPB, unknown blocks skipped, both byte orders', async () => {
    for (const be of [false, true]) {
      const fs = frames(50).map((f, i) => ({ ...f, interface_id: i % 2 }));
      const parts = [W.pcapngSectionHeader(be), W.pcapngInterfaceBlock({ linktype: LinkType.ETHERNET }, be), W.pcapngInterfaceBlock({ linktype: LinkType.RAW, tsresol: 9 }, be)];
      parts.push(W.pcapngOpaqueBlock(5, Buffer.alloc(20, 1), be), W.pcapngOpaqueBlock(0x40000bad, Buffer.alloc(8), be));
      for (const f of fs) parts.push(W.pcapngEnhancedPacket(f, f.interface_id === 1 ? 9 : 6, be));
      parts.push(W.pcapngSimplePacket({ ts_sec: 0, ts_nsec: 0, data: Buffer.from('abcd') }, be));
      const { seen, counters } = await readAll(file(`ng-${be}.pcapng`, Buffer.concat(parts)));
      const want = fs.map((f) => expected([f], f.interface_id === 1 ? LinkType.RAW : LinkType.ETHERNET, f.interface_id === 1)[0]);
      want.push({ ts_sec: 0, ts_nsec: 0, cap_len: 4, orig_len: 4, linktype: LinkType.ETHERNET, interface_id: 0, bytes: Buffer.from('abcd').toString('hex') });
      assert.deepEqual(seen, want);
      assert.equal(counters.pcapng_skipped_blocks, 2);
    }
  });

  it('pcapng: a second section resets the interfaces', async () => {
    const a = frames(2);
    const buf = Buffer.concat([
      W.pcapngSectionHeader(),
      W.pcapngInterfaceBlock({ linktype: LinkType.ETHERNET }),
      W.pcapngEnhancedPacket(a[0]!),
      W.pcapngSectionHeader(true),
      W.pcapngInterfaceBlock({ linktype: LinkType.LINUX_SLL }, true),
      W.pcapngEnhancedPacket(a[1]!, 6, true),
    ]);
    const { seen } = await readAll(file('two-sections.pcapng', buf));
    assert.deepEqual(seen.map((s) => s.linktype), [LinkType.ETHERNET, LinkType.LINUX_SLL]);
  });

  it('gzip-compressed captures are read transparently (by content, whatever the name)', async () => {
    const fs = frames(5000, 100);
    const raw = W.encodePcap(fs, { linktype: LinkType.ETHERNET });
    const plain = await readAll(file('plain.pcap', raw));
    const gz = await readAll(file('compressed.pcap.gz', gzipSync(raw)));
    const disguised = await readAll(file('disguised.pcap', gzipSync(raw)));
    assert.equal(gz.seen.length, 5000);
    assert.deepEqual(gz.seen, plain.seen);
    assert.deepEqual(disguised.seen, plain.seen);
  });

  it('a file that is not a capture gets one clear CaptureError', async () => {
    for (const [name, content] of [
      ['notes.pcap', Buffer.from('hello, this is a text file\n')],
      ['empty.pcap', Buffer.alloc(0)],
      ['notes.pcap.gz', gzipSync(Buffer.from('plain text, gzipped'))],
    ] as const) {
      await assert.rejects(readCapture(file(name, content)), (err: unknown) => {
        assert.ok(err instanceof CaptureError);
        assert.equal(err.code, 'WW_CAPTURE_NOT_A_CAPTURE');
        assert.match(err.message, /not a pcap or pcapng capture file/);
        return true;
      });
    }
    await assert.rejects(readCapture(path.join(dir, 'missing.pcap')), (err: unknown) => err instanceof CaptureError && err.code === 'WW_CAPTURE_UNREADABLE');
  });

  it('truncated file: whole records are delivered and the cut one is counted', async () => {
    const raw = W.encodePcap(frames(10), { linktype: LinkType.ETHERNET });
    const { seen, counters } = await readAll(file('cut.pcap', raw.subarray(0, raw.length - 20)));
    assert.equal(seen.length, 9);
    assert.equal(counters.truncated_record, 1);
    // Incompressible payloads, so that cutting the .gz cuts the capture.
    const noisy = frames(200).map((f, i) => ({ ...f, data: Buffer.from(Array.from({ length: 64 }, (_, j) => (i * 131 + j * 197 + ((i * j) >> 3)) & 0xff)) }));
    const zipped = gzipSync(W.encodePcap(noisy, { linktype: LinkType.ETHERNET }));
    const gz = await readAll(file('cut.pcap.gz', zipped.subarray(0, Math.floor(zipped.length / 2))));
    assert.ok(gz.seen.length > 0 && gz.seen.length < 200, `${gz.seen.length} frames before the cut`);
    assert.equal(gz.counters.gzip_corrupt, 1);
    // pcapng cut inside an enhanced packet block (issue 22 item 5: pcapng too).
    const ng = Buffer.concat([W.pcapngSectionHeader(), W.pcapngInterfaceBlock({ linktype: LinkType.ETHERNET }), ...frames(10).map((f) => W.pcapngEnhancedPacket(f))]);
    const ngCut = await readAll(file('cut.pcapng', ng.subarray(0, ng.length - 30)));
    assert.equal(ngCut.seen.length, 9);
    assert.equal(ngCut.counters.truncated_record, 1);
    // In words, for the warning, the report and the summary; nothing to say about a whole file.
    assert.match(captureCutShort(counters) ?? '', /^the file ends in the middle of a packet record \(truncated dump file/);
    assert.match(captureCutShort(gz.counters) ?? '', /^the gzip stream is cut short or corrupt/);
    const whole = await readAll(file('whole.pcap', raw));
    assert.equal(whole.seen.length, 10);
    assert.equal(captureCutShort(whole.counters), undefined);
  });

  it('record longer than the snaplen is skipped; an impossible length ends the read; both counted', async () => {
    const opts = { linktype: LinkType.ETHERNET, snaplen: 100 };
    const recs = [W.pcapRecord({ ts_sec: 1, ts_nsec: 0, data: Buffer.alloc(60) }, opts), W.pcapRecord({ ts_sec: 2, ts_nsec: 0, data: Buffer.alloc(150) }, opts), W.pcapRecord({ ts_sec: 3, ts_nsec: 0, data: Buffer.alloc(60) }, opts)];
    const snap = await readAll(file('snap.pcap', Buffer.concat([W.pcapFileHeader(opts), ...recs])));
    assert.deepEqual(snap.seen.map((s) => s.ts_sec), [1, 3]);
    assert.equal(snap.counters.record_exceeds_snaplen, 1);

    const bogus = W.pcapRecord({ ts_sec: 9, ts_nsec: 0, data: Buffer.alloc(60) }, opts);
    bogus.writeUInt32LE(0x7fffffff, 8);
    const big = await readAll(file('bogus.pcap', Buffer.concat([W.pcapFileHeader(opts), recs[0]!, bogus, recs[2]!])));
    assert.deepEqual(big.seen.map((s) => s.ts_sec), [1]);
    assert.equal(big.counters.record_too_large, 1);
  });

  it('pcapng packet referring to an undescribed interface is skipped and counted', async () => {
    const f = frames(2);
    const buf = Buffer.concat([W.pcapngSectionHeader(), W.pcapngInterfaceBlock({ linktype: 1 }), W.pcapngEnhancedPacket({ ...f[0]!, interface_id: 3 }), W.pcapngEnhancedPacket(f[1]!)]);
    const { seen, counters } = await readAll(file('badif.pcapng', buf));
    assert.equal(seen.length, 1);
    assert.equal(counters.pcapng_unknown_interface, 1);
  });

  it('async iterator, backpressure and progress', async () => {
    const raw = W.encodePcap(frames(500), { linktype: LinkType.ETHERNET });
    const p = file('iter.pcap', raw);
    const src = await readCapture(p);
    let n = 0;
    for await (const f of src.frames()) {
      assert.equal(f.linktype, 1);
      n++;
    }
    assert.equal(n, 500);
    assert.deepEqual(src.progress(), { bytes_read: raw.length, bytes_total: raw.length, frames: 500 });

    const slow = await readCapture(p);
    let inFlight = 0;
    let maxInFlight = 0;
    let count = 0;
    await slow.forEachFrame(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (count++ % 100 === 0) await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    });
    assert.equal(count, 500);
    assert.equal(maxInFlight, 1, 'the source waits for the handler');

    const early = await readCapture(p);
    let m = 0;
    await early.forEachFrame(() => {
      if (++m === 10) early.stop();
    });
    assert.equal(m, 10);
  });

  it('memory stays flat on a large file (bounded buffer)', async () => {
    // ~40 MB, 400k frames: far more than the 1 MiB read buffer.
    const opts = { linktype: LinkType.ETHERNET };
    const rec = Buffer.concat(frames(1000, 80).map((f) => W.pcapRecord(f, opts)));
    const big = Buffer.concat([W.pcapFileHeader(opts), ...Array.from({ length: 400 }, () => rec)]);
    const p = file('big.pcap', big);
    global.gc?.();
    const before = process.memoryUsage();
    const src = await readCapture(p);
    let peakExternal = 0;
    let frameCount = 0;
    await src.forEachFrame(() => {
      if (++frameCount % 50000 === 0) peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers - before.arrayBuffers);
    });
    assert.equal(frameCount, 400000);
    assert.ok(peakExternal < 8 << 20, `buffer memory grew by ${peakExternal} bytes`);
  });
});
