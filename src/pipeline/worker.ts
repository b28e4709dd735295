/**
 * The analysis worker thread of a threaded sensor (src/pipeline/threaded.ts): one `AnalysisPipeline`, fed in order
 * with the messages of its caller; each message that produced something is answered once, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newDecodedPacket } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import { AnalysisPipeline } from './analysis.js';
import { readPacket } from './packet-batch.js';
import type { FromWorker, ToWorker, WorkerInit } from './threaded.js';

/** Counters ride along with an answer at most this often (and with every answer to a request). */
const METRICS_EVERY_MS = 250;

const port = parentPort;
if (!port) throw new Error('src/pipeline/worker.ts runs as a worker thread (ThreadedPipeline)');
const init = workerData as WorkerInit;

/** Windows (with their entries) and flow records, in the order the pipeline emitted them. */
let emitted: ([FeatureWindow, InventoryEntry | undefined] | FlowRecord)[] = [];
const pipeline: AnalysisPipeline = new AnalysisPipeline(init.options, {
  onWindow: (w) => emitted.push([w, pipeline.changedEntry(w.device_id)]),
  ...(init.flows ? { onFlow: (r: FlowRecord) => emitted.push(r) } : {}),
});
const p = newDecodedPacket();
let metricsAt = 0;

port.on('message', (m: ToWorker) => {
  const out: FromWorker = {};
  const transfer: ArrayBuffer[] = [];
  switch (m.t) {
    case 'batch': {
      const b = new Float64Array(m.buf);
      const meta = m.meta;
      let next = meta !== undefined && meta.length > 0 ? 0 : -1;
      for (let i = 0; i < m.n; i++) {
        let am;
        if (next >= 0 && meta![next]![0] === i) {
          am = meta![next]![1];
          next = next + 1 < meta!.length ? next + 1 : -1;
        }
        readPacket(b, i, p, am);
        pipeline.process(p);
      }
      out.buf = m.buf;
      transfer.push(m.buf);
      break;
    }
    case 'loss':
      pipeline.noteCaptureLoss(m.dropped, m.received);
      break;
    case 'idle':
      pipeline.closeIdle(m.ms);
      break;
    case 'snapshot':
      out.id = m.id;
      break;
    case 'flush':
      pipeline.flush();
      out.id = m.id;
      break;
  }
  if (emitted.length > 0) {
    out.emitted = emitted;
    emitted = [];
  }
  const now = Date.now();
  if (out.id !== undefined || now - metricsAt >= METRICS_EVERY_MS) {
    out.metrics = pipeline.metrics();
    metricsAt = now;
  }
  if (out.buf !== undefined || out.emitted !== undefined || out.metrics !== undefined || out.id !== undefined) port.postMessage(out, transfer);
});
