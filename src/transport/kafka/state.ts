/**
 * Per-device detector state that follows the partition. Detectors keep K-of-N scoring state and open incidents per
 * device; when a partition moves to another detector (scale-out, or a detector died), the new owner must continue
 * from the same state or it would alert differently than a single detector would.
 *
 * The state lives in a compacted topic keyed by device id (`<prefix>detector-state`), like a Kafka Streams changelog:
 * a detector writes the state of the devices a batch touched BEFORE it commits the batch's offsets, and on assignment
 * reads the topic to its end and keeps the entries of the devices it now owns. Values are opaque bytes to this module.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { componentLogger } from '../../log.js';
import { settledWithin } from '../../retry.js';
import { kafkaFailure } from './client.js';

export interface StateStoreOptions {
  topic: string;
  partitions: number;
  replication_factor: number;
}

export class KafkaStateStore {
  private readonly log = componentLogger('detector-state');
  private producer: Producer;
  private connected = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: string[],
    private readonly o: StateStoreOptions,
  ) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /** Creates the compacted topic when missing. */
  async ensureTopic(admin: Admin): Promise<void> {
    const existing = await admin.listTopics();
    if (existing.includes(this.o.topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: this.o.topic,
          numPartitions: this.o.partitions,
          replicationFactor: this.o.replication_factor,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.compaction.lag.ms', value: '60000' },
          ],
        },
      ],
    });
  }

  /**
   * After a failed send the next attempt uses a new producer: a connection that broke under kafkajs (the process was
   * frozen, the broker restarted) and an idempotent producer's sequence numbers out of step can hold the old one's
   * sends until the request timeout, or for good.
   */
  private async reconnectNext(): Promise<void> {
    const old = this.producer;
    const wasConnected = this.connected;
    this.producer = this.newProducer();
    this.connected = false;
    if (wasConnected) await settledWithin(old.disconnect(), 2000);
  }

  /** Writes the latest state of each key (acks=all). `null` deletes a key (tombstone). */
  async put(entries: ReadonlyMap<string, Buffer | null>): Promise<void> {
    if (entries.size === 0) return;
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.producer.send({ topic: this.o.topic, acks: -1, messages: [...entries].map(([key, value]) => ({ key, value })) });
    } catch (err) {
      await this.reconnectNext();
      throw kafkaFailure(this.brokers, `write detector state to ${this.o.topic}`, err);
    }
  }

  /**
   * Reads the whole topic up to its current end and returns the latest value per key (tombstones removed), keeping
   * only keys `keep` accepts. Uses a group-less read from the earliest offsets up to the high watermarks.
   */
  async load(keep: (key: string) => boolean = () => true): Promise<Map<string, Buffer>> {
    const admin = this.kafka.admin();
    await admin.connect();
    const state = new Map<string, Buffer>();
    try {
      const offsets = await admin.fetchTopicOffsets(this.o.topic);
      const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
      const starts = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
      const pending = new Set(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => o.partition));
      if (pending.size === 0) return state;
      const consumer = this.kafka.consumer({ groupId: `ww-state-reader-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= (ends.get(batch.partition) ?? 0n)) continue;
              const key = m.key?.toString() ?? '';
              if (!keep(key)) continue;
              if (m.value === null) state.delete(key);
              else state.set(key, m.value);
            }
            if (BigInt(batch.lastOffset()) + 1n >= (ends.get(batch.partition) ?? 0n)) pending.delete(batch.partition);
            if (pending.size === 0) resolve();
            return Promise.resolve();
          },
        });
        for (const [p, start] of starts) if (pending.has(p)) consumer.seek({ topic: this.o.topic, partition: p, offset: start.toString() });
        await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('timed out reading detector state')), 60_000))]);
      } finally {
        await consumer.disconnect();
      }
      this.log.info({ topic: this.o.topic, keys: state.size }, 'detector state loaded');
      return state;
    } catch (err) {
      throw kafkaFailure(this.brokers, `read detector state from ${this.o.topic}`, err);
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
