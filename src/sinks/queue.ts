/**
 * The detector's sinks, off the consumer loop. A scored batch is accepted into a bounded queue and the consumer goes
 * on fetching; the batch counts as durable (and its offsets may be committed) only once the alerts file, InfluxDB and
 * syslog have it, the webhooks delivered or dead-lettered its notices, and `after` (the detector state write) is
 * done. Batches are written in the order accepted; a slow or hanging webhook endpoint delays only the commits, never
 * the alerts file or InfluxDB, and never the consumer's heartbeats.
 *
 * Batches that queued up behind a write (InfluxDB was slow or away, a backlog is being caught up) are written together:
 * one write to the alerts file, InfluxDB and syslog for up to `max_coalesce_windows` windows, then each batch's `after`
 * in acceptance order, each batch durable as soon as its own `after` is done. Commit order and de-duplication do not
 * change (the sinks see the same records, in the same order, in fewer writes).
 *
 * Bounded: at most `max_pending_windows` windows accepted and not yet durable. When full, `accept` waits (the
 * consumer stops fetching: back-pressure), calling `heartbeat` so the group keeps the member; nothing is dropped.
 * Failures: a retriable one (InfluxDB or Kafka unreachable, a file system error) is retried with backoff until it
 * works; a non-retriable `WardwatchError` rejects the batch's `durable` (the consumer treats that as fatal: the batch
 * is not committed, a restart redelivers it).
 */
import type { Alert, WindowScore } from '../records/alert.js';
import type { FeatureWindow } from '../records/features.js';
import { describeError } from '../errors.js';
import { componentLogger } from '../log.js';
import { isRetriable, retry } from '../retry.js';
import type { SinkSet } from './fanout.js';

export interface SinkQueueOptions {
  /** Windows accepted and not yet durable in every sink; beyond this `accept` waits (back-pressure). */
  max_pending_windows: number;
  /** Backoff of a failed write: from `retry_initial_ms`, doubling, up to `retry_max_ms`. */
  retry_initial_ms: number;
  retry_max_ms: number;
  /** Most windows written to the sinks in one write when batches queued up (1: one batch per write, as before). */
  max_coalesce_windows: number;
}

export const DEFAULT_SINK_QUEUE: SinkQueueOptions = { max_pending_windows: 50_000, retry_initial_ms: 200, retry_max_ms: 5000, max_coalesce_windows: 5000 };

export interface SinkBatch {
  windows: readonly FeatureWindow[];
  scores: readonly WindowScore[];
  alerts: readonly Alert[];
  /** Called as soon as the batch's webhook incidents are decided (in acceptance order), before any later batch's. */
  decided?: () => void;
  /** Runs once the sinks hold the batch (alerts file, InfluxDB), before it counts as durable; retried like them. */
  after?: () => Promise<void>;
}

export interface SinkQueueStats {
  /** Batches / windows accepted and not yet durable (gauges). */
  pending_batches: number;
  pending_windows: number;
  /** Times `accept` had to wait for room, and the total time it waited. */
  backpressure_waits: number;
  backpressure_ms: number;
  /** 1 while `accept` is waiting for room (gauge). */
  backpressure: number;
  /** Failed writes that were retried. */
  write_retries: number;
  /** Writes to the sinks, and the batches they held (batches > writes: batches were coalesced). */
  writes: number;
  batches_written: number;
}

