/**
 * Kafka → detector. A consumer group member that hands decoded feature windows to a handler and commits a
 * batch's offsets only after the handler resolved (the handler writes alerts and metrics to the sinks first):
 * at-least-once. Messages are window batches (`ww-window-batch/1`) or single windows (v1, older sensors); both are
 * read. Undecodable messages (a batch counts as one) go to the dead-letter topic whole, with the reason in a header, and are counted;
 * they never stop the consumer. A handler failure leaves the batch uncommitted and it is consumed again.
 */
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { FeatureWindow } from '../../records/features.js';
import { componentLogger } from '../../log.js';
import type { WindowBatchHandler, WindowConsumer, WindowConsumerStats } from '../bus.js';
import { FORMAT_HEADER, decodeWindows, PoisonMessageError } from '../codec.js';

export interface WindowConsumerOptions {
  topic: string;
  group_id: string;
  dead_letter_topic: string;
  /** Broker-side session timeout: a member silent this long is removed from the group. */
  session_timeout_ms: number;
  heartbeat_interval_ms: number;
  /** Upper bound on bytes fetched per partition per request (bounds a batch's size). */
  max_bytes_per_partition: number;
  from_beginning: boolean;
}

export const DEFAULT_WINDOW_CONSUMER: Omit<WindowConsumerOptions, 'topic' | 'group_id' | 'dead_letter_topic'> = {
  session_timeout_ms: 30_000,
  heartbeat_interval_ms: 3000,
  max_bytes_per_partition: 1024 * 1024,
  from_beginning: true,
};

function headerString(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

export class KafkaWindowConsumer implements WindowConsumer {
  private readonly log = componentLogger('kafka-consumer');
  private readonly o: WindowConsumerOptions;
  private readonly consumer: Consumer;
  private readonly dlq: Producer;
  private readonly s: WindowConsumerStats = { received: 0, processed: 0, dead_lettered: 0, committed_batches: 0, handler_errors: 0 };

  constructor(kafka: Kafka, options: Partial<WindowConsumerOptions> & Pick<WindowConsumerOptions, 'topic' | 'group_id' | 'dead_letter_topic'>) {
    this.o = { ...DEFAULT_WINDOW_CONSUMER, ...options };
    this.consumer = kafka.consumer({
      groupId: this.o.group_id,
      sessionTimeout: this.o.session_timeout_ms,
      heartbeatInterval: this.o.heartbeat_interval_ms,
      maxBytesPerPartition: this.o.max_bytes_per_partition,
      allowAutoTopicCreation: false,
    });
    this.dlq = kafka.producer({ allowAutoTopicCreation: false });
  }

  async start(handler: WindowBatchHandler, onAssign?: (partitions: number[]) => void | Promise<void>): Promise<void> {
    await this.dlq.connect();
    await this.consumer.connect();
    // Batches wait until the assignment callback finished (e.g. per-device state restored for new partitions).
    let assigned: Promise<void> = Promise.resolve();
    if (onAssign) {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
        const partitions = e.payload.memberAssignment[this.o.topic] ?? [];
        assigned = Promise.resolve(onAssign([...partitions].sort((a, b) => a - b))).catch((err: unknown) => {
          this.log.error({ err }, 'onAssign failed');
          throw err;
        });
      });
    }
    await this.consumer.subscribe({ topic: this.o.topic, fromBeginning: this.o.from_beginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const heartbeat = (): Promise<void> => payload.heartbeat();
        await assigned;
        if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
        const windows: FeatureWindow[] = [];
        const poison: { key: Buffer | null; value: Buffer | null; reason: string; offset: string }[] = [];
        for (const m of batch.messages) {
          this.s.received++;
          try {
            for (const w of decodeWindows(m.value, headerString(m.headers?.[FORMAT_HEADER]))) windows.push(w);
          } catch (err) {
            if (!(err instanceof PoisonMessageError)) throw err;
            poison.push({ key: m.key, value: m.value, reason: err.message, offset: m.offset });
          }
        }
        try {
          if (windows.length) await handler(windows, { partition: batch.partition, heartbeat });
        } catch (err) {
          this.s.handler_errors++;
          this.s.received -= batch.messages.length;
          this.log.error({ err, partition: batch.partition, first_offset: batch.firstOffset() }, 'window handler failed: batch not committed, will be redelivered');
          throw err; // kafkajs re-seeks to the last committed offset and retries
        }
        if (poison.length) {
          await this.dlq.send({
            topic: this.o.dead_letter_topic,
            acks: -1,
            messages: poison.map((p) => ({
              key: p.key,
              value: p.value,
              headers: {
                'ww-dlq-reason': p.reason,
                'ww-dlq-source': `${batch.topic}/${batch.partition}@${p.offset}`,
              },
            })),
          });
          this.s.dead_lettered += poison.length;
          this.log.warn({ count: poison.length, partition: batch.partition, reason: poison[0]?.reason }, 'undecodable messages sent to the dead-letter topic');
        }
        this.s.processed += windows.length;
        const last = batch.lastOffset();
        payload.resolveOffset(last);
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        this.s.committed_batches++;
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.dlq.disconnect();
  }

  stats(): WindowConsumerStats {
    return { ...this.s };
  }
}
