/**
 * The analysis worker thread of a threaded sensor (src/pipeline/threaded.ts): one `AnalysisPipeline`, fed in order
 * with the records of the shared ring; it posts what the pipeline emitted when the ring runs dry, every 4,096
 * records otherwise, and with every answer to a request. It sleeps (`Atomics.wait`) while the ring is empty, and
 * returns at the CLOSE record.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { newDecodedPacket, type AppMeta } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import { AnalysisPipeline } from './analysis.js';
import { RecordKind, controlArg, kindOf, metaRecords, readMeta, readPacket, recordViews } from './packet-batch.js';
import { Ctl, type FromWorker, type WorkerInit } from './threaded.js';

/** Counters ride along with a post at most this often (and with every answer to a request). */
const METRICS_EVERY_MS = 250;
/** Outputs are posted at least every this many records while the ring does not run dry. */
const POST_EVERY = 4096;
/** The worker moves READ (and wakes a waiting writer) at least every this many records. */
const READ_EVERY = 1024;

if (!parentPort) throw new Error('src/pipeline/worker.ts runs as a worker thread (ThreadedPipeline)');
const port = parentPort;
const init = workerData as WorkerInit;
const ring = recordViews(init.ring);
const ctl = new Int32Array(init.ctl);
const mask = init.capacity - 1;

/** Windows (with their entries) and flow records, in the order the pipeline emitted them. */
let emitted: ([FeatureWindow, InventoryEntry | undefined] | FlowRecord)[] = [];
const pipeline: AnalysisPipeline = new AnalysisPipeline(init.options, {
  onWindow: (w) => emitted.push([w, pipeline.changedEntry(w.device_id)]),
  ...(init.flows ? { onFlow: (r: FlowRecord) => emitted.push(r) } : {}),
});
const p = newDecodedPacket();
let metricsAt = 0;
let meta: AppMeta[] = [];
let metaNext = 0;

function nextMeta(): AppMeta {
  if (metaNext >= meta.length) {
    // The writer posts metadata too long for the ring before it publishes its record: it is on the port already.
    const m = receiveMessageOnPort(init.meta);
    if (m === undefined) throw new Error('application metadata missing for a ring record');
    meta = m.message as AppMeta[];
    metaNext = 0;
  }
  return meta[metaNext++]!;
}

function post(id?: number, withEntries = false): void {
  const out: FromWorker = {};
  if (withEntries) out.entries = pipeline.inventory.entries();
  if (emitted.length > 0) {
    out.emitted = emitted;
    emitted = [];
  }
  const now = Date.now();
  if (id !== undefined || now - metricsAt >= METRICS_EVERY_MS) {
    out.metrics = pipeline.metrics();
    metricsAt = now;
  }
  if (id !== undefined) out.id = id;
  if (out.emitted !== undefined || out.metrics !== undefined || out.id !== undefined) port.postMessage(out);
}

function setRead(r: number): void {
  Atomics.store(ctl, Ctl.READ, r);
  if (Atomics.load(ctl, Ctl.WRITER_WAITING) === 1 && ((r - Atomics.load(ctl, Ctl.WAKE_AT)) | 0) >= 0) Atomics.notify(ctl, Ctl.READ);
}

/** The worker's loop (a function, not module top-level code, so that the optimizing compiler takes it whole). */
function run(): void {
  let r = 0;
  let sincePost = 0;
  let sinceRead = 0;
  for (;;) {
    const w = Atomics.load(ctl, Ctl.WRITE);
    if (w === r) {
      // Dry: hand over what was emitted, then sleep until the writer publishes more.
      if (emitted.length > 0) post();
      sincePost = 0;
      Atomics.store(ctl, Ctl.WORKER_SLEEPING, 1);
      if (Atomics.load(ctl, Ctl.WRITE) === r) Atomics.wait(ctl, Ctl.WRITE, r, 1000);
      Atomics.store(ctl, Ctl.WORKER_SLEEPING, 0);
      continue;
    }
    let closing = false;
    while (r !== w) {
      const i = r & mask;
      const kind = kindOf(ring, i);
      let records = 1;
      if (kind === RecordKind.PACKET) {
        readPacket(ring, i, p, undefined);
        pipeline.process(p);
      } else if (kind === RecordKind.PACKET_META) {
        readPacket(ring, i, p, readMeta(ring, mask, i));
        records += metaRecords(ring, mask, i);
        pipeline.process(p);
      } else if (kind === RecordKind.PACKET_META_PORT) {
        readPacket(ring, i, p, nextMeta());
        pipeline.process(p);
      } else if (kind === RecordKind.LOSS) pipeline.noteCaptureLoss(controlArg(ring, i, 0), controlArg(ring, i, 1));
      else if (kind === RecordKind.IDLE) pipeline.closeIdle(controlArg(ring, i, 0));
      else if (kind === RecordKind.SNAPSHOT) post(controlArg(ring, i, 0));
      else if (kind === RecordKind.FLUSH) {
        pipeline.flush();
        post(controlArg(ring, i, 0));
      } else if (kind === RecordKind.ENTRIES) post(controlArg(ring, i, 0), true);
      else if (kind === RecordKind.CLOSE) closing = true;
      r = (r + records) | 0;
      if ((sinceRead += records) >= READ_EVERY) {
        setRead(r);
        sinceRead = 0;
      }
      if (++sincePost >= POST_EVERY) {
        if (emitted.length > 0) post();
        sincePost = 0;
      }
      if (closing) break;
    }
    setRead(r);
    if (closing) break;
  }
}

run();
if (emitted.length > 0) post();
init.meta.close();
