/**
 * Kafka pipeline benchmark: feature windows per second through wardwatch's producer → broker → consumer group, and
 * end-to-end latency at real-time pace, beside Kafka's own ProducerPerformance/ConsumerPerformance (the Java client,
 * same broker, same record size, acks=all, gzip) run in the same invocation.
 *
 *   node dist/bench/kafka.js [--windows 200000] [--runs 3] [--json out.json]
 *
 * Needs the local broker (started if not running, like the tests do).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createKafka } from '../src/transport/kafka/client.js';
import { KafkaWindowProducer } from '../src/transport/kafka/producer.js';
import { KafkaWindowConsumer } from '../src/transport/kafka/consumer.js';
import { DEFAULT_TOPICS, ensureTopics } from '../src/transport/kafka/topics.js';
import { encodeWindowBinary } from '../src/transport/codec.js';
import type { FeatureWindow } from '../src/records/features.js';
import { run } from '../scripts/services/common.js';
import { LOG4J_CONFIG, ensureKafkaToolsJars, kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { makeWindows } from '../test/support/windows.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const unique = (p: string): string => `${p}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

async function newTopic(brokers: string[], partitions: number): Promise<string> {
  const admin = createKafka({ brokers, client_id: 'ww-bench-admin', connection_timeout_ms: 3000, request_timeout_ms: 30_000, retry: { retries: 5, initial_retry_time_ms: 200, max_retry_time_ms: 2000 } }).admin();
  await admin.connect();
  const topic = unique('ww-bench');
  await ensureTopics(admin, [topic], { ...DEFAULT_TOPICS, partitions });
  await admin.disconnect();
  return topic;
}

function kafka(brokers: string[], id: string) {
  return createKafka({ brokers, client_id: id, connection_timeout_ms: 3000, request_timeout_ms: 30_000, retry: { retries: 5, initial_retry_time_ms: 200, max_retry_time_ms: 2000 } });
}

/** wardwatch: enqueue all windows, flush; then a fresh consumer group reads them all. Rates in windows/s. */
export async function wardwatchThroughput(brokers: string[], windows: FeatureWindow[]): Promise<{ produce: number; consume: number }> {
  const topic = await newTopic(brokers, 6);
  const k = kafka(brokers, 'ww-bench');
  const producer = new KafkaWindowProducer(k, brokers, { topic, batch_max_messages: 5000, linger_ms: 5 });
  const t0 = performance.now();
  for (let i = 0; i < windows.length; i += 1000) {
    producer.enqueue(windows.slice(i, i + 1000));
    await producer.waitForCapacity(); // a replayed file waits for the broker instead of overflowing the buffer
  }
  await producer.flush(300_000);
  const t1 = performance.now();
  if (producer.stats().dropped > 0) throw new Error(`benchmark invalid: producer dropped ${producer.stats().dropped} windows`);
  await producer.close();
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const consumer = new KafkaWindowConsumer(k, { topic, group_id: unique('ww-bench-group'), dead_letter_topic: `${topic}-dlq`, max_bytes_per_partition: 4 * 1024 * 1024 });
  const c0 = performance.now();
  let cFirst = 0;
  await consumer.start((batch) => {
    if (!cFirst) cFirst = performance.now();
    n += batch.length;
    if (n >= windows.length) resolve();
    return Promise.resolve();
  });
  await done;
  const c1 = performance.now();
  await consumer.stop();
  void c0;
  return { produce: windows.length / ((t1 - t0) / 1000), consume: windows.length / ((c1 - cFirst) / 1000) };
}

