/**
 * The analysis pipeline on a worker thread (`analysis.threads: 2`): the caller's thread captures and decodes, and hands
 * the decoded packets over in batches (src/pipeline/packet-batch.ts, the buffer transferred, not copied); the worker
 * (src/pipeline/worker.ts) runs `AnalysisPipeline` on them in order and answers each message with what it emitted:
 * feature windows (each with its changed inventory entry), flow records, and now and then its counters.
 *
 * Same windows as one thread, by construction: one pipeline sees the same packets in the same order, and the calls
 * between packets (`noteCaptureLoss`, `closeIdle`, `snapshot`, `flush`) travel in the same ordered channel, so they
 * act at the same point of the stream. Only the time at which the outputs reach the caller changes.
 *
 * Bounded: at most `max_batches_in_flight` batches are handed over and not yet answered; beyond that `process`
 * returns a promise (resolved when the worker caught up to half of that), which the frame loop waits for. A worker
 * that fails (an exception in the pipeline, or it exits) fails the run: `process` returns the error (a rejected
 * promise), `snapshot` and `flush` reject with it (`WW_PIPELINE_WORKER`).
 */
import { Worker } from 'node:worker_threads';
import type { AppMeta, DecodedPacket } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import { WardwatchError } from '../errors.js';
import type { AnalysisPipelineOptions } from './analysis.js';
import type { AnalysisThreadsOptions } from './config.js';
import { PACKET_SLOTS, writePacket } from './packet-batch.js';
import type { PipelineOutputs, PipelineRunner } from './runner.js';

/** Caller → worker. */
export type ToWorker =
  | { t: 'batch'; buf: ArrayBuffer; n: number; meta: [number, AppMeta][] | undefined }
  | { t: 'loss'; dropped: number; received: number }
  | { t: 'idle'; ms: number }
  | { t: 'snapshot'; id: number }
  | { t: 'flush'; id: number };

/** Worker → caller: one answer per message that produced something. */
export interface FromWorker {
  /** A batch's buffer, analysed, for reuse. */
  buf?: ArrayBuffer;
  /** Windows (each with its changed inventory entry) and flow records, in the order the pipeline emitted them. */
  emitted?: ([FeatureWindow, InventoryEntry | undefined] | FlowRecord)[];
  /** The pipeline's counters (with every answer to a request, else at most every 250 ms). */
  metrics?: Record<string, number>;
  /** The request (`snapshot`, `flush`) this answers, after everything before it. */
  id?: number;
}

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  options: AnalysisPipelineOptions;
  /** Build and send flow records (the caller has an `onFlow`). */
  flows: boolean;
}

/** The analysis worker failed or exited. */
export class PipelineWorkerError extends WardwatchError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WW_PIPELINE_WORKER', `analysis worker: ${message}`, options);
  }
}

