/**
 * The bus between sensors and detectors. Two implementations share this interface:
 *  - `kafka/`: many sensors, many detectors, one broker cluster (feature windows keyed by device id);
 *  - `memory/`: the embedded default, one process, no broker.
 *
 * Delivery contract (both): windows of one device arrive in the order they were sent; a window is delivered at
 * least once; the consumer acknowledges a batch only after its handler resolved (i.e. after the resulting alerts and
 * metrics were written), so a crash redelivers rather than loses. Handlers must therefore be idempotent.
 */
import type { FeatureWindow } from '../records/features.js';

export interface WindowProducerStats {
  /** Windows accepted from the sensor. */
  enqueued: number;
  /** Windows acknowledged by the bus (Kafka: acks=all). */
  produced: number;
  /** Windows waiting in memory now. */
  buffered: number;
  /** Windows written to the on-disk spool since start / waiting in it now. */
  spooled: number;
  spool_pending: number;
  /** Windows lost: only when the spool is full (logged as an error every time). */
  dropped: number;
  /** Failed send attempts that were retried. */
  send_retries: number;
}

export interface WindowProducer {
  /** Accepts windows for delivery; never blocks the sensor (buffers, then spools, when the bus is down). */
  enqueue(windows: readonly FeatureWindow[]): void;
  /** Resolves when everything enqueued so far is delivered, or rejects after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes (bounded by `timeoutMs`) and releases connections; what is left stays in the spool for the next start. */
  close(timeoutMs?: number): Promise<void>;
  stats(): WindowProducerStats;
}

export interface WindowBatchContext {
  /** Partition (Kafka) or 0 (memory). */
  partition: number;
  /** Calls the broker's heartbeat during long processing. */
  heartbeat(): Promise<void>;
}

/**
 * What a handler may return instead of finishing its writes before it resolves: `durable` settles once everything the
 * batch produced is durable in the sinks (or dead-lettered). The consumer then goes on fetching at once and
 * acknowledges the batch only when `durable` resolves (Kafka: offsets committed in partition order); when it rejects,
 * the batch is redelivered. This keeps a slow sink from holding the consumer loop (and its group membership).
 */
export interface BatchReceipt {
  durable: Promise<void>;
}

export type WindowBatchHandler = (windows: FeatureWindow[], ctx: WindowBatchContext) => Promise<void | BatchReceipt>;

export interface WindowConsumerStats {
  /** Messages received from the bus. */
  received: number;
  /** Windows handed to the handler. */
  processed: number;
  /** Undecodable messages sent to the dead-letter topic. */
  dead_lettered: number;
  /** Batches acknowledged (offsets committed). */
  committed_batches: number;
  /** Handler failures (the batch is not acknowledged and will be redelivered). */
  handler_errors: number;
}

export interface WindowConsumer {
  /** Starts delivering batches to `handler`. `onAssign` is told which partitions this member now owns. */
  start(handler: WindowBatchHandler, onAssign?: (partitions: number[]) => void | Promise<void>): Promise<void>;
  /** Stops after the batch in progress; commits what was processed. */
  stop(): Promise<void>;
  stats(): WindowConsumerStats;
}
