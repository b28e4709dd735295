/**
 * The analysis pipeline on a worker thread (`analysis.threads: 2`): the caller's thread captures and decodes, and
 * writes each decoded packet as a record of a ring in shared memory (src/pipeline/packet-batch.ts); the worker
 * (src/pipeline/worker.ts) runs `AnalysisPipeline` on the records in order, and posts back what it emitted: feature
 * windows (each with its changed inventory entry), flow records, and now and then its counters.
 *
 * Same windows as one thread, by construction: one pipeline sees the same packets in the same order, and the calls
 * between packets (`noteCaptureLoss`, `closeIdle`, `snapshot`, `flush`) are records of the same ring, so they act at
 * the same point of the stream. Only the time at which the outputs reach the caller changes.
 *
 * The hand-off costs no message per packet or per batch: the writer publishes its position (an atomic store) every
 * 1,024 records and whenever its frame loop yields (the end of a live chunk or a file block), and wakes the worker
 * only when it sleeps (`Atomics.notify`); application metadata (18 % of the simulator's packets: HL7, MQTT, DNS, …)
 * follows its packet in the ring. A first version handed batches over with postMessage and the metadata beside
 * them: the messages cost more than the analysis they freed the first thread from (slower than one thread).
 *
 * Bounded: the ring holds `ring_packets` records; when it is full, `process` returns a promise (resolved once the
 * worker freed half of it), which the frame loop waits for (a file pauses reading; a live capture fills its own
 * pool). A worker that fails (an exception in the pipeline, or it exits) fails the run: `process` returns the error
 * (a rejected promise), `snapshot` and `flush` reject with it (`WW_PIPELINE_WORKER`).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { AppMeta, DecodedPacket } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import { WardwatchError } from '../errors.js';
import type { AnalysisPipelineOptions } from './analysis.js';
import type { AnalysisThreadsOptions } from './config.js';
import { MAX_META_RECORDS, RECORD_SLOTS, RecordKind, recordViews, setKind, writeControl, writeMeta, writePacket, type RecordViews } from './packet-batch.js';
import type { PipelineOutputs, PipelineRunner } from './runner.js';

/** Int32 slots of the ring's control block. */
export const Ctl = {
  /** Records written (published), modulo 2^32. */
  WRITE: 0,
  /** Records the worker has analysed, modulo 2^32. */
  READ: 1,
  /** 1 while the worker sleeps (the writer notifies `WRITE` then). */
  WORKER_SLEEPING: 2,
  /** 1 while the writer waits for room (the worker notifies `READ` once it reached `WAKE_AT`). */
  WRITER_WAITING: 3,
  /** The read position the waiting writer needs. */
  WAKE_AT: 4,
  SIZE: 5,
} as const;

/** Records the writer keeps free for the calls between packets (made while the frame loop waits for room). */
const CONTROL_RESERVE = 64;
/** The writer publishes its position at least every this many records. */
const PUBLISH_EVERY = 1024;

