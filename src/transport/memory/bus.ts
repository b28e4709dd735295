/**
 * The embedded default: an in-process bus with the same contract as Kafka (ordered per device, at-least-once,
 * acknowledged after the handler). Bounded: when `max_buffered` windows wait, `enqueue` counts the excess as dropped
 * and says so in the log — in one process that only happens when the detector cannot keep up at all.
 */
import type { FeatureWindow } from '../../records/features.js';
import { componentLogger } from '../../log.js';
import type {
  WindowBatchHandler,
  WindowConsumer,
  WindowConsumerStats,
  WindowProducer,
  WindowProducerStats,
} from '../bus.js';

export interface MemoryBusOptions {
  /** Windows handed to the handler at once. */
  batch_max_windows: number;
  /** Windows that may wait; beyond this, windows are dropped (counted, logged). */
  max_buffered: number;
  /**
   * The handler is called once this many windows wait (or at `flush`). 1 = at every enqueue (live and paced replay:
   * lowest latency); a replay at full speed batches more, so the detector scores fewer, larger batches.
   */
  min_batch_windows: number;
}

export const DEFAULT_MEMORY_BUS: MemoryBusOptions = { batch_max_windows: 512, max_buffered: 1_000_000, min_batch_windows: 1 };

export class MemoryBus implements WindowProducer, WindowConsumer {
  private readonly log = componentLogger('memory-bus');
  private readonly options: MemoryBusOptions;
  private queue: FeatureWindow[] = [];
  private head = 0;
  private handler: WindowBatchHandler | undefined;
  private draining: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly p: WindowProducerStats = { enqueued: 0, produced: 0, buffered: 0, spooled: 0, spool_pending: 0, dropped: 0, send_retries: 0 };
  private readonly c: WindowConsumerStats = { received: 0, processed: 0, dead_lettered: 0, committed_batches: 0, handler_errors: 0 };

  constructor(options: Partial<MemoryBusOptions> = {}) {
    this.options = { ...DEFAULT_MEMORY_BUS, ...options };
  }

  enqueue(windows: readonly FeatureWindow[]): void {
    for (const w of windows) {
      if (this.queue.length - this.head >= this.options.max_buffered) {
        this.p.dropped++;
        if (this.p.dropped === 1 || this.p.dropped % 10_000 === 0) {
          this.log.error({ dropped: this.p.dropped, max_buffered: this.options.max_buffered }, 'memory bus full: dropping feature windows');
        }
        continue;
      }
      this.queue.push(w);
      this.p.enqueued++;
    }
    if (this.queue.length - this.head >= this.options.min_batch_windows) this.kick();
  }

  async start(handler: WindowBatchHandler, onAssign?: (partitions: number[]) => void | Promise<void>): Promise<void> {
    this.handler = handler;
    await onAssign?.([0]);
    this.kick();
  }

  async flush(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length - this.head > 0 || this.draining) {
      if (!this.handler) throw new Error('memory bus: flush() before a consumer started');
      if (Date.now() > deadline) throw new Error(`memory bus: ${this.queue.length - this.head} windows still pending after ${timeoutMs} ms`);
      if (this.draining) await this.draining;
      if (this.lastError !== undefined) {
        const err = this.lastError;
        this.lastError = undefined;
        throw err;
      }
      if (!this.draining && this.queue.length - this.head > 0) this.kick(true);
      await new Promise((r) => setImmediate(r));
    }
  }

  async close(timeoutMs = 60_000): Promise<void> {
    if (this.handler) await this.flush(timeoutMs);
  }

  async stop(): Promise<void> {
    await this.draining;
    this.handler = undefined;
  }

  stats(): WindowProducerStats & WindowConsumerStats {
    return { ...this.p, buffered: this.queue.length - this.head, ...this.c };
  }

  private kick(all = false): void {
    if (this.draining || !this.handler) return;
    this.draining = this.drain(all).finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(all: boolean): Promise<void> {
    const handler = this.handler;
    const min = all ? 1 : this.options.min_batch_windows;
    while (handler && this.queue.length - this.head >= min) {
      const batch = this.queue.slice(this.head, this.head + this.options.batch_max_windows);
      this.c.received += batch.length;
      try {
        const receipt = await handler(batch, { partition: 0, heartbeat: () => Promise.resolve() });
        if (receipt) await receipt.durable;
      } catch (err) {
        // Not acknowledged: the batch stays at the head and is retried by the next flush/enqueue.
        this.c.handler_errors++;
        this.c.received -= batch.length;
        this.lastError = err instanceof Error ? err : new Error(String(err));
        this.log.error({ err }, 'window handler failed; batch will be redelivered');
        return;
      }
      this.head += batch.length;
      this.c.processed += batch.length;
      this.c.committed_batches++;
      this.p.produced += batch.length;
      if (this.head > 65_536 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
  }
}
