/**
 * Kafka pipeline benchmark: feature windows per second through wardwatch's producer → broker → consumer group, and
 * end-to-end latency at real-time pace, beside Kafka's own ProducerPerformance/ConsumerPerformance (the Java client,
 * same broker, same record size, acks=all, gzip) run in the same invocation.
 *
 *   node dist/bench/kafka.js [--windows 200000] [--runs 3] [--json out.json]
 *
 * Needs the local broker (started if not running, like the tests do).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runAsScript } from './script.js';
import { createKafka } from '../src/transport/kafka/client.js';
import { KafkaWindowProducer } from '../src/transport/kafka/producer.js';
import { KafkaWindowConsumer } from '../src/transport/kafka/consumer.js';
import { DEFAULT_TOPICS, ensureTopics } from '../src/transport/kafka/topics.js';
import { encodeWindow, encodeWindowBatch, encodeWindowBinary, type WindowCodecName } from '../src/transport/codec.js';
import type { FeatureWindow } from '../src/records/features.js';
import { readState, run } from '../scripts/services/common.js';
import { LOG4J_CONFIG, ensureKafkaToolsJars, kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { makeWindows } from '../test/support/windows.js';
import { windowsFromCapture } from '../src/compose/embedded.js';
import { REPO_ROOT } from '../scripts/services/common.js';

export const DEMO_CAPTURE = path.join(REPO_ROOT, 'captures', 'demo.pcap');

/**
 * `n` real feature windows: the windows the sensor pipeline makes from `captures/demo.pcap`, repeated with the
 * device ids suffixed `/<copy>` (so copies are distinct devices) until there are `n`. Real values compress like a
 * sensor's do (counts, ratios, many zeros), unlike random test values.
 */
