/**
 * Issue 20 item 6: the analysis on a worker thread (`analysis.threads: 2`, src/pipeline/threaded.ts) gives what one
 * thread gives — the same feature windows in the same order, the same inventory entries handed with them, the same
 * flow records, the same counters at the same points of the stream — on the demo capture (11 attacks) and every golden
 * capture, with the calls between packets (capture loss, idle close, counter snapshots) at the same places. Small
 * batches and a tight in-flight bound make the frame loop wait for the worker often.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DEFAULT_ANALYSIS_THREADS } from '../../src/pipeline/config.js';
import { PACKET_SLOTS, readPacket, writePacket } from '../../src/pipeline/packet-batch.js';
import { createPipelineRunner, type PipelineRunner } from '../../src/pipeline/runner.js';
import { PipelineWorkerError, ThreadedPipeline } from '../../src/pipeline/threaded.js';
import { newDecodedPacket, type DecodedPacket } from '../../src/records/packet.js';

const CAPTURES = path.resolve('captures');

interface Outputs {
  log: string[];
  packets: number;
  waits: number;
}

/**
 * A capture through decode → runner, as the sensor's frame loop drives it: every 3,000 packets a capture-loss note
 * (made-up counters), every 7,000 a counter snapshot, every 11,000 an idle close at the packet's time + 30 s.
 */
async function drive(file: string, threads: number): Promise<Outputs> {
  const log: string[] = [];
  const runner: PipelineRunner = createPipelineRunner(
    { ...DEFAULT_ANALYSIS_THREADS, threads, batch_packets: 64, max_batches_in_flight: 2 },
    {},
    {
      onWindow: (w, e) => log.push(`W ${JSON.stringify(w)}`, `E ${e === undefined ? '-' : JSON.stringify(e)}`),
      onFlow: (r) => log.push(`F ${JSON.stringify(r)}`),
    },
  );
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const snapshots: Promise<void>[] = [];
  let packets = 0;
  const source = await readCapture(file);
  try {
    await source.forEachFrame((frame) => {
      decoder.decode(frame, p);
      packets++;
      const wait = runner.process(p);
      if (packets % 3000 === 0) runner.noteCaptureLoss(packets / 100, packets);
      if (packets % 7000 === 0) {
        const at = packets;
        snapshots.push(runner.snapshot().then((m) => void log.push(`M ${at} ${JSON.stringify(m)}`)));
      }
      if (packets % 11_000 === 0) runner.closeIdle((frame.ts_sec + 30) * 1000);
      return wait;
    });
    await runner.flush();
    await Promise.all(snapshots);
    log.push(`M end ${JSON.stringify(await runner.snapshot())}`);
  } finally {
    await runner.close();
  }
  return { log, packets, waits: runner instanceof ThreadedPipeline ? runner.waits : 0 };
}

describe('analysis on a worker thread (analysis.threads: 2)', function () {
  this.timeout(120_000);

  const files = ['demo.pcap', ...readdirSync(path.join(CAPTURES, 'golden')).filter((f) => f.endsWith('.pcap')).map((f) => `golden/${f}`)];
  for (const f of files) {
    it(`gives the windows, entries, flows and counters of one thread: ${f}`, async () => {
      const one = await drive(path.join(CAPTURES, f), 1);
      const two = await drive(path.join(CAPTURES, f), 2);
      assert.equal(two.packets, one.packets);
      assert.ok(one.log.filter((l) => l.startsWith('W ')).length > 0, 'the capture gives windows');
      // Windows, entries and flows line by line, so that a difference shows where it starts. Counter snapshots resolve
      // when the worker gets there (later than on one thread): each is labelled with its packet, compared as a set.
      const a = one.log.filter((l) => !l.startsWith('M '));
      const b = two.log.filter((l) => !l.startsWith('M '));
      for (let i = 0; i < Math.max(a.length, b.length); i++) assert.equal(b[i], a[i], `output ${i} differs`);
      assert.deepEqual(two.log.filter((l) => l.startsWith('M ')).sort(), one.log.filter((l) => l.startsWith('M ')).sort());
      if (f === 'demo.pcap') assert.ok(two.waits > 0, 'the frame loop waited for the worker (the bound was exercised)');
    });
  }

  it('hands every field of a decoded packet over unchanged (the batch codec)', () => {
    const p = newDecodedPacket();
    const fields = Object.keys(p).filter((k) => !['schema_version', 'app_meta', 'ip6_src', 'ip6_dst'].includes(k));
    // A distinct value per field (48-bit MACs, unsigned 32-bit words, negatives), so a swapped slot shows.
    const r = p as unknown as Record<string, unknown>;
    fields.forEach((k, i) => (r[k] = typeof r[k] === 'boolean' ? true : k.startsWith('eth_') || k.startsWith('arp_sh') ? 0xfedcba987654 - i : 4_000_000_000 - i * 7));
    p.ip6_src.set([1, 2, 0xffffffff, 4]);
    p.ip6_dst.set([5, 0x80000000, 7, 8]);
    const b = new Float64Array(3 * PACKET_SLOTS);
    writePacket(b, 2, p);
    const q: DecodedPacket = newDecodedPacket();
    const meta = { hl7_msg_type: 'ORU^R01' };
    readPacket(b, 2, q, meta);
    assert.deepEqual({ ...q, app_meta: undefined }, { ...p, app_meta: undefined });
    assert.equal(q.app_meta, meta);
  });

  it('a failing worker fails the run with WW_PIPELINE_WORKER, at the next packet', async () => {
    // An option the pipeline rejects in the worker (validated there, as on one thread).
    const runner = new ThreadedPipeline({ batch_packets: 16, max_batches_in_flight: 2 }, { flows: { max_flows: -5 } }, {});
    const p = newDecodedPacket();
    let err: unknown;
    for (let i = 0; i < 100_000 && err === undefined; i++) {
      try {
        await runner.process(p);
      } catch (e) {
        err = e;
      }
      if (i % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(err instanceof PipelineWorkerError, String(err));
    assert.equal(err.code, 'WW_PIPELINE_WORKER');
    await assert.rejects(runner.flush(), PipelineWorkerError);
    await runner.close();
  });
});
