/**
 * The sensor's device inventory, shared with detectors through a compacted topic (`<prefix>inventory`, key = device
 * id, value `ww-inventory-json/1` = the InventoryEntry record). A detector sees no packets; with this topic it
 * knows each device's class, criticality, name and vendor as the sensor does, so severity, class-model fallback
 * and the names in alerts are those of the embedded `run` mode.
 *
 * Publisher (sensor): `offer(entry)` is called with a device's entry when one of its windows is emitted; the entry is
 * queued only when a field the detector uses changed (class, class source, criticality, name, location, vendor, DHCP
 * host name, first seen, learning): at most one entry per device per window, usually one per device ever. `flush()`
 * sends what is queued (acks=all); the window producer calls it before each window send (`before_send`), so an
 * entry is in the topic before any window that needs it.
 *
 * Each message carries, in the `ww-as-of` header, the packet time from which the entry holds: the `window_start` of
 * the device's window it was published with. The reader keeps a device's recent entries (`at(id, t)`), so a detector
 * scoring a window uses the entry of that window's time — as `wardwatch run` attaches to each window the identity its
 * device had when the window closed — however far ahead the sensor is (a device's class may change as it is learned).
 *
 * Reader (detector): reads the whole topic from the beginning and keeps following it (every detector reads every
 * partition). `catchUp()` waits until it has read everything the topic held when it was called; the detector calls
 * it before scoring a batch, so the entries a sensor wrote before that batch's windows are known when it is scored.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { detectorFacts, type InventoryEntry } from '../../records/device.js';
import { componentLogger } from '../../log.js';
import { settledWithin, sleep } from '../../retry.js';
import { FORMAT_HEADER, PoisonMessageError, decodeInventory, encodeInventory, type EncodedMessage } from '../codec.js';
import { ServiceError } from '../../errors.js';
import { describeBrokers, kafkaFailure } from './client.js';


/** Header of an inventory message: the packet time (seconds) from which the entry holds. */
export const AS_OF_HEADER = 'ww-as-of';
/** Entries a publisher holds per device while the broker is away, and a reader remembers per device. */
const MAX_QUEUED_PER_DEVICE = 16;
const MAX_HISTORY_PER_DEVICE = 32;

export class KafkaInventoryPublisher {
  private readonly log = componentLogger('inventory-publisher');
  private readonly producer: Producer;
  private connected = false;
  private readonly published = new Map<string, string>();
  /** Entries to send, per device in the order offered (at most `MAX_QUEUED_PER_DEVICE`: the oldest go first). */
  private queue = new Map<string, { m: EncodedMessage; as_of: number }[]>();
  /** Entries sent (acknowledged). */
  sent = 0;

  constructor(
    kafka: Kafka,
    private readonly brokers: string[],
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /**
   * Queues the entry when a detector-relevant field changed since it was last queued, holding from packet time `asOf`
   * (the `window_start` of the window it goes with). Cheap; never throws.
   */
  offer(e: InventoryEntry, asOf = -Infinity): void {
    const facts = detectorFacts(e);
    if (this.published.get(e.device_id) === facts) return;
    this.published.set(e.device_id, facts);
    const list = this.queue.get(e.device_id) ?? [];
    list.push({ m: encodeInventory(e), as_of: asOf });
    if (list.length > MAX_QUEUED_PER_DEVICE) list.shift();
    this.queue.set(e.device_id, list);
  }

  get pending(): number {
    let n = 0;
    for (const list of this.queue.values()) n += list.length;
    return n;
  }

  /**
   * Sends the queued entries (acks=all); resolves once they and everything an earlier `flush()` took are acknowledged.
   * On failure they stay queued (newer entries of a device replace older ones). Flushes run one after another: before,
   * a flush called while another was sending (the window producer's `before_send` while `close()` flushed) found the
   * queue empty and resolved at once, and windows reached the topic before the entries they need (a detector scored
   * them without the device's name, vendor and class, and its new-device alert was lost).
   */
  flush(): Promise<void> {
    const next = this.flushing.catch(() => undefined).then(() => this.sendQueued());
    this.flushing = next;
    return next;
  }

  private flushing: Promise<void> = Promise.resolve();

  private async sendQueued(): Promise<void> {
    if (this.queue.size === 0) return;
    const batch = this.queue;
    this.queue = new Map();
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      const messages = [...batch.values()].flat().map(({ m, as_of }) => ({ key: m.key, value: m.value, headers: { [FORMAT_HEADER]: m.format, ...(Number.isFinite(as_of) ? { [AS_OF_HEADER]: String(as_of) } : {}) } }));
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      this.sent += messages.length;
    } catch (err) {
      // Back in front of what was offered meanwhile, in order (bounded per device as `offer` bounds it).
      for (const [k, v] of batch) this.queue.set(k, [...v, ...(this.queue.get(k) ?? [])].slice(-MAX_QUEUED_PER_DEVICE));
      throw kafkaFailure(this.brokers, `publish inventory to ${this.topic}`, err);
    }
  }

