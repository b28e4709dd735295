/**
 * Proves the broker is a real Kafka: 10,000 messages produced with kafkajs to a fresh topic and consumed back by a
 * fresh consumer group, compared one by one (key, value, per-key order). Then a broker of our own is killed under
 * a producer, and the failure must come quickly and name the broker.
 */
import assert from 'node:assert/strict';
import { type Admin, type Consumer, type Producer, CompressionTypes } from 'kafkajs';
import { createKafka, kafkaFailure } from '../../../src/transport/kafka/client.js';
import { startKafka, stopKafka, kafkaBrokers, DEFAULT_KAFKA } from '../../../scripts/services/kafka.js';
import { freshName, requireKafka } from '../../support/services.js';

const FAST_RETRY = { retries: 3, initial_retry_time_ms: 100, max_retry_time_ms: 1000 };

function connection(brokers: string[], clientId: string) {
  return { brokers, client_id: clientId, connection_timeout_ms: 2000, request_timeout_ms: 5000, retry: FAST_RETRY };
}

describe('Kafka broker (real, KRaft)', function () {
  this.timeout(120_000);
  let brokers: string[];
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  before(async function () {
    this.timeout(300_000); // first run fetches the jars with Maven
    brokers = await requireKafka();
  });

  afterEach(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    consumer = producer = admin = undefined;
  });

  it('round-trips 10,000 messages on a fresh topic, one by one', async () => {
    const kafka = createKafka(connection(brokers, 'ww-test-roundtrip'));
    const topic = freshName('ww-roundtrip');
    admin = kafka.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }), true);

    const N = 10_000;
    const sent = Array.from({ length: N }, (_, i) => ({ key: `device-${i % 37}`, value: JSON.stringify({ seq: i, v: Math.sin(i) }) }));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < N; i += 1000) {
      await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: sent.slice(i, i + 1000) });
    }

    const received: { key: string; value: string; partition: number; offset: string }[] = [];
    consumer = kafka.consumer({ groupId: freshName('ww-group'), sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition, offset: message.offset });
          if (received.length === N) resolve();
          return Promise.resolve();
        },
      });
    });
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${received.length}/${N} consumed in 60 s`)), 60_000))]);

    assert.equal(received.length, N);
    const bySeq = new Map<number, { key: string; value: string; partition: number }>();
    for (const r of received) bySeq.set((JSON.parse(r.value) as { seq: number }).seq, r);
    assert.equal(bySeq.size, N, 'every message exactly once');
    for (let i = 0; i < N; i++) {
      const r = bySeq.get(i);
      assert.ok(r, `message ${i} missing`);
      assert.equal(r.key, sent[i]!.key, `key of ${i}`);
      assert.equal(r.value, sent[i]!.value, `value of ${i}`);
    }
    // One key → one partition, in the order produced.
    const lastSeqByKey = new Map<string, number>();
    const partitionByKey = new Map<string, number>();
    for (const r of received) {
      const seq = (JSON.parse(r.value) as { seq: number }).seq;
      assert.ok((lastSeqByKey.get(r.key) ?? -1) < seq, `order within key ${r.key}`);
      lastSeqByKey.set(r.key, seq);
      assert.equal(partitionByKey.get(r.key) ?? r.partition, r.partition, `key ${r.key} on one partition`);
      partitionByKey.set(r.key, r.partition);
    }
    await admin.deleteTopics({ topics: [topic] });
  });

  it('fails fast, naming the broker, when the broker dies under a producer', async function () {
    this.timeout(120_000);
    const outage = { ...DEFAULT_KAFKA, instance: 'kafka-outage-test', port: DEFAULT_KAFKA.port + 100, controller_port: DEFAULT_KAFKA.controller_port + 100 };
    await startKafka(outage);
    const ownBrokers = kafkaBrokers(outage);
    try {
      const kafka = createKafka(connection(ownBrokers, 'ww-test-outage'));
      const topic = freshName('ww-outage');
      admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: 'before' }] });

      await stopKafka(outage.instance);
      const t0 = Date.now();
      const err = await producer.send({ topic, messages: [{ key: 'k', value: 'after' }] }).then(
        () => undefined,
        (e: unknown) => kafkaFailure(ownBrokers, `produce to ${topic}`, e),
      );
      const elapsed = Date.now() - t0;
      assert.ok(err, 'produce to a dead broker must fail');
      assert.match(err.message, new RegExp(`kafka ${ownBrokers[0]!.replace(/\./g, '\\.')}`));
      assert.equal(err.code, 'WW_KAFKA_UNAVAILABLE');
      assert.ok(elapsed < 30_000, `failed after ${elapsed} ms, expected < 30 s`);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      producer = admin = undefined;
    } finally {
      await stopKafka(outage.instance);
    }
  });
});