/** Java reference: ProducerPerformance and ConsumerPerformance with the same record size and settings. */
export async function javaThroughput(brokers: string[], records: number, recordSize: number): Promise<{ produce: number; consume: number }> {
  const libs = await ensureKafkaToolsJars((m) => console.error(m));
  const topic = await newTopic(brokers, 6);
  const java = ['-Xmx512m', `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, '-cp', `${libs}/*`];
  const pout = await run('java', [
    ...java,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(records), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers.join(',')}`, 'acks=all', 'compression.type=gzip', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=262144',
  ]);
  const pm = /([\d.]+) records\/sec/.exec(pout.trim().split('\n').at(-1) ?? '');
  const cout = await run('java', [
    ...java,
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', brokers.join(','), '--topic', topic, '--messages', String(records), '--group', unique('ww-bench-java'), '--timeout', '60000',
  ]);
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const row = cout.trim().split('\n').at(-1)?.split(',').map((s) => s.trim()) ?? [];
  return { produce: Number(pm?.[1] ?? NaN), consume: Number(row[9] ?? row[5] ?? NaN) };
}

/** Real-time pace: each device's window is enqueued when it closes; latency = consumed − enqueued (wall clock). */
export async function latency(brokers: string[], devices: number, seconds: number, speed: number): Promise<{ p50: number; p99: number; n: number }> {
  const topic = await newTopic(brokers, 6);
  const k = kafka(brokers, 'ww-bench-lat');
  const consumer = new KafkaWindowConsumer(k, { topic, group_id: unique('ww-bench-lat'), dead_letter_topic: `${topic}-dlq`, from_beginning: true });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  await consumer.start((batch) => {
    const now = performance.now();
    for (const w of batch) {
      const t = sentAt.get(`${w.device_id}@${w.window_start}`);
      if (t !== undefined) lat.push(now - t);
    }
    return Promise.resolve();
  });
  await new Promise((r) => setTimeout(r, 3000)); // let the group settle before the clock starts
  const producer = new KafkaWindowProducer(k, brokers, { topic });
  const windowsPerDevice = Math.ceil(seconds / 10);
  const all = makeWindows(devices, windowsPerDevice, 99);
  const start = performance.now();
  for (let k2 = 0; k2 < windowsPerDevice; k2++) {
    const due = start + ((k2 + 1) * 10_000) / speed;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Devices' windows close spread over the 10 s (each device has its own phase), as on a real sensor.
    const slice = all.slice(k2 * devices, (k2 + 1) * devices);
    for (let i = 0; i < slice.length; i++) {
      const w = slice[i]!;
      const offset = ((i / slice.length) * 10_000) / speed;
      setTimeout(() => {
        sentAt.set(`${w.device_id}@${w.window_start}`, performance.now());
        producer.enqueue([w]);
      }, offset);
    }
  }
  await new Promise((r) => setTimeout(r, 10_000 / speed + 2000));
  await producer.flush(30_000);
  const deadline = Date.now() + 30_000;
  while (lat.length < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await producer.close();
  await consumer.stop();
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), n: lat.length };
}

async function main(): Promise<void> {
  const N = arg('windows', 200_000);
  const runs = arg('runs', 3);
  if (!(await kafkaReady())) await startKafka({}, (m) => console.error(m));
  const brokers = kafkaBrokers();
  const windows = makeWindows(500, Math.ceil(N / 500), 7).slice(0, N);
  const recordSize = Math.round(windows.slice(0, 1000).reduce((s, w) => s + encodeWindowBinary(w).length, 0) / 1000);
  const ww: { produce: number; consume: number }[] = [];
  const jv: { produce: number; consume: number }[] = [];
  for (let r = 0; r < runs; r++) {
    ww.push(await wardwatchThroughput(brokers, windows));
    jv.push(await javaThroughput(brokers, N, recordSize));
    console.error(`run ${r + 1}/${runs}: wardwatch ${JSON.stringify(ww.at(-1))} java ${JSON.stringify(jv.at(-1))}`);
  }
  const lat = await latency(brokers, 200, arg('latency-seconds', 60), 1);
  const result = {
    windows: N,
    record_bytes: recordSize,
    runs,
    wardwatch_produce_per_s: median(ww.map((x) => x.produce)),
    wardwatch_consume_per_s: median(ww.map((x) => x.consume)),
    java_produce_per_s: median(jv.map((x) => x.produce)),
    java_consume_per_s: median(jv.map((x) => x.consume)),
    latency_ms_p50: lat.p50,
    latency_ms_p99: lat.p99,
    latency_samples: lat.n,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = process.argv.indexOf('--json');
  if (out > 0) writeFileSync(process.argv[out + 1]!, JSON.stringify(result, null, 2));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