interface Queued {
  batch: SinkBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SinkQueue {
  private readonly log = componentLogger('sink-queue');
  private readonly o: SinkQueueOptions;
  /** Accepted batches not yet handed to a write, in acceptance order; one writer loop at a time (`writing`). */
  private readonly queued: Queued[] = [];
  private writing = false;
  private pendingWindows = 0;
  private pendingBatches = 0;
  private closed = false;
  private roomWaiters: (() => void)[] = [];
  private readonly s = { backpressure_waits: 0, backpressure_ms: 0, write_retries: 0, writes: 0, batches_written: 0 };
  private waitingSince = 0;
  private failingSince = 0;

  constructor(
    private readonly sinks: SinkSet,
    options: Partial<SinkQueueOptions> = {},
    private readonly onStored: (batch: SinkBatch) => void = () => undefined,
  ) {
    this.o = { ...DEFAULT_SINK_QUEUE, ...options };
  }

  /**
   * Waits for room (calling `heartbeat` every `heartbeat_ms` meanwhile; `cancelled()` true ends the wait with
   * `undefined`: nothing accepted), then queues the batch. `durable` resolves once every sink has it.
   */
  async accept(batch: SinkBatch, wait: { heartbeat?: () => Promise<void>; heartbeat_ms?: number; cancelled?: () => boolean } = {}): Promise<{ durable: Promise<void> } | undefined> {
    const n = batch.windows.length;
    if (this.closed) throw new Error('sink queue: accept after close()');
    if (this.pendingBatches > 0 && this.pendingWindows + n > this.o.max_pending_windows) {
      const t0 = Date.now();
      this.s.backpressure_waits++;
      if (this.waitingSince === 0) {
        this.waitingSince = t0;
        this.log.warn({ pending_windows: this.pendingWindows, pending_batches: this.pendingBatches, max_pending_windows: this.o.max_pending_windows }, 'sinks behind: queue full, consumer paused (back-pressure)');
      }
      let gaveUp = true;
      try {
        while (this.pendingBatches > 0 && this.pendingWindows + n > this.o.max_pending_windows) {
          if (wait.cancelled?.() || this.closed) return undefined;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, wait.heartbeat_ms ?? 1000);
            this.roomWaiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          });
          await wait.heartbeat?.();
        }
        gaveUp = false;
      } finally {
        this.s.backpressure_ms += Date.now() - t0;
        // Cancelled, or the heartbeat failed (a rebalance): the batch is fetched again; the next wait logs anew.
        if (gaveUp) this.waitingSince = 0;
      }
      this.log.warn({ waited_ms: Date.now() - this.waitingSince, pending_windows: this.pendingWindows }, 'sinks caught up: consumer resumed');
      this.waitingSince = 0;
    }
    this.pendingWindows += n;
    this.pendingBatches++;
    // Webhook incidents are decided now, in acceptance order; their deliveries run behind, in the same order.
    const notified = this.sinks.queueNotices(batch.scores, batch.alerts);
    batch.decided?.();
    const stored = new Promise<void>((resolve, reject) => this.queued.push({ batch, resolve, reject }));
    void this.writeQueued();
    const durable = Promise.all([stored, notified]).then(
      () => this.release(n),
      (err: unknown) => {
        this.release(n);
        throw err;
      },
    );
    return { durable };
  }

  private release(n: number): void {
    this.pendingWindows -= n;
    this.pendingBatches--;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /**
   * The writer: takes the batches queued so far (up to `max_coalesce_windows` windows, at least one batch), writes them
   * to the sinks in one write, then runs each one's `after` in order; again until nothing is queued.
   */
  private async writeQueued(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queued.length > 0) {
        const group: Queued[] = [this.queued.shift()!];
        let windows = group[0]!.batch.windows.length;
        while (this.queued.length > 0 && windows + this.queued[0]!.batch.windows.length <= this.o.max_coalesce_windows) {
          const next = this.queued.shift()!;
          windows += next.batch.windows.length;
          group.push(next);
        }
        await this.store(group);
      }
    } finally {
      this.writing = false;
    }
  }

  private async store(group: Queued[]): Promise<void> {
    const batches = group.map((q) => q.batch);
    try {
      const one = batches.length === 1 ? batches[0]! : { windows: batches.flatMap((b) => b.windows), scores: batches.flatMap((b) => b.scores), alerts: batches.flatMap((b) => b.alerts) };
      await this.retrying('write the batch to the sinks', () => this.sinks.storeBatch(one.scores, one.windows, one.alerts));
      this.s.writes++;
      this.s.batches_written += batches.length;
    } catch (err) {
      for (const q of group) q.reject(err);
      return;
    }
    for (const q of group) this.onStored(q.batch);
    for (const [i, q] of group.entries()) {
      try {
        if (q.batch.after) await this.retrying('write the detector state', q.batch.after);
        q.resolve();
      } catch (err) {
        // Not durable: this batch and the ones after it (their state must not be written before this one's).
        for (const rest of group.slice(i)) rest.reject(err);
        return;
      }
    }
  }

  private async retrying(what: string, fn: () => Promise<void>): Promise<void> {
    // Until it works: a non-retriable error (or a programming error), or a closed queue, ends it (see src/retry.ts).
    await retry(fn, { retries: Infinity, initial_delay_ms: this.o.retry_initial_ms, max_delay_ms: this.o.retry_max_ms, multiplier: 2, jitter: 0 }, {
      retriable: (err) => isRetriable(err) && !this.closed,
      onRetry: (err) => {
        this.s.write_retries++;
        if (!this.failingSince) {
          this.failingSince = Date.now();
          this.log.error({ err: describeError(err), pending_batches: this.pendingBatches }, `cannot ${what}: retrying until it works (batches are kept, not committed)`);
        }
      },
    });
    if (this.failingSince) {
      this.log.warn({ outage_ms: Date.now() - this.failingSince, pending_batches: this.pendingBatches }, 'sink writes work again');
      this.failingSince = 0;
    }
  }

  /** Resolves when every accepted batch is durable, or false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingBatches > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(100, deadline - Date.now()));
        this.roomWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Stops retrying and accepting (a waiting `accept` returns nothing accepted). */
  close(): void {
    this.closed = true;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  stats(): SinkQueueStats {
    return { pending_batches: this.pendingBatches, pending_windows: this.pendingWindows, backpressure: this.waitingSince ? 1 : 0, ...this.s };
  }
}