export class ThreadedPipeline implements PipelineRunner {
  readonly threads = 2;
  private readonly worker: Worker;
  private readonly size: number;
  private readonly maxInFlight: number;
  private batch: Float64Array;
  private n = 0;
  private meta: [number, AppMeta][] | undefined;
  private readonly free: ArrayBuffer[] = [];
  private inFlight = 0;
  private capacityWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly requests = new Map<number, { resolve: (m: Record<string, number>) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private lastMetrics: Record<string, number> = {};
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  /** Batches handed over (counted, for the benchmark and tests). */
  batches = 0;
  /** Times the frame loop waited for the worker. */
  waits = 0;
  private readonly sendPending = (): void => this.send();

  constructor(
    threading: Pick<AnalysisThreadsOptions, 'batch_packets' | 'max_batches_in_flight'>,
    options: AnalysisPipelineOptions,
    private readonly outputs: PipelineOutputs,
  ) {
    if (options.inventory !== undefined) throw new PipelineWorkerError('a restored inventory object cannot be handed to a worker thread');
    this.size = threading.batch_packets;
    this.maxInFlight = threading.max_batches_in_flight;
    this.batch = new Float64Array(this.size * PACKET_SLOTS);
    const init: WorkerInit = { options, flows: outputs.onFlow !== undefined };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, name: 'wardwatch-analysis' });
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (err) => this.fail(new PipelineWorkerError(err.message, { cause: err })));
    this.worker.on('exit', (code) => {
      if (this.closed === undefined) this.fail(new PipelineWorkerError(`exited (code ${code}) while analysing`));
    });
  }

  process(p: DecodedPacket): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    const i = this.n;
    writePacket(this.batch, i, p);
    if (p.app_meta !== undefined) (this.meta ??= []).push([i, p.app_meta]);
    this.n = i + 1;
    // A partly filled batch leaves as soon as the frame loop yields (the end of a live chunk, a file block).
    if (i === 0) queueMicrotask(this.sendPending);
    if (this.n === this.size) this.send();
    return this.inFlight > this.maxInFlight ? this.capacity() : undefined;
  }

  noteCaptureLoss(cumulativeDropped: number, cumulativeReceived: number): void {
    this.post({ t: 'loss', dropped: cumulativeDropped, received: cumulativeReceived });
  }

  closeIdle(ms: number): void {
    this.post({ t: 'idle', ms });
  }

  snapshot(): Promise<Record<string, number>> {
    return this.request('snapshot');
  }

  latest(): Record<string, number> {
    return this.lastMetrics;
  }

  async flush(): Promise<void> {
    await this.request('flush');
  }

  close(): Promise<void> {
    this.closed ??= this.worker.terminate().then(() => undefined);
    return this.closed;
  }

  /** Hands the batch over (if it holds packets). */
  private send(): void {
    const n = this.n;
    if (n === 0 || this.failure) return;
    const buf = this.batch.buffer as ArrayBuffer;
    const msg: ToWorker = { t: 'batch', buf, n, meta: this.meta };
    this.worker.postMessage(msg, [buf]);
    this.inFlight++;
    this.batches++;
    const reuse = this.free.pop();
    this.batch = reuse !== undefined ? new Float64Array(reuse) : new Float64Array(this.size * PACKET_SLOTS);
    this.n = 0;
    this.meta = undefined;
  }

  /** Posts a message after the packets given before it. */
  private post(msg: ToWorker): void {
    if (this.failure || this.closed) return;
    this.send();
    this.worker.postMessage(msg);
  }

  private request(t: 'snapshot' | 'flush'): Promise<Record<string, number>> {
    if (this.failure) return Promise.reject(this.failure);
    // After close (the run ended): the last counters, which the final flush brought.
    if (this.closed) return Promise.resolve(this.lastMetrics);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      this.post({ t, id });
    });
  }

  private capacity(): Promise<void> {
    this.waits++;
    return new Promise((resolve, reject) => this.capacityWaiters.push({ resolve, reject }));
  }

  private receive(m: FromWorker): void {
    if (m.buf !== undefined) {
      this.inFlight--;
      if (m.buf.byteLength === this.size * PACKET_SLOTS * 8) this.free.push(m.buf);
    }
    if (m.metrics !== undefined) this.lastMetrics = m.metrics;
    if (m.emitted !== undefined) {
      const { onWindow, onFlow } = this.outputs;
      for (const x of m.emitted) {
        if (Array.isArray(x)) onWindow?.(x[0], x[1]);
        else onFlow?.(x);
      }
    }
    if (m.id !== undefined) {
      const r = this.requests.get(m.id);
      this.requests.delete(m.id);
      r?.resolve(this.lastMetrics);
    }
    if (this.capacityWaiters.length > 0 && this.inFlight <= this.maxInFlight >> 1) {
      const waiters = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.capacityWaiters) w.reject(err);
    this.capacityWaiters = [];
    for (const r of this.requests.values()) r.reject(err);
    this.requests.clear();
    void this.close();
  }
}
