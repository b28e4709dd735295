/**
 * Sensor → Kafka. Feature windows are encoded (binary by default) one by one as they arrive; the sender loop then
 * packs the windows of one partition into `ww-window-batch/1` messages (up to `message_max_windows` windows /
 * `message_max_bytes` bytes each) and sends them with an idempotent producer, acks=all and one request in flight.
 * A window's partition is murmur2(device id) mod partitions — kafkajs' DefaultPartitioner, the Java client's — so
 * one device's windows stay on one partition, in order, exactly as with one message per window keyed by device id.
 * A batch message's key is the device id of its first window (see docs/kafka.md). `message_max_windows: 1` sends
 * v1 single-window messages keyed by device id, for consumers older than the batch format.
 *
 * When the broker is unreachable nothing is lost: windows wait in memory up to `memory_buffer_bytes`, then go to the
 * on-disk spool (`spool_dir`, up to `spool_max_bytes`); everything is delivered, oldest first, when the broker is
 * back. Only a full spool drops windows, and each drop is counted and logged as an error.
 */
import { CompressionTypes, Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import type { FeatureWindow } from '../../records/features.js';
import { componentLogger } from '../../log.js';
import { RetryAbortedError, isProgrammingError, retry, settledWithin, sleep } from '../../retry.js';
import type { WindowProducer, WindowProducerStats } from '../bus.js';
import { ServiceError, type WardwatchError } from '../../errors.js';
import { BATCH_ENTRY_OVERHEAD, BATCH_HEADER_BYTES, BATCH_MAX_WINDOWS, FORMAT_HEADER, WINDOW_BATCH, encodeWindow, encodeWindowBatch, type EncodedMessage } from '../codec.js';
import { DiskSpool } from './spool.js';
import { DEFAULT_WINDOW_PRODUCER, type WindowProducerOptions } from './config.js';
import { describeBrokers, kafkaFailure, setGzipLevel } from './client.js';

/**
 * Failures no retry can fix: wrong credentials, an untrusted certificate, an ACL refusing the client. The producer
 * stops (`failure`) rather than retrying them forever.
 */
function isFatal(f: ServiceError): boolean {
  if (f.code === 'WW_KAFKA_AUTH' || f.code === 'WW_KAFKA_TLS') return true;
  let e: unknown = f.cause;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    const x = e as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof x.type === 'string' && /AUTHORIZATION_FAILED$/.test(x.type)) return true;
    e = x.originalError ?? x.cause;
  }
  return false;
}

/** The producer's counters: the bus's, plus the broker outages it saw. */
export interface KafkaWindowProducerStats extends WindowProducerStats {
  /** Outages seen (a send failed, or waited longer than `stall_ms`); `broker_unreachable` is 1 during one. */
  outages: number;
  broker_unreachable: number;
  /** 1 while windows are going to the disk spool (gauge). */
  spooling: number;
}

/** Errors retrying cannot fix: the broker answered, and said no to this content (size, corrupt record, ...). */
function isRefusedForGood(err: unknown): boolean {
  const e = err as { retriable?: boolean; type?: string; cause?: { type?: string; retriable?: boolean } } | undefined;
  const type = e?.type ?? e?.cause?.type;
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE' || type === 'CORRUPT_MESSAGE' || type === 'INVALID_RECORD';
}

export { DEFAULT_WINDOW_PRODUCER, type WindowProducerOptions } from './config.js';