/** Worker → caller. */
export interface FromWorker {
  /** Windows (each with its changed inventory entry) and flow records, in the order the pipeline emitted them. */
  emitted?: ([FeatureWindow, InventoryEntry | undefined] | FlowRecord)[];
  /** The pipeline's counters (with every answer to a request, else at most every 250 ms). */
  metrics?: Record<string, number>;
  /** The request (`snapshot`, `flush`, `entries`) this answers, after everything before it. */
  id?: number;
  /** The inventory's entries (answer to `entries`). */
  entries?: InventoryEntry[];
}

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  options: AnalysisPipelineOptions;
  /** Build and send flow records (the caller has an `onFlow`). */
  flows: boolean;
  /** The ring: `capacity` records of `RECORD_SLOTS` float64-sized slots (src/pipeline/packet-batch.ts). */
  ring: SharedArrayBuffer;
  capacity: number;
  /** `Ctl` block. */
  ctl: SharedArrayBuffer;
  /** Application metadata, one message (an array, in record order) per publication that has any. */
  meta: MessagePort;
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
  private readonly capacity: number;
  private readonly mask: number;
  /** Unread records beyond which the frame loop waits: room is left for one packet with metadata, and the reserve. */
  private readonly full: number;
  private readonly ring: RecordViews;
  private readonly ctl: Int32Array;
  private readonly metaPort: MessagePort;
  /** Records written (int32 arithmetic: positions wrap; differences stay right while the ring is < 2^31). */
  private w = 0;
  /** The worker's position as last read. */
  private r = 0;
  private published = 0;
  private publishScheduled = false;
  private meta: AppMeta[] = [];
  /** Calls made while even the reserve was full: written once there is room, before any further packet. */
  private pendingControls: [number, number, number][] = [];
  private waiting: Promise<void> | undefined;
  private readonly requests = new Map<number, { resolve: (m: FromWorker) => void; reject: (err: Error) => void }>();
  /** The entries the last `entries` answer brought (given after close). */
  private lastEntries: InventoryEntry[] = [];
  private nextId = 1;
  private lastMetrics: Record<string, number> = {};
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private exited = false;
  /** Times the frame loop waited for the worker (the ring was full). */
  waits = 0;
  private readonly publishTask = (): void => {
    this.publishScheduled = false;
    this.publish();
  };

  constructor(
    threading: Pick<AnalysisThreadsOptions, 'ring_packets'>,
    options: AnalysisPipelineOptions,
    private readonly outputs: PipelineOutputs,
  ) {
    if (options.inventory !== undefined) throw new PipelineWorkerError('a restored inventory object cannot be handed to a worker thread');
    const capacity = threading.ring_packets;
    if (!(capacity >= 2 * CONTROL_RESERVE && (capacity & (capacity - 1)) === 0)) throw new PipelineWorkerError(`ring_packets must be a power of two ≥ ${2 * CONTROL_RESERVE}, not ${capacity}`);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.full = capacity - CONTROL_RESERVE - 1 - MAX_META_RECORDS;
    const ring = new SharedArrayBuffer(capacity * RECORD_SLOTS * 8);
    const ctl = new SharedArrayBuffer(Ctl.SIZE * 4);
    this.ring = recordViews(ring);
    this.ctl = new Int32Array(ctl);
    const channel = new MessageChannel();
    this.metaPort = channel.port1;
    const init: WorkerInit = { options, flows: outputs.onFlow !== undefined, ring, capacity, ctl, meta: channel.port2 };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, transferList: [channel.port2], name: 'wardwatch-analysis' });
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (err) => this.fail(new PipelineWorkerError(err.message, { cause: err })));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (this.closed === undefined) this.fail(new PipelineWorkerError(`exited (code ${code}) while analysing`));
    });
  }

  process(p: DecodedPacket): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pendingControls.length > 0) this.writePendingControls();
    const rec = this.w & this.mask;
    writePacket(this.ring, rec, p);
    let records = 1;
    const meta = p.app_meta;
    if (meta !== undefined) {
      const k = writeMeta(this.ring, this.mask, rec, meta);
      if (k >= 0) {
        setKind(this.ring, rec, RecordKind.PACKET_META);
        records += k;
      } else {
        setKind(this.ring, rec, RecordKind.PACKET_META_PORT);
        this.meta.push(meta);
      }
    }
    this.w = (this.w + records) | 0;
    if (((this.w - this.published) | 0) >= PUBLISH_EVERY) this.publish();
    else if (!this.publishScheduled) {
      // Published as soon as the frame loop yields (the end of a live chunk, a file block).
      this.publishScheduled = true;
      queueMicrotask(this.publishTask);
    }
    // Room for the next packet and its metadata (the reserve kept for calls between packets)?
    if (((this.w - this.r) | 0) <= this.full) return undefined;
    this.r = Atomics.load(this.ctl, Ctl.READ);
    if (((this.w - this.r) | 0) <= this.full) return undefined;
    this.publish();
    return this.roomFor(this.full >> 1);
  }

  noteCaptureLoss(cumulativeDropped: number, cumulativeReceived: number): void {
    this.control(RecordKind.LOSS, cumulativeDropped, cumulativeReceived);
  }

  closeIdle(ms: number): void {
    this.control(RecordKind.IDLE, ms, 0);
  }

  async snapshot(): Promise<Record<string, number>> {
    return (await this.request(RecordKind.SNAPSHOT)).metrics ?? this.lastMetrics;
  }

  async entries(): Promise<InventoryEntry[]> {
    return (await this.request(RecordKind.ENTRIES)).entries ?? this.lastEntries;
  }

  latest(): Record<string, number> {
    return this.lastMetrics;
  }

  async flush(): Promise<void> {
    await this.request(RecordKind.FLUSH);
  }

  /** Ends the worker: a CLOSE record after everything written (so it finishes that first), then it exits. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure && !this.exited) {
        this.control(RecordKind.CLOSE, 0, 0);
        const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 5000)))]);
        clearTimeout(timer);
        if (!late) return;
      }
      await this.worker.terminate();
    })();
    return this.closed;
  }

  /** Makes the records written so far visible to the worker (their metadata first), waking it if it sleeps. */
  private publish(): void {
    if (this.published === this.w) return;
    if (this.meta.length > 0) {
      this.metaPort.postMessage(this.meta);
      this.meta = [];
    }
    this.published = this.w;
    Atomics.store(this.ctl, Ctl.WRITE, this.w);
    if (Atomics.load(this.ctl, Ctl.WORKER_SLEEPING) === 1) Atomics.notify(this.ctl, Ctl.WRITE, 1);
  }

  /** A call between packets, as a record (or held until there is room: the frame loop is waiting for the worker). */
  private control(kind: number, a: number, b: number): void {
    if (this.failure || this.closed) return;
    if (this.pendingControls.length > 0 || !this.writeControl(kind, a, b)) this.pendingControls.push([kind, a, b]);
    this.publish();
  }

  private writeControl(kind: number, a: number, b: number): boolean {
    if (((this.w - this.r) | 0) >= this.capacity) {
      this.r = Atomics.load(this.ctl, Ctl.READ);
      if (((this.w - this.r) | 0) >= this.capacity) return false;
    }
    writeControl(this.ring, this.w & this.mask, kind, a, b);
    this.w = (this.w + 1) | 0;
    return true;
  }

  private writePendingControls(): void {
    while (this.pendingControls.length > 0) {
      const [kind, a, b] = this.pendingControls[0]!;
      if (!this.writeControl(kind, a, b)) return;
      this.pendingControls.shift();
    }
    this.publish();
  }

  private request(kind: number): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    // After close (the run ended): the last counters and entries the worker gave.
    if (this.closed) return Promise.resolve({ metrics: this.lastMetrics, entries: this.lastEntries });
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      this.control(kind, id, 0);
      // Held calls are written as the worker frees room, even if no packet comes (the frame loop may be done).
      if (this.pendingControls.length > 0) void this.roomFor(this.full).catch(() => undefined);
    });
  }

  /** Resolves once at most `used` records are unread (and held calls are written), or rejects when the worker failed. */
  private roomFor(used: number): Promise<void> {
    this.waits++;
    if (this.waiting === undefined) {
      const waiting = this.waitForRoom(used);
      this.waiting = waiting;
      void waiting.then(
        () => (this.waiting = undefined),
        () => (this.waiting = undefined),
      );
    }
    return this.waiting;
  }

  private async waitForRoom(used: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const r = Atomics.load(this.ctl, Ctl.READ);
      this.r = r;
      if (this.pendingControls.length > 0) this.writePendingControls();
      if (((this.w - r) | 0) <= used && this.pendingControls.length === 0) return;
      Atomics.store(this.ctl, Ctl.WAKE_AT, (this.w - used) | 0);
      Atomics.store(this.ctl, Ctl.WRITER_WAITING, 1);
      // Woken by the worker once READ reached WAKE_AT; the timeout re-checks a failure.
      const wait = Atomics.waitAsync(this.ctl, Ctl.READ, r, 100);
      if (wait.async) await wait.value;
      Atomics.store(this.ctl, Ctl.WRITER_WAITING, 0);
    }
  }

  private receive(m: FromWorker): void {
    if (m.metrics !== undefined) this.lastMetrics = m.metrics;
    if (m.entries !== undefined) this.lastEntries = m.entries;
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
      r?.resolve(m);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const r of this.requests.values()) r.reject(err);
    this.requests.clear();
    void this.close();
  }
}
