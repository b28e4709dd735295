/**
 * The feature-window pipeline over the real broker: sensor producer → topic → detector consumer group.
 * Round trip, a broker outage in the middle of a replay (zero windows lost, order per device kept), and poison
 * messages dead-lettered without stopping the consumer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../../src/transport/kafka/client.js';
import { KafkaWindowProducer } from '../../../src/transport/kafka/producer.js';
import { KafkaWindowConsumer } from '../../../src/transport/kafka/consumer.js';
import { DEFAULT_TOPICS, ensureTopics } from '../../../src/transport/kafka/topics.js';
import { FORMAT_HEADER, WINDOW_BATCH, WINDOW_BINARY, encodeWindow, encodeWindowBatch, encodeWindowBinary } from '../../../src/transport/codec.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { DEFAULT_KAFKA, kafkaBrokers, pauseKafka, resumeKafka, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { freshName, requireKafka } from '../../support/services.js';
import { makeWindows, windowKey } from '../../support/windows.js';

const FAST = { connection_timeout_ms: 1000, request_timeout_ms: 5000, retry: { retries: 2, initial_retry_time_ms: 100, max_retry_time_ms: 1000 } };

function kafkaFor(brokers: string[], id: string): Kafka {
  return createKafka({ brokers, client_id: id, ...FAST });
}

async function makeTopics(kafka: Kafka, partitions = 4): Promise<{ features: string; dlq: string }> {
  const features = freshName('ww-features');
  const dlq = freshName('ww-dlq');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [features, dlq], { ...DEFAULT_TOPICS, partitions });
  await admin.disconnect();
  return { features, dlq };
}

/** Consumes until `n` windows arrived (or fails after `ms`); returns them in arrival order. */
async function consume(kafka: Kafka, topic: string, dlq: string, n: number, ms = 60_000): Promise<{ got: FeatureWindow[]; consumer: KafkaWindowConsumer; partitionOf: Map<string, Set<number>> }> {
  const consumer = new KafkaWindowConsumer(kafka, { topic, group_id: freshName('ww-detectors'), dead_letter_topic: dlq, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 });
  const got: FeatureWindow[] = [];
  const partitionOf = new Map<string, Set<number>>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  await consumer.start((windows, ctx) => {
    got.push(...windows);
    for (const w of windows) {
      const set = partitionOf.get(w.device_id) ?? new Set<number>();
      set.add(ctx.partition);
      partitionOf.set(w.device_id, set);
    }
    if (got.length >= n) resolve();
    return Promise.resolve();
  });
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`consumed ${got.length}/${n} in ${ms} ms`)), ms))]);
  return { got, consumer, partitionOf };
}

function assertSameWindowsInDeviceOrder(sent: FeatureWindow[], got: FeatureWindow[]): void {
  const byKey = new Map(got.map((w) => [windowKey(w), w]));
  assert.equal(byKey.size, sent.length, 'each window exactly once');
  for (const w of sent) assert.deepEqual(byKey.get(windowKey(w)), w, `window ${windowKey(w)}`);
  const last = new Map<string, number>();
  for (const w of got) {
    assert.ok((last.get(w.device_id) ?? -Infinity) < w.window_start, `order of ${w.device_id}`);
    last.set(w.device_id, w.window_start);
  }
}