export async function captureWindows(n: number, file = DEMO_CAPTURE): Promise<FeatureWindow[]> {
  // The commands' own frame loop and analysis stage (src/compose/embedded.ts).
  const base = (await windowsFromCapture(file, { features: { sensor_id: 'bench', run_id: 'bench' } })).windows;
  if (base.length === 0) throw new Error(`${file} gave no feature windows`);
  const out: FeatureWindow[] = [];
  for (let copy = 0; out.length < n; copy++) {
    for (const w of base) {
      if (out.length >= n) break;
      out.push({ ...w, device_id: `${w.device_id}/${copy}` });
    }
  }
  return out;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const quantile = (xs: number[], q: number): number => {
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

/** CPU seconds (user + system) the broker process used so far, from /proc (undefined when not readable). */
function brokerCpuSeconds(): number | undefined {
  const pid = readState('kafka')?.pid;
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

export interface MessageShape {
  codec: WindowCodecName;
  /** Windows per Kafka message: 1 = v1 single-window messages. */
  message_max_windows: number;
  compression?: 'gzip' | 'none';
}

export const shapeName = (s: MessageShape): string => `${s.codec} ×${s.message_max_windows}${s.compression === 'none' ? ' uncompressed' : ''}`;

export interface ThroughputRun {
  /** Windows per wall-clock second. */
  produce: number;
  consume: number;
  /** Windows per CPU second of this process (the client) while producing / consuming. */
  produce_per_client_cpu_s: number;
  consume_per_client_cpu_s: number;
  /** Windows per CPU second of client + broker while producing (the machine is shared: this is the steadier figure). */
  produce_per_total_cpu_s: number;
  messages: number;
}

/** wardwatch: enqueue all windows, flush; then a fresh consumer group reads them all. Rates in windows/s. */
export async function wardwatchThroughput(brokers: string[], windows: FeatureWindow[], shape: MessageShape = { codec: 'binary', message_max_windows: 250 }): Promise<ThroughputRun> {
  const topic = await newTopic(brokers, 6);
  const k = kafka(brokers, 'ww-bench');
  const producer = new KafkaWindowProducer(k, brokers, { topic, batch_max_messages: 5000, linger_ms: 5, ...shape });
  const b0 = brokerCpuSeconds();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < windows.length; i += 1000) {
    producer.enqueue(windows.slice(i, i + 1000));
    await producer.waitForCapacity(); // a replayed file waits for the broker instead of overflowing the buffer
  }
  await producer.flush(300_000);
  const t1 = performance.now();
  const produceCpu = cpuSeconds(process.cpuUsage(u0));
  const b1 = brokerCpuSeconds();
  if (producer.stats().dropped > 0) throw new Error(`benchmark invalid: producer dropped ${producer.stats().dropped} windows`);
  const messages = producer.messagesSent;
  await producer.close();
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const consumer = new KafkaWindowConsumer(k, { topic, group_id: unique('ww-bench-group'), dead_letter_topic: `${topic}-dlq`, max_bytes_per_partition: 4 * 1024 * 1024 });
  let cFirst = 0;
  let cu0 = process.cpuUsage();
  await consumer.start((batch) => {
    if (!cFirst) {
      cFirst = performance.now();
      cu0 = process.cpuUsage();
    }
    n += batch.length;
    if (n >= windows.length) resolve();
    return Promise.resolve();
  });
  await done;
  const c1 = performance.now();
  const consumeCpu = cpuSeconds(process.cpuUsage(cu0));
  await consumer.stop();
  return {
    produce: windows.length / ((t1 - t0) / 1000),
    consume: windows.length / ((c1 - cFirst) / 1000),
    produce_per_client_cpu_s: windows.length / produceCpu,
    consume_per_client_cpu_s: windows.length / consumeCpu,
    produce_per_total_cpu_s: b0 !== undefined && b1 !== undefined ? windows.length / (produceCpu + (b1 - b0)) : NaN,
    messages,
  };
}

/** Bytes per window of a message shape: encoded (what the broker stores uncompressed) and gzip-compressed, as sent. */
export function bytesPerWindow(windows: FeatureWindow[], shape: MessageShape): { raw: number; gzip: number } {
  const sample = windows.slice(0, 5000);
  const enc = sample.map((w) => encodeWindow(w, shape.codec));
  const values: Buffer[] = [];
  if (shape.message_max_windows <= 1) values.push(...enc.map((m) => m.value));
  else for (let i = 0; i < enc.length; i += shape.message_max_windows) values.push(encodeWindowBatch(enc.slice(i, i + shape.message_max_windows)));
  const raw = values.reduce((n, v) => n + v.length, 0);
  // kafkajs compresses a request's record batch per partition; ~1000 windows per compressed chunk approximates it.
  let gz = 0;
  for (let i = 0; i < values.length; ) {
    const chunk: Buffer[] = [];
    let n = 0;
    while (i < values.length && n < 1000) {
      chunk.push(values[i]!);
      n += shape.message_max_windows <= 1 ? 1 : shape.message_max_windows;
      i++;
    }
    gz += gzipSync(Buffer.concat(chunk), { level: 1 }).length; // the producer's default gzip_level
  }
  return { raw: raw / sample.length, gzip: gz / sample.length };
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
  const windows = process.argv.includes('--random') ? makeWindows(500, Math.ceil(N / 500), 7).slice(0, N) : await captureWindows(N);
  const recordSize = Math.round(windows.slice(0, 1000).reduce((s, w) => s + encodeWindowBinary(w).length, 0) / 1000);
  const per = arg('message-windows', 250);
  const shapes: MessageShape[] = [
    { codec: 'binary', message_max_windows: per },
    { codec: 'json', message_max_windows: per },
    { codec: 'binary', message_max_windows: 1 },
    { codec: 'binary', message_max_windows: per, compression: 'none' },
  ];
  const ww = new Map<string, ThroughputRun[]>();
  const jv: { produce: number; consume: number }[] = [];
  for (let r = 0; r < runs; r++) {
    for (const shape of shapes) {
      const name = shapeName(shape);
      const res = await wardwatchThroughput(brokers, windows, shape);
      ww.set(name, [...(ww.get(name) ?? []), res]);
      console.error(`run ${r + 1}/${runs} ${name}: ${JSON.stringify(res)}`);
    }
    if (!process.argv.includes('--no-java')) jv.push(await javaThroughput(brokers, N, recordSize));
  }
  const lat = arg('latency-seconds', 60) > 0 ? await latency(brokers, 200, arg('latency-seconds', 60), 1) : { p50: NaN, p99: NaN, n: 0 };
  const result = {
    windows: N,
    record_bytes: recordSize,
    runs,
    shapes: Object.fromEntries(
      shapes.map((shape) => {
        const rs = ww.get(shapeName(shape)) ?? [];
        const keys = ['produce', 'consume', 'produce_per_client_cpu_s', 'consume_per_client_cpu_s', 'produce_per_total_cpu_s'] as const;
        return [shapeName(shape), { ...Object.fromEntries(keys.map((k) => [k, median(rs.map((x) => x[k]))])), bytes_per_window: bytesPerWindow(windows, shape) }];
      }),
    ),
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

runAsScript(import.meta.url, main);
