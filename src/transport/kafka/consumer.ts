/**
 * Kafka → detector. A consumer group member that hands decoded feature windows to a handler and commits a
 * batch's offsets only after the handler resolved (the handler writes alerts and metrics to the sinks first):
 * at-least-once. Messages are window batches (`ww-window-batch/1`) or single windows (v1, older sensors); both are
 * read. Undecodable messages (a batch counts as one) go to the dead-letter topic whole, with the reason in a header, and are counted;
 * they never stop the consumer. A handler failure leaves the batch uncommitted and it is consumed again.
 *
 * A handler may return a receipt (`BatchReceipt`): the consumer then goes on fetching and commits the batch when its
 * `durable` resolves, in partition order (a batch is committed only after every earlier batch of its partition).
 * Commits of batches fetched before a rebalance are skipped: the group fetches them again from the committed offset.
 *
 * Failure for good: when kafkajs' consumer crashes without restarting (e.g. `KafkaJSNonRetriableError`), or a
 * receipt's `durable` rejects, the consumer is `failed` (`WW_KAFKA_CONSUMER_FAILED`, listeners told at once). Losing
 * the group membership while committing (the coordinator forgot the member after a stall) is not such a failure:
 * the member re-joins and the batch is fetched again.
 *
 * Broker outages are retriable (kafkajs retries inside its requests and restarts its consumer) and only shown: one
 * error line when one starts — kafkajs restarted the consumer on a retriable error, or the broker answered nothing
 * for `stall_ms` and did not answer a probe either — one line when the consumer fetches again, and the
 * `broker_unreachable` gauge and `outages` counter in between.
 */
import { connect } from 'node:net';
import { DEFAULT_KAFKA_CONSUMER } from './config.js';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { FeatureWindow } from '../../records/features.js';
import { componentLogger } from '../../log.js';
import { ServiceError, type WardwatchError } from '../../errors.js';
import type { BatchReceipt, WindowBatchHandler, WindowConsumer, WindowConsumerStats } from '../bus.js';
import { FORMAT_HEADER, decodeWindows, PoisonMessageError } from '../codec.js';
import { describeBrokers, errorChain, kafkaFailure } from './client.js';

/** True when one of `brokers` (host:port) accepts a TCP connection within `timeoutMs`. */
function anyAccepts(brokers: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let left = brokers.length;
    if (left === 0) resolve(true);
    for (const b of brokers) {
      const i = b.lastIndexOf(':');
      const socket = connect({ host: b.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(b.slice(i + 1)) });
      const done = (ok: boolean): void => {
        socket.destroy();
        if (ok) resolve(true);
        else if (--left === 0) resolve(false);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    }
  });
}

/** kafkajs protocol errors that mean "this member's view of the group is out of date": re-join, do not crash. */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP']);

/** The protocol error inside `err` (kafkajs wraps it in retrier errors) when it says the membership was lost. */
export function membershipLost(err: unknown): Error | undefined {
  let e: unknown = err;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    const x = e as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof x.type === 'string' && MEMBERSHIP_LOST.has(x.type)) return e as Error;
    e = x.originalError ?? x.cause;
  }
  return undefined;
}

interface PendingBatch {
  /** Offset to commit once this batch (and every earlier one of its partition) is durable. */
  next: string;
  epoch: number;
  done: boolean;
}

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
  /** Named in failure messages ("kafka host:port: ..."). */
  brokers: string[];
  /**
   * The consumer got no answer from the broker (no fetch, heartbeat or any other response) for this long: the broker
   * is probed (a TCP connection, then one metadata request, at most this long again) and, when it does not answer
   * either, the outage starts (one log line, `broker_unreachable` 1) although kafkajs is still waiting or retrying
   * inside its requests. A member waiting in a rebalance gets no answer for a while too; the probe tells it apart.
   */
  stall_ms: number;
}