describe('feature windows over Kafka (real broker)', function () {
  this.timeout(180_000);
  let brokers: string[];

  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
  });

  for (const codec of ['binary', 'json'] as const) {
    it(`round-trips 2,000 windows of 20 devices exactly, in order per device, in ${codec} window batches on each device's murmur2 partition`, async () => {
      const kafka = kafkaFor(brokers, 'ww-rt');
      const { features, dlq } = await makeTopics(kafka);
      const sent = makeWindows(20, 100, 11);
      const producer = new KafkaWindowProducer(kafka, brokers, { topic: features, codec, message_max_windows: 50, spool_dir: '' });
      for (let i = 0; i < sent.length; i += 150) producer.enqueue(sent.slice(i, i + 150));
      await producer.flush(30_000);
      assert.equal(producer.stats().produced, sent.length);
      // Batches were sent: at most 50 windows per message, so at least 40 messages, and far fewer than windows.
      assert.ok(producer.messagesSent >= sent.length / 50 && producer.messagesSent < sent.length / 5, `${producer.messagesSent} messages for ${sent.length} windows`);
      await producer.close();
      const { got, consumer, partitionOf } = await consume(kafka, features, dlq, sent.length);
      await consumer.stop();
      assertSameWindowsInDeviceOrder(sent, got);
      // Each device on exactly one partition: the one kafkajs' default (Java murmur2) partitioner gives its id as a key.
      const { Partitioners } = await import('kafkajs');
      const partitioner = Partitioners.DefaultPartitioner();
      const metadata = Array.from({ length: 4 }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 1, replicas: [1], isr: [1] }));
      for (const [device, parts] of partitionOf) {
        assert.deepEqual([...parts], [partitioner({ topic: features, partitionMetadata: metadata, message: { key: device, value: null } })], device);
      }
      assert.ok(new Set([...partitionOf.values()].map((p) => [...p][0])).size > 1, 'devices spread over partitions');
    });
  }

  it('loses no window when the broker stops and restarts during a replay', async function () {
    this.timeout(240_000);
    const outage = { ...DEFAULT_KAFKA, instance: 'kafka-pipeline-outage', port: DEFAULT_KAFKA.port + 200, controller_port: DEFAULT_KAFKA.controller_port + 200 };
    await startKafka(outage);
    const own = kafkaBrokers(outage);
    const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'ww-spool-'));
    try {
      const kafka = kafkaFor(own, 'ww-outage');
      const { features, dlq } = await makeTopics(kafka, 3);
      const sent = makeWindows(12, 120, 21);
      const third = Math.floor(sent.length / 3);
      // A small memory buffer so the outage spills to the disk spool.
      const producer = new KafkaWindowProducer(kafka, own, { topic: features, spool_dir: spoolDir, memory_buffer_bytes: 64 * 1024, retry_initial_ms: 100, retry_max_ms: 1000 });
      producer.enqueue(sent.slice(0, third));
      await producer.flush(30_000);

      await pauseKafka(outage.instance);
      for (let i = third; i < 2 * third; i += 40) {
        producer.enqueue(sent.slice(i, Math.min(i + 40, 2 * third)));
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 1500));
      const during = producer.stats();
      assert.ok(during.send_retries > 0, 'sends failed while the broker was down');
      assert.ok(during.spooled > 0, `windows spooled to disk during the outage (stats ${JSON.stringify(during)})`);
      assert.equal(during.produced, third, 'nothing acknowledged while the broker was down');

      await resumeKafka(outage);
      producer.enqueue(sent.slice(2 * third));
      await producer.flush(90_000);
      const after = producer.stats();
      assert.equal(after.dropped, 0);
      assert.equal(after.spool_pending, 0);
      assert.ok(after.produced >= sent.length, `produced ${after.produced}`);
      await producer.close();

      const { got, consumer } = await consume(kafka, features, dlq, sent.length, 90_000);
      await consumer.stop();
      // At-least-once: a batch in flight when the broker died may be written twice; dedupe by window, then compare.
      const unique = [...new Map(got.map((w) => [windowKey(w), w])).values()];
      assertSameWindowsInDeviceOrder(sent, unique);
    } finally {
      await stopKafka(outage.instance);
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('splits batches the broker refuses as too large, and drops (counted) only a window it can never take', async () => {
    const kafka = kafkaFor(brokers, 'ww-large');
    const { features, dlq } = await makeTopics(kafka, 1);
    const sent = makeWindows(3, 40, 8);
    // One window over the broker's 1 MiB message.max.bytes (20 peers of 60,000 characters).
    const huge = { ...sent[50]!, new_peers: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(60_000, 'x')) };
    const producer = new KafkaWindowProducer(kafka, brokers, { topic: features, batch_max_bytes: 4 * 1024 * 1024, compression: 'none', spool_dir: '' });
    producer.enqueue([...sent.slice(0, 50), huge, ...sent.slice(51)]);
    await producer.flush(60_000);
    const stats = producer.stats();
    assert.equal(stats.dropped, 1);
    assert.equal(stats.produced, sent.length - 1);
    await producer.close();
    const expected = sent.filter((_, i) => i !== 50);
    const { got, consumer } = await consume(kafka, features, dlq, expected.length);
    await consumer.stop();
    assertSameWindowsInDeviceOrder(expected, got);
  });

  it('a file replay waits for the broker (backpressure) instead of overflowing a small buffer', async () => {
    const kafka = kafkaFor(brokers, 'ww-backpressure');
    const { features } = await makeTopics(kafka, 2);
    const sent = makeWindows(10, 300, 9);
    const producer = new KafkaWindowProducer(kafka, brokers, { topic: features, memory_buffer_bytes: 16 * 1024, spool_dir: '' });
    for (let i = 0; i < sent.length; i += 20) {
      producer.enqueue(sent.slice(i, i + 20));
      await producer.waitForCapacity();
    }
    await producer.flush(60_000);
    assert.deepEqual({ dropped: producer.stats().dropped, produced: producer.stats().produced }, { dropped: 0, produced: sent.length });
    await producer.close();
  });

  it('dead-letters undecodable messages and keeps consuming', async () => {
    const kafka = kafkaFor(brokers, 'ww-poison');
    const { features, dlq } = await makeTopics(kafka, 2);
    const good = makeWindows(4, 25, 5);
    const raw = kafka.producer();
    await raw.connect();
    const truncated = encodeWindowBinary(good[0]!).subarray(0, 20);
    const messages = good.flatMap((w, i) => {
      const m = [{ key: w.device_id, value: encodeWindowBinary(w), headers: { [FORMAT_HEADER]: WINDOW_BINARY } }];
      if (i % 20 === 3) m.push({ key: w.device_id, value: Buffer.from('garbage'), headers: { [FORMAT_HEADER]: 'ww-window-json/1' } });
      if (i % 20 === 9) m.push({ key: w.device_id, value: truncated, headers: { [FORMAT_HEADER]: WINDOW_BINARY } });
      return m;
    });
    // Batches too: a good batch of 10 extra windows, and a batch whose 2nd window is cut short (dead-lettered whole).
    const extra = makeWindows(2, 5, 77).map((w) => ({ ...w, device_id: w.device_id.replace('mac:02:', 'mac:0a:') }));
    messages.push({ key: extra[0]!.device_id, value: encodeWindowBatch(extra.map((w) => encodeWindow(w, 'binary'))), headers: { [FORMAT_HEADER]: WINDOW_BATCH } });
    const parts = good.slice(0, 3).map((w) => encodeWindow(w, 'binary'));
    const brokenBatch = encodeWindowBatch([parts[0]!, { ...parts[1]!, value: parts[1]!.value.subarray(0, 30) }, parts[2]!]);
    messages.push({ key: good[0]!.device_id, value: brokenBatch, headers: { [FORMAT_HEADER]: WINDOW_BATCH } });
    const poisonCount = messages.length - good.length - 1;
    await raw.send({ topic: features, messages });
    good.push(...extra);

    const { got, consumer } = await consume(kafka, features, dlq, good.length);
    const start = Date.now();
    while (consumer.stats().dead_lettered < poisonCount && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(consumer.stats().dead_lettered, poisonCount);
    await consumer.stop();
    assertSameWindowsInDeviceOrder(good, got);

    // The dead-letter topic holds exactly the poison messages, each with its reason.
    const reader = kafka.consumer({ groupId: freshName('ww-dlq-reader') });
    await reader.connect();
    await reader.subscribe({ topic: dlq, fromBeginning: true });
    const reasons: string[] = [];
    const dlqValues: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`read ${reasons.length}/${poisonCount} from the DLQ`)), 30_000);
      void reader.run({
        eachMessage: ({ message }) => {
          reasons.push(message.headers?.['ww-dlq-reason']?.toString() ?? '');
          if (message.value) dlqValues.push(message.value);
          if (reasons.length === poisonCount) {
            clearTimeout(t);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await reader.disconnect();
    assert.equal(reasons.filter((r) => /not valid JSON/.test(r)).length, (poisonCount - 1) / 2);
    assert.equal(reasons.filter((r) => /^feature window truncated/.test(r)).length, (poisonCount - 1) / 2);
    const batchReasons = reasons.filter((r) => /in batch/.test(r));
    assert.equal(batchReasons.length, 1);
    assert.match(batchReasons[0]!, /^window 1 of 3 in batch: feature window truncated at byte \d+ of 30$/);
    assert.ok(dlqValues.some((v) => v.equals(brokenBatch)), 'the broken batch is dead-lettered whole, byte for byte');
    await raw.disconnect();
  });
});