  /**
   * Publishes what is queued within `timeoutMs`, retrying while the broker is away (the window producer, closing at the
   * same time, delivers its windows only after their entries), else logs what is left (the next start publishes it
   * again); then disconnects. Before, one failed attempt (kafkajs' retries used up during a broker outage) disconnected
   * the producer while the window producer still waited for the broker: every later window send failed on "The
   * producer is disconnected" and the sensor never delivered its buffered windows.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let wait = 200;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))));
        const sent = await Promise.race([this.flush().then(() => true), late]);
        if (!sent) this.log.error({ pending: this.pending, timeout_ms: timeoutMs }, 'inventory entries not published at shutdown: broker unreachable');
        break;
      } catch (err) {
        if (Date.now() + wait >= deadline) {
          this.log.error({ err, pending: this.pending }, 'inventory entries not published at shutdown');
          break;
        }
        await sleep(wait);
        wait = Math.min(wait * 2, 5000);
      } finally {
        clearTimeout(timer);
      }
    }
    if (this.connected) {
      this.connected = false; // a flush after this connects again
      await settledWithin(this.producer.disconnect(), Math.max(200, deadline - Date.now()));
    }
  }
}

export class KafkaInventoryReader {
  private readonly log = componentLogger('inventory-reader');
  private consumer: Consumer;
  private readonly admin: Admin;
  private stopping = false;
  /** Times the reader's consumer stopped for good (kafkajs would not restart it) and was started anew. */
  restarts = 0;
  /** Each device's recent entries, oldest first, with the packet time each holds from. */
  private readonly entries = new Map<string, { as_of: number; entry: InventoryEntry }[]>();
  /** Next offset to read, per partition. */
  private readonly position = new Map<number, bigint>();
  /** Undecodable entries skipped (counted, logged). */
  skipped = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: string[],
    private readonly topic: string,
  ) {
    // A group of its own: every detector reads every partition of the inventory; nothing is committed.
    // An idle fetch returns after 1 s (kafkajs: 5 s): stop() waits for it.
    // The shortest session the broker allows (group.min.session.timeout.ms, 6 s): a reader that kafkajs restarted after
    // a broker outage joins as a new member, and the join waits until the old member's session expired (with 30 s the
    // detector's batches waited ~20 s for the inventory after the broker was back).
    this.consumer = this.newConsumer();
    this.admin = kafka.admin();
  }

  private newConsumer(): Consumer {
    return this.kafka.consumer({ groupId: `ww-inventory-reader-${randomBytes(6).toString('hex')}`, allowAutoTopicCreation: false, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 1000 });
  }

  /** The device's latest entry. */
  get(deviceId: string): InventoryEntry | undefined {
    return this.entries.get(deviceId)?.at(-1)?.entry;
  }

  /** The device's entry at packet time `t`: the newest holding from `t` or before (else its first known). */
  at(deviceId: string, t: number): InventoryEntry | undefined {
    const list = this.entries.get(deviceId);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.as_of <= t) return list[i]!.entry;
    return list[0]?.entry;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every entry read so far. */
  all(): InventoryEntry[] {
    return [...this.entries.values()].map((list) => list.at(-1)!.entry);
  }

  async start(): Promise<void> {
    this.stopping = false;
    try {
      await this.admin.connect();
      await this.follow(this.consumer);
    } catch (err) {
      throw kafkaFailure(this.brokers, `read inventory from ${this.topic}`, err);
    }
  }

  /**
   * Runs `consumer` over the topic from its beginning; what was read already (below `position`) is skipped. When
   * kafkajs stops it for good (a crash it does not restart, e.g. after a broker outage), a new one takes over: the
   * detector must not wait for an inventory nobody reads any more.
   */
  private async follow(consumer: Consumer): Promise<void> {
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.stopping || consumer !== this.consumer) return;
      this.restarts++;
      this.log.warn({ err: e.payload.error.message, restarts: this.restarts }, 'inventory reader stopped for good: starting a new one');
      const next = (this.consumer = this.newConsumer());
      void (async () => {
        await settledWithin(consumer.disconnect(), 5000);
        for (let wait = 1000; !this.stopping && next === this.consumer; wait = Math.min(wait * 2, 5000)) {
          try {
            await this.follow(next);
            return;
          } catch (err) {
            this.log.warn({ err: err instanceof Error ? err.message : String(err), retry_in_ms: wait }, 'inventory reader not started again: retrying');
            await settledWithin(next.disconnect(), 5000);
            await sleep(wait);
          }
        }
      })();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        const from = this.position.get(batch.partition) ?? 0n;
        for (const m of batch.messages) {
          if (BigInt(m.offset) < from) continue; // read before a restart
          const key = m.key?.toString() ?? '';
          if (m.value === null) {
            this.entries.delete(key);
            continue;
          }
          try {
            const e = decodeInventory(m.value, m.headers?.[FORMAT_HEADER]?.toString());
            const asOf = Number(m.headers?.[AS_OF_HEADER]?.toString() ?? NaN);
            const list = this.entries.get(e.device_id) ?? [];
            // Without the header (an older sensor, or the topic compacted to one entry): it holds from the start.
            if (!Number.isFinite(asOf)) list.length = 0;
            list.push({ as_of: Number.isFinite(asOf) ? asOf : -Infinity, entry: e });
            if (list.length > MAX_HISTORY_PER_DEVICE) list.shift();
            this.entries.set(e.device_id, list);
          } catch (err) {
            if (!(err instanceof PoisonMessageError)) throw err;
            this.skipped++;
            this.log.warn({ key, partition: batch.partition, offset: m.offset, reason: err.message }, 'undecodable inventory entry skipped');
          }
        }
        const next = BigInt(batch.lastOffset()) + 1n;
        if (next > from) this.position.set(batch.partition, next);
        return Promise.resolve();
      },
    });
  }

  /**
   * Waits until everything the topic held when called has been read. After `timeoutMs`: false (the caller goes on with
   * what it has; the reader keeps following), or with `required` a retriable `WW_KAFKA_UNAVAILABLE` error — the
   * detector's batch is then not scored and is fetched again, rather than scored without the entries it needs (after
   * a broker outage the reader's consumer may come back seconds after the window consumer: windows were scored without
   * a device's name, vendor and class, and its new-device alert was lost).
   */
  async catchUp(timeoutMs = 10_000, o: { required?: boolean } = {}): Promise<boolean> {
    const ends = (await this.admin.fetchTopicOffsets(this.topic)).map((o) => ({ partition: o.partition, high: BigInt(o.high) }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ends.every((e) => e.high === 0n || (this.position.get(e.partition) ?? 0n) >= e.high)) return true;
      if (Date.now() > deadline) {
        if (o.required) throw new ServiceError(describeBrokers(this.brokers), `inventory ${this.topic} not read to its end within ${timeoutMs} ms: the batch is scored once it is`, { retriable: true, code: 'WW_KAFKA_UNAVAILABLE' });
        this.log.warn({ topic: this.topic, timeout_ms: timeoutMs }, 'inventory not caught up: scoring with the entries read so far');
        return false;
      }
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}