export const DEFAULT_WINDOW_CONSUMER: Omit<WindowConsumerOptions, 'topic' | 'group_id' | 'dead_letter_topic'> = {
  session_timeout_ms: DEFAULT_KAFKA_CONSUMER.session_timeout_ms,
  heartbeat_interval_ms: DEFAULT_KAFKA_CONSUMER.heartbeat_interval_ms,
  max_bytes_per_partition: DEFAULT_KAFKA_CONSUMER.max_bytes_per_partition,
  from_beginning: true,
  brokers: [],
  stall_ms: 5000,
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
  /** Group joins (the first one included) and batches fetched and not yet committed. */
  private readonly g = { group_joins: 0, crashes_restarted: 0, membership_lost: 0, outages: 0 };
  /** Since when kafkajs keeps restarting the consumer on retriable errors (broker unreachable); 0 when fetching. */
  private outageSince = 0;
  /** Set once the consumer stopped for good; `/healthz` reports it. */
  failure: WardwatchError | undefined;
  private readonly failureListeners: ((err: WardwatchError) => void)[] = [];
  /** True between a successful start and stop() (or a failure). */
  running = false;
  private stopping = false;
  /** Incremented at every group join: batches fetched under an older assignment are not committed. */
  private epoch = 0;
  private readonly pending = new Map<number, PendingBatch[]>();
  private commits: Promise<void> = Promise.resolve();
  /** When the broker last answered one of the consumer's requests; the watchdog probes the broker after `stall_ms` without. */
  private lastAnswer = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private probe: Admin | undefined;
  private probing = false;

  constructor(kafka: Kafka, options: Partial<WindowConsumerOptions> & Pick<WindowConsumerOptions, 'topic' | 'group_id' | 'dead_letter_topic'>) {
    this.o = { ...DEFAULT_WINDOW_CONSUMER, ...options };
    this.consumer = kafka.consumer({
      groupId: this.o.group_id,
      sessionTimeout: this.o.session_timeout_ms,
      heartbeatInterval: this.o.heartbeat_interval_ms,
      maxBytesPerPartition: this.o.max_bytes_per_partition,
      // An idle fetch returns after 1 s rather than kafkajs' 5 s: a stop (which waits for it) takes at most that long.
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
    });
    this.dlq = kafka.producer({ allowAutoTopicCreation: false });
    this.kafka = kafka;
  }

  private readonly kafka: Kafka;

  async start(handler: WindowBatchHandler, onAssign?: (partitions: number[]) => void | Promise<void>): Promise<void> {
    this.stopping = false;
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      if (restart) {
        this.g.crashes_restarted++;
        // One line when the outage starts, one when batches come again (kafkajs may restart it many times meanwhile).
        this.outageStarted({ err: error.message }, 'broker unreachable: consumer stopped on a retriable error, kafkajs restarts it until it works');
        return;
      }
      if (this.stopping) return;
      this.fail(kafkaFailure(this.o.brokers, `consume ${this.o.topic} (group ${this.o.group_id})`, error), 'WW_KAFKA_CONSUMER_FAILED');
    });
    // Any answer of the broker is a sign of life; the consumer working again (a fetch, a heartbeat, a join) ends an outage.
    this.consumer.on(this.consumer.events.REQUEST, () => (this.lastAnswer = Date.now()));
    for (const ev of [this.consumer.events.FETCH, this.consumer.events.HEARTBEAT]) {
      this.consumer.on(ev, () => {
        this.lastAnswer = Date.now();
        this.outageEnded();
      });
    }
    await this.dlq.connect();
    await this.consumer.connect();
    // Batches wait until the assignment callback finished (e.g. per-device state restored for new partitions).
    let assigned: Promise<void> = Promise.resolve();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.epoch++;
      this.g.group_joins++;
      this.outageEnded();
      this.pending.clear(); // fetched again from the committed offsets
      if (!onAssign) return;
      const partitions = e.payload.memberAssignment[this.o.topic] ?? [];
      assigned = Promise.resolve(onAssign([...partitions].sort((a, b) => a - b))).catch((err: unknown) => {
        this.log.error({ err }, 'onAssign failed');
        throw err;
      });
    });
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
        let receipt: void | BatchReceipt = undefined;
        try {
          if (windows.length) receipt = await handler(windows, { partition: batch.partition, heartbeat });
        } catch (err) {
          this.s.received -= batch.messages.length;
          if (this.stopping) throw err; // a batch refused while stopping: fetched again after a restart
          this.s.handler_errors++;
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
        const entry: PendingBatch = { next: (BigInt(last) + 1n).toString(), epoch: this.epoch, done: receipt === undefined };
        const list = this.pending.get(batch.partition) ?? [];
        list.push(entry);
        this.pending.set(batch.partition, list);
        if (receipt === undefined) {
          await this.commitDone(batch.partition, true);
        } else {
          receipt.durable.then(
            () => {
              entry.done = true;
              void this.commitDone(batch.partition, false);
            },
            (err: unknown) => {
              this.s.handler_errors++;
              this.fail(err, 'WW_KAFKA_CONSUMER_FAILED', `batch of ${batch.topic}/${batch.partition} up to offset ${last} not written to the sinks`);
            },
          );
        }
        await heartbeat();
      },
    });
    this.running = true;
    this.lastAnswer = Date.now();
    this.watchdog = setInterval(() => void this.watch(), Math.min(1000, this.o.stall_ms));
    this.watchdog.unref();
  }

  /**
   * No answer from the broker for `stall_ms`: a probe tells a broker that is gone or frozen from a member waiting in a
   * rebalance. First a TCP connection to the bootstrap brokers (refused: gone, at once), then one metadata request
   * (none within `stall_ms`: frozen or still starting); either failing starts an outage.
   */
  private async watch(): Promise<void> {
    if (!this.running || this.stopping || this.outageSince || this.probing || Date.now() - this.lastAnswer < this.o.stall_ms) return;
    this.probing = true;
    const silentSince = this.lastAnswer;
    let timer: NodeJS.Timeout | undefined;
    try {
      let answered = await anyAccepts(this.o.brokers, Math.min(2000, this.o.stall_ms));
      if (answered) {
        this.probe ??= this.kafka.admin();
        const probe = this.probe;
        answered = await Promise.race([
          (async () => {
            await probe.connect();
            await probe.describeCluster();
            return true;
          })().catch(() => false),
          new Promise<false>((r) => (timer = setTimeout(() => r(false), this.o.stall_ms))),
        ]);
      }
      if (answered) this.lastAnswer = Math.max(this.lastAnswer, Date.now());
      else if (this.lastAnswer === silentSince && this.running && !this.stopping) {
        this.outageStarted({ silent_ms: Date.now() - silentSince }, 'broker unreachable: the consumer gets no answer from the broker (kafkajs keeps retrying)');
      }
    } finally {
      clearTimeout(timer);
      this.probing = false;
    }
  }

  private outageStarted(fields: Record<string, unknown>, msg: string): void {
    if (this.outageSince) return;
    this.outageSince = Date.now();
    this.g.outages++;
    this.log.error({ ...fields, broker: describeBrokers(this.o.brokers) }, msg);
  }

  /**
   * Commits the partition's leading run of durable batches. In a batch (`inBatch`), losing the membership is thrown
   * as kafkajs' own protocol error so its runner re-joins the group; outside one it is logged (the batch is fetched
   * again by whoever owns the partition now).
   */
  private commitDone(partition: number, inBatch: boolean): Promise<void> {
    const list = this.pending.get(partition);
    let upto: PendingBatch | undefined;
    let n = 0;
    while (list && list[0]?.done) {
      upto = list.shift();
      n++;
    }
    if (!upto || upto.epoch !== this.epoch || this.failure) return Promise.resolve();
    const offset = upto.next;
    const commit = this.commits.then(async () => {
      try {
        await this.consumer.commitOffsets([{ topic: this.o.topic, partition, offset }]);
        this.s.committed_batches += n;
      } catch (err) {
        const lost = membershipLost(err);
        if (lost) {
          this.g.membership_lost++;
          this.log.warn({ partition, offset, reason: lost.message }, 'group membership lost while committing: re-joining; the batch is fetched again');
          if (inBatch) throw lost;
          return;
        }
        if (inBatch) throw err;
        this.log.warn({ err: describeBrokers(this.o.brokers), partition, offset, reason: err instanceof Error ? err.message : String(err) }, 'commit failed: the batch may be fetched again');
      }
    });
    this.commits = commit.catch(() => undefined);
    return commit;
  }

  private fail(err: unknown, code: string, context?: string): void {
    if (this.failure || this.stopping) return;
    const cause = err instanceof ServiceError ? err : kafkaFailure(this.o.brokers, 'consume', err);
    const what = context ?? `consumer of ${this.o.topic} (group ${this.o.group_id}) stopped for good`;
    // Authentication and TLS keep their own codes; anything else is a consumer failure.
    const keep = cause.code === 'WW_KAFKA_AUTH' || cause.code === 'WW_KAFKA_TLS';
    this.failure = new ServiceError(describeBrokers(this.o.brokers), `${what}: ${cause.message.replace(/^kafka \S+: /, '')}`, { cause: err, retriable: false, code: keep ? cause.code : code });
    this.running = false;
    this.log.error({ code: this.failure.code, reason: this.failure.message, chain: errorChain(err).map((e) => e.name).join(' < ') }, 'consumer stopped for good');
    for (const l of this.failureListeners.splice(0)) l(this.failure);
  }

  private outageEnded(): void {
    if (!this.outageSince) return;
    this.log.warn({ outage_ms: Date.now() - this.outageSince, restarts: this.g.crashes_restarted }, 'broker reachable again: the consumer is fetching again');
    this.outageSince = 0;
  }

  /** Called once, at once, when the consumer stops for good (see `failure`). */
  onFailure(listener: (err: WardwatchError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /** Batches fetched and not yet committed (their sinks' writes in progress). */
  get uncommitted(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  /** True once `stop()` was called: a handler waiting for room gives up (its batch is fetched again later). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops fetching, waits up to `settleMs` for the fetched batches to become durable and commits them (what is still
   * pending then is fetched again after a restart), and leaves the group.
   */
  async stop(settleMs = 10_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    if (this.running) {
      try {
        this.consumer.pause([{ topic: this.o.topic }]);
      } catch {
        // not running: nothing to pause
      }
      const settled = await this.settle(settleMs);
      if (!settled) this.log.warn({ uncommitted_batches: this.uncommitted, settle_ms: settleMs }, 'stopping with batches still being written: not committed, fetched again after a restart');
    }
    this.running = false;
    await this.consumer.disconnect();
    await this.dlq.disconnect();
    await this.probe?.disconnect().catch(() => undefined);
  }

  /**
   * Waits until the fetched batches are committed (their receipts' writes done), at most `timeoutMs`; false when some
   * are still pending.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.uncommitted > 0 && !this.failure) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.commits;
    return true;
  }

  stats(): WindowConsumerStats & { group_joins: number; crashes_restarted: number; membership_lost: number; outages: number; broker_unreachable: number; uncommitted_batches: number; running: number } {
    return { ...this.s, ...this.g, broker_unreachable: this.outageSince ? 1 : 0, uncommitted_batches: this.uncommitted, running: this.running ? 1 : 0 };
  }
}
