/**
 * Issue 20 item 6: the analysis on a worker thread (`analysis.threads: 2`, src/pipeline/threaded.ts) gives what one
 * thread gives — the same feature windows in the same order, the same inventory entries handed with them, the same
 * flow records, the same counters at the same points of the stream — on the demo capture (11 attacks) and every golden
 * capture, with the calls between packets (capture loss, idle close, counter snapshots) at the same places. A small
 * ring (128 records) makes the frame loop wait for the worker often.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DEFAULT_ANALYSIS_THREADS } from '../../src/pipeline/config.js';
import { MAX_META_RECORDS, RECORD_SLOTS, metaRecords, readMeta, readPacket, recordViews, writeMeta, writePacket } from '../../src/pipeline/packet-batch.js';
import { createPipelineRunner, type PipelineRunner } from '../../src/pipeline/runner.js';
import { PipelineWorkerError, ThreadedPipeline } from '../../src/pipeline/threaded.js';
import { AppProto, newDecodedPacket, type AppMeta, type DecodedPacket } from '../../src/records/packet.js';
import { udp } from '../support/packets.js';

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
    { ...DEFAULT_ANALYSIS_THREADS, threads, ring_packets: 128 },
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
    // A distinct value per field at the edge of its range (48-bit MACs, unsigned 32-bit words, seconds; int32 and -1
    // for the small ones), so a swapped or narrowed slot shows.
    const wide = new Set(['eth_src', 'eth_dst', 'arp_sha', 'arp_tha', 'ip_src', 'ip_dst', 'tcp_seq', 'tcp_ack', 'arp_spa', 'arp_tpa', 'ts_sec']);
    const r = p as unknown as Record<string, unknown>;
    fields.forEach((k, i) => {
      if (typeof r[k] === 'boolean') r[k] = true;
      else if (k.startsWith('eth_') || k === 'arp_sha' || k === 'arp_tha') r[k] = 0xfedcba987654 - i;
      else if (wide.has(k)) r[k] = 0xfffffff0 - i;
      else r[k] = i % 2 === 0 ? 0x7ffffff0 - i : -1 - i;
    });
    p.ip6_src.set([1, 2, 0xffffffff, 4]);
    p.ip6_dst.set([5, 0x80000000, 7, 8]);
    const b = recordViews(new SharedArrayBuffer(3 * RECORD_SLOTS * 8));
    writePacket(b, 2, p);
    const q: DecodedPacket = newDecodedPacket();
    const meta = { hl7_msg_type: 'ORU^R01' };
    readPacket(b, 2, q, meta);
    assert.deepEqual({ ...q, app_meta: undefined }, { ...p, app_meta: undefined });
    assert.equal(q.app_meta, meta);
  });

  it('carries every application metadata field in the records after its packet, across the end of the ring', () => {
    const mask = 7; // a ring of 8 records
    const b = recordViews(new SharedArrayBuffer(8 * RECORD_SLOTS * 8));
    const meta: AppMeta = {
      dns_qname: 'x'.repeat(60) + '.example.org',
      dns_qtype: 28,
      dns_rcode: 3,
      dns_response: true,
      dns_answers: 0,
      dhcp_msg_type: 5,
      dhcp_hostname: 'pump-ß-07',
      dhcp_vendor_class: 'MSFT 5.0',
      dhcp_requested_ip: '10.1.2.3',
      tls_sni: 'pacs.hospital.example',
      hl7_sending_app: 'ICU-MON',
      hl7_msg_type: 'ORU^R01',
      dicom_pdu_type: 1,
      dicom_calling_ae: 'CT01',
      dicom_called_ae: 'PACS',
      mqtt_msg_type: 3,
      mqtt_client_id: 'gw-1',
      mqtt_topic: 'ward/3/bed/12/\u{1F600}',
    };
    // The packet at the last record: its metadata wraps to the first ones.
    const used = writeMeta(b, mask, 7, meta);
    assert.ok(used >= 3, `${used} records`);
    assert.equal(metaRecords(b, mask, 7), used);
    assert.deepEqual(readMeta(b, mask, 7), meta);
    assert.deepEqual(readMeta((writeMeta(b, mask, 2, { dns_response: false }), b), mask, 2), { dns_response: false });
    // Too long for the ring (an MQTT topic may be 64 KB): nothing written, the caller sends it beside the ring.
    assert.equal(writeMeta(b, mask, 0, { mqtt_topic: 't'.repeat(MAX_META_RECORDS * RECORD_SLOTS) }), -1);
  });

  it('metadata too long for the ring goes beside it, in order: the DNS features of one thread', async () => {
    const A = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 40000 };
    const R = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 53 };
    const run = async (threads: number): Promise<string[]> => {
      const out: string[] = [];
      const runner = createPipelineRunner({ threads, ring_packets: 128 }, { devices: { require_evidence: false } }, { onWindow: (w) => out.push(JSON.stringify(w)) });
      for (let i = 0; i < 400; i++) {
        // Every third query name is 2,000 characters (beyond MAX_META_RECORDS): beside the ring; the others in it.
        const name = `${i % 3 === 0 ? 'q'.repeat(2000) : `host${i}`}.example.org`;
        await runner.process(udp(1_767_225_600 + i * 0.25, A, R, 40, AppProto.DNS, { dns_qname: name, dns_qtype: 1, dns_response: false }));
        await runner.process(udp(1_767_225_600 + i * 0.25 + 0.01, R, A, 80, AppProto.DNS, { dns_qname: name, dns_qtype: 1, dns_response: true, dns_answers: 1 }));
      }
      await runner.flush();
      await runner.close();
      return out;
    };
    const one = await run(1);
    assert.ok(one.length >= 10);
    assert.deepEqual(await run(2), one);
  });

  it('a failing worker fails the run with WW_PIPELINE_WORKER, at the next packet', async () => {
    // An option the pipeline rejects in the worker (validated there, as on one thread).
    const runner = new ThreadedPipeline({ ring_packets: 128 }, { flows: { max_flows: -5 } }, {});
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