export class KafkaWindowProducer implements WindowProducer {
  private readonly log = componentLogger('kafka-producer');
  private readonly o: WindowProducerOptions;
  private readonly producer: Producer;
  private readonly spool: DiskSpool | undefined;
  private mem: EncodedMessage[] = [];
  private memHead = 0;
  private memBytes = 0;
  private connected = false;
  private closing = false;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private outageSince = 0;
  /** Set by close() when it gave up on the broker and moved the buffer to the spool: late sends are not acknowledged. */
  private abandoned = false;
  /** Partitions of the topic (fetched at connect) and each device's partition. */
  private partitions = 0;
  private partitionMetadata: PartitionMetadata[] = [];
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitionOfKey = new Map<string, number>();
  /** Kafka messages sent (batch messages count once). */
  messagesSent = 0;
  private readonly s: WindowProducerStats = { enqueued: 0, produced: 0, buffered: 0, spooled: 0, spool_pending: 0, dropped: 0, send_retries: 0 };
  private outages = 0;
  private spoolingSince = 0;
  /** Ends the backoff of a failing send at close(). */
  private readonly stopRetrying = new AbortController();
  /** Set once the producer stopped for good (see `isFatal`); what it holds stays buffered, then spooled at close. */
  failure: WardwatchError | undefined;
  private readonly failureListeners: ((err: WardwatchError) => void)[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: string[],
    options: Partial<WindowProducerOptions> & { topic: string },
  ) {
    this.o = { ...DEFAULT_WINDOW_PRODUCER, ...options };
    setGzipLevel(this.o.gzip_level);
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.spool = this.o.spool_dir ? new DiskSpool({ dir: this.o.spool_dir, max_bytes: this.o.spool_max_bytes, segment_bytes: 16 * 1024 * 1024 }) : undefined;
    if (this.spool && this.spool.pending > 0) {
      this.log.warn({ pending: this.spool.pending, spool_dir: this.o.spool_dir }, 'spool holds windows from a previous run: sending them first');
    }
    this.loop = this.run().catch((err: unknown) => {
      // A bug or an unexpected error (e.g. the spool's disk): the producer must not stop working silently.
      this.fail(err instanceof ServiceError ? err : new ServiceError(describeBrokers(this.brokers), `window producer stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err, retriable: false, code: 'WW_KAFKA_PRODUCER_FAILED' }));
    });
  }

  private fail(err: WardwatchError): void {
    if (this.failure) return;
    this.failure = err;
    this.log.error({ code: err.code, reason: err.message, buffered: this.mem.length - this.memHead, spool_pending: this.spool?.pending ?? 0 }, 'producer stopped for good');
    for (const l of this.failureListeners.splice(0)) l(err);
  }

  /** Called once, at once, when the producer stops for good (see `failure`). */
  onFailure(listener: (err: WardwatchError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  enqueue(windows: readonly FeatureWindow[]): void {
    if (this.closing) throw new Error('kafka producer: enqueue after close()');
    const toSpool: EncodedMessage[] = [];
    for (const w of windows) {
      this.s.enqueued++;
      let m: EncodedMessage;
      try {
        m = encodeWindow(w, this.o.codec);
      } catch (err) {
        this.drop(1, `window of ${w.device_id} cannot be encoded: ${(err as Error).message}`);
        continue;
      }
      const spooling = this.spool !== undefined && (this.spool.pending > 0 || toSpool.length > 0 || this.memBytes + m.value.length > this.o.memory_buffer_bytes);
      if (spooling) {
        toSpool.push(m);
      } else if (this.memBytes + m.value.length > this.o.memory_buffer_bytes) {
        this.drop(1, 'memory buffer full and no spool configured');
      } else {
        this.mem.push(m);
        this.memBytes += m.value.length;
      }
    }
    if (toSpool.length && this.spool) {
      if (!this.spoolingSince) {
        this.spoolingSince = Date.now();
        this.log.warn({ spool_dir: this.o.spool_dir, buffered: this.mem.length - this.memHead }, 'memory buffer full: spooling windows to disk');
      }
      const written = this.spool.append(toSpool);
      this.s.spooled += written;
      if (written < toSpool.length) this.drop(toSpool.length - written, 'spool full');
    }
    this.wake?.();
  }

  async flush(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending() > 0 || this.inFlight > 0) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) {
        throw kafkaFailure(this.brokers, `flush to ${this.o.topic}`, new Error(`${this.pending()} windows still undelivered after ${timeoutMs} ms`));
      }
      this.wake?.();
      await sleep(10);
    }
  }

  /**
   * Delivers what is buffered within `timeoutMs`, else moves it to the spool (at least once: a batch in flight to a
   * broker that went away is spooled too, and may be delivered twice) or, without a spool, counts it dropped; then
   * disconnects. Never takes much longer than `timeoutMs`: a send stuck on an unreachable broker is abandoned.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    try {
      await this.flush(Math.max(0, timeoutMs - 300));
    } catch (err) {
      this.closing = true;
      this.abandoned = true; // the loop must not acknowledge a send that completes after this
      const rest = this.mem.slice(this.memHead);
      this.mem = [];
      this.memHead = this.memBytes = 0;
      this.log.error({ err, unsent: rest.length, spool_pending: this.spool?.pending ?? 0 }, this.spool ? 'closing with undelivered windows: moved to the spool, a restart delivers them' : 'closing with undelivered windows and no spool configured');
      if (this.spool) {
        const written = this.spool.append(rest);
        this.s.spooled += written;
        if (written < rest.length) this.drop(rest.length - written, 'spool full at shutdown');
      } else if (rest.length > 0) {
        this.drop(rest.length, 'broker unreachable at shutdown and no spool configured');
      }
    }
    this.closing = true;
    this.stopRetrying.abort();
    this.wake?.();
    await settledWithin(this.loop, deadline - Date.now());
    this.spool?.close();
    await settledWithin(this.producer.disconnect(), Math.max(200, deadline - Date.now()));
  }

  stats(): KafkaWindowProducerStats {
    return { ...this.s, buffered: this.mem.length - this.memHead, spool_pending: this.spool?.pending ?? 0, outages: this.outages, broker_unreachable: this.outageSince ? 1 : 0, spooling: this.spoolingSince ? 1 : 0 };
  }

  private outageStarted(err: unknown, why: string): void {
    if (this.outageSince) return;
    this.outageSince = Date.now();
    this.outages++;
    this.log.error({ err: kafkaFailure(this.brokers, `produce to ${this.o.topic}`, err), why, buffered: this.mem.length - this.memHead, spool_pending: this.spool?.pending ?? 0 }, 'broker unreachable: buffering windows');
  }

  private pending(): number {
    return this.mem.length - this.memHead + (this.spool?.pending ?? 0);
  }

  private lastDropLog = 0;

  /** Counts dropped windows; logs an error at the first drop and then at most once a second (with the totals). */
  private drop(n: number, reason: string): void {
    this.s.dropped += n;
    const now = Date.now();
    if (now - this.lastDropLog < 1000) return;
    this.lastDropLog = now;
    this.log.error({ dropped: n, dropped_total: this.s.dropped, reason, topic: this.o.topic }, `DROPPED feature windows (${this.s.dropped} so far): ${reason}`);
  }

  /**
   * Backpressure for sources that can wait (capture files): resolves once the memory buffer is at most half full.
   * Live capture cannot wait (the kernel would drop packets instead), so it relies on the spool.
   */
  async waitForCapacity(): Promise<void> {
    while (this.memBytes > this.o.memory_buffer_bytes / 2 && !this.closing) {
      this.wake?.();
      await sleep(5);
    }
  }

  /** Removes a delivered (or given-up) batch from the head of memory or spool. */
  private acknowledge(fromMemory: boolean, batch: readonly EncodedMessage[]): void {
    if (!fromMemory) {
      this.spool!.commit(batch.length);
      if (this.spoolingSince && this.spool!.pending === 0) {
        this.log.warn({ spooled_ms: Date.now() - this.spoolingSince }, 'spool drained: windows go through memory again');
        this.spoolingSince = 0;
      }
      return;
    }
    this.memHead += batch.length;
    for (const m of batch) this.memBytes -= m.value.length;
    if (this.memHead > 10_000 && this.memHead * 2 > this.mem.length) {
      this.mem = this.mem.slice(this.memHead);
      this.memHead = 0;
    }
  }

  private async fetchPartitions(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [this.o.topic] });
      const n = md.topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new Error(`topic ${this.o.topic} has no partitions`);
      if (n !== this.partitions) this.partitionOfKey.clear();
      this.partitions = n;
      this.partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 0, replicas: [0], isr: [0] }));
    } finally {
      await admin.disconnect();
    }
  }

  /** The partition kafkajs' DefaultPartitioner (= the Java client's murmur2 partitioner) gives this device id. */
  partitionOf(deviceId: string): number {
    let p = this.partitionOfKey.get(deviceId);
    if (p === undefined) {
      p = this.partitioner({ topic: this.o.topic, partitionMetadata: this.partitionMetadata, message: { key: deviceId, value: null } });
      if (this.partitionOfKey.size >= 1_000_000) this.partitionOfKey.clear();
      this.partitionOfKey.set(deviceId, p);
    }
    return p;
  }

  /**
   * One produce request's messages: windows grouped by partition, in order, packed into batch messages bounded by
   * `message_max_windows` / `message_max_bytes` (a new message also starts when the inner format changes, e.g. a
   * spool written under another codec). Single-window v1 messages when `message_max_windows` is 1.
   */
  private pack(batch: readonly EncodedMessage[]): Message[] {
    if (this.o.message_max_windows <= 1) return batch.map((m) => ({ key: m.key, value: m.value, headers: { [FORMAT_HEADER]: m.format } }));
    const maxWindows = Math.min(this.o.message_max_windows, BATCH_MAX_WINDOWS);
    const out: Message[] = [];
    const open = new Map<number, { items: EncodedMessage[]; bytes: number }>();
    const close = (partition: number, items: EncodedMessage[]): void => {
      out.push({ partition, key: items[0]!.key, value: encodeWindowBatch(items), headers: { [FORMAT_HEADER]: WINDOW_BATCH } });
    };
    for (const m of batch) {
      const p = this.partitionOf(m.key);
      let g = open.get(p);
      if (g && (g.items.length >= maxWindows || g.bytes + BATCH_ENTRY_OVERHEAD + m.value.length > this.o.message_max_bytes || g.items[0]!.format !== m.format)) {
        close(p, g.items);
        g = undefined;
      }
      if (!g) {
        g = { items: [], bytes: BATCH_HEADER_BYTES };
        open.set(p, g);
      }
      g.items.push(m);
      g.bytes += BATCH_ENTRY_OVERHEAD + m.value.length;
    }
    for (const [p, g] of open) close(p, g.items);
    return out;
  }

  private async run(): Promise<void> {
    /** Lowered when the broker refuses a batch for good (e.g. too large), restored after a success. */
    const split = { limit: Number.MAX_SAFE_INTEGER };
    const operation = `produce to ${this.o.topic}`;
    while (!this.closing) {
      if (this.pending() === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000);
        });
        this.wake = undefined;
        continue;
      }
      if (this.mem.length - this.memHead < this.o.batch_max_messages && !(this.spool && this.spool.pending > 0) && this.o.linger_ms > 0) {
        await sleep(this.o.linger_ms);
      }
      try {
        // Every failure but a fatal one (see isFatal) is retried until the broker takes the batch or close().
        await retry(() => this.sendHead(split), { retries: Infinity, initial_delay_ms: this.o.retry_initial_ms, max_delay_ms: this.o.retry_max_ms, multiplier: 2, jitter: 0 }, {
          signal: this.stopRetrying.signal,
          retriable: (err) => !isFatal(kafkaFailure(this.brokers, operation, err)),
          onRetry: (err) => {
            this.s.send_retries++;
            this.outageStarted(err, 'send failed');
          },
        });
      } catch (err) {
        if (this.abandoned || err instanceof RetryAbortedError) return;
        if (isProgrammingError(err)) throw err;
        this.fail(kafkaFailure(this.brokers, operation, err));
        return;
      }
    }
  }

  /**
   * One send of the head of the buffer (memory first, then the spool): acknowledged when the broker has it. A batch the
   * broker refuses for good is split in halves (`split.limit`), or, a single window, dropped; other failures throw.
   */
  private async sendHead(split: { limit: number }): Promise<void> {
    const fromMemory = this.mem.length - this.memHead > 0;
    const limit = Math.max(1, Math.min(this.o.batch_max_messages, split.limit));
    const candidates = fromMemory ? this.mem.slice(this.memHead, this.memHead + limit) : (this.spool?.peek(limit) ?? []);
    let bytes = 0;
    let take = 0;
    while (take < candidates.length && (take === 0 || bytes + candidates[take]!.value.length <= this.o.batch_max_bytes)) bytes += candidates[take++]!.value.length;
    const batch = candidates.slice(0, take);
    if (batch.length === 0 || this.abandoned) return;
    this.inFlight = batch.length;
    // kafkajs retries inside one send for a long time: a send this slow is an outage already.
    const stall = setTimeout(() => this.outageStarted(new Error(`a send has waited ${this.o.stall_ms} ms for the broker`), 'send stalled'), this.o.stall_ms);
    stall.unref();
    try {
      if (!this.connected) {
        await this.producer.connect();
        if (this.o.message_max_windows > 1) await this.fetchPartitions();
        this.connected = true;
      }
      const messages = this.pack(batch);
      await this.o.before_send?.();
      await this.producer.send({
        topic: this.o.topic,
        acks: -1,
        compression: this.o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
      if (this.abandoned) return; // close() already spooled this batch
      this.messagesSent += messages.length;
      this.acknowledge(fromMemory, batch);
      this.s.produced += batch.length;
      split.limit = Number.MAX_SAFE_INTEGER;
      if (this.outageSince) {
        this.log.warn({ outage_ms: Date.now() - this.outageSince, pending: this.pending() }, 'broker reachable again: delivering buffered windows');
        this.outageSince = 0;
      }
    } catch (err) {
      if (this.abandoned) return;
      if (!isRefusedForGood(err)) throw err;
      if (batch.length > 1) {
        split.limit = Math.ceil(batch.length / 2);
        this.log.warn({ err: kafkaFailure(this.brokers, `produce to ${this.o.topic}`, err), batch: batch.length }, 'broker refused the batch: retrying in halves');
      } else {
        this.acknowledge(fromMemory, batch);
        this.drop(1, `broker refused the window for good: ${(err as Error).message}`);
      }
    } finally {
      clearTimeout(stall);
      this.inFlight = 0;
    }
  }
}
