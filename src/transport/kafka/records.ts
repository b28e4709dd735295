/**
 * A bounded, batched publisher for records that are not feature windows (ended flow records): `offer` never blocks
 * the sensor; a sender loop sends what is queued every `linger_ms` (acks=all, gzip, idempotent). When the broker is
 * away longer than the queue covers, the oldest records stay and new ones are dropped — counted and logged (flow
 * records are an optional copy for other tools; the feature windows have the disk spool, these do not).
 */
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { componentLogger } from '../../log.js';
import { RetryAbortedError, retry, settledWithin, sleep, type RetryOptions } from '../../retry.js';
import { FORMAT_HEADER, type EncodedMessage } from '../codec.js';
import { kafkaFailure } from './client.js';

export interface RecordPublisherOptions {
  topic: string;
  /** Records that may wait; beyond, new records are dropped (counted). */
  max_queued: number;
  /** Records per produce request. */
  batch_max: number;
  linger_ms: number;
}

const RECORD_SEND_RETRY: RetryOptions = { retries: Infinity, initial_delay_ms: 200, max_delay_ms: 5000, multiplier: 2, jitter: 0 };

export interface RecordPublisherStats {
  offered: number;
  sent: number;
  dropped: number;
  send_errors: number;
}

export class KafkaRecordPublisher {
  private readonly log = componentLogger('record-publisher');
  private readonly producer: Producer;
  private queue: EncodedMessage[] = [];
  private connected = false;
  private closing = false;
  private inFlight = 0;
  private readonly loop: Promise<void>;
  private lastDropLog = 0;
  private readonly s: RecordPublisherStats = { offered: 0, sent: 0, dropped: 0, send_errors: 0 };
  /** Ends the backoff of a failing send at close(). */
  private readonly stopRetrying = new AbortController();

  constructor(
    kafka: Kafka,
    private readonly brokers: string[],
    private readonly o: RecordPublisherOptions,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.loop = this.run().catch((err: unknown) => {
      // A bug: the records stay queued (then dropped, counted) rather than crash the sensor.
      this.log.error({ err, queued: this.queue.length }, 'record publisher stopped');
    });
  }

  offer(m: EncodedMessage): void {
    this.s.offered++;
    if (this.queue.length >= this.o.max_queued) {
      this.s.dropped++;
      const now = Date.now();
      if (now - this.lastDropLog >= 1000) {
        this.lastDropLog = now;
        this.log.error({ topic: this.o.topic, dropped_total: this.s.dropped, max_queued: this.o.max_queued }, `DROPPED records for ${this.o.topic}: queue full`);
      }
      return;
    }
    this.queue.push(m);
  }

  stats(): RecordPublisherStats & { queued: number } {
    return { ...this.s, queued: this.queue.length };
  }

  /** Resolves when everything offered so far is sent, or rejects after `timeoutMs`. */
  async flush(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.inFlight > 0) {
      if (Date.now() > deadline) throw kafkaFailure(this.brokers, `flush to ${this.o.topic}`, new Error(`${this.queue.length} records still unsent after ${timeoutMs} ms`));
      await sleep(10);
    }
  }

  async close(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.flush(Math.max(0, timeoutMs - 300)).catch((err: unknown) => this.log.error({ err, unsent: this.queue.length }, 'closing with unsent records'));
    this.closing = true;
    this.stopRetrying.abort();
    await settledWithin(this.loop, deadline - Date.now());
    if (this.connected) await settledWithin(this.producer.disconnect(), Math.max(200, deadline - Date.now()));
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      if (this.queue.length === 0) {
        await sleep(this.o.linger_ms);
        continue;
      }
      try {
        // Any broker failure is retried (src/retry.ts: 200 ms doubling to 5 s) until it works or close().
        await retry(() => this.sendHead(), RECORD_SEND_RETRY, {
          signal: this.stopRetrying.signal,
          retriable: () => true,
          onRetry: (err) => {
            this.s.send_errors++;
            if (this.s.send_errors === 1 || this.s.send_errors % 100 === 0) this.log.error({ err: kafkaFailure(this.brokers, `produce to ${this.o.topic}`, err) }, 'record send failed: retrying');
          },
        });
      } catch (err) {
        if (err instanceof RetryAbortedError) return;
        throw err;
      }
    }
  }

  private async sendHead(): Promise<void> {
    const batch = this.queue.slice(0, this.o.batch_max);
    this.inFlight = batch.length;
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.producer.send({
        topic: this.o.topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: batch.map((m) => ({ key: m.key, value: m.value, headers: { [FORMAT_HEADER]: m.format } })),
      });
      this.queue.splice(0, batch.length);
      this.s.sent += batch.length;
    } finally {
      this.inFlight = 0;
    }
  }
}
