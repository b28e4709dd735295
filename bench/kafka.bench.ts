/**
 * Kafka pipeline benchmark for BENCHMARKS.md: feature windows per second through wardwatch's producer → broker →
 * consumer group, beside Kafka's own Java perf tools on the same broker with the same record size, and end-to-end
 * latency (window closed → consumed by the detector group) at real-time pace.
 */
import { encodeWindowBinary } from '../src/transport/codec.js';
import { kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { makeWindows } from '../test/support/windows.js';
import { javaThroughput, latency, wardwatchThroughput } from './kafka.js';
import { median, registerBenchmark, type Measurement } from './registry.js';

const WINDOWS = Number(process.env['WW_BENCH_KAFKA_WINDOWS'] ?? 200_000);
const RUNS = Number(process.env['WW_BENCH_KAFKA_RUNS'] ?? 3);
const LATENCY_S = Number(process.env['WW_BENCH_KAFKA_LATENCY_S'] ?? 60);

const m = (runs: number[], unit: string): Measurement => ({ median: median(runs), runs, unit });

registerBenchmark({
  name: 'kafka',
  title: 'Feature windows through Kafka',
  async run() {
    if (!(await kafkaReady())) await startKafka({}, (msg) => process.stderr.write(`${msg}\n`));
    const brokers = kafkaBrokers();
    const windows = makeWindows(500, Math.ceil(WINDOWS / 500), 7).slice(0, WINDOWS);
    const recordSize = Math.round(windows.slice(0, 1000).reduce((s, w) => s + encodeWindowBinary(w).length, 0) / 1000);
    const ww: { produce: number; consume: number }[] = [];
    const jv: { produce: number; consume: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      ww.push(await wardwatchThroughput(brokers, windows));
      jv.push(await javaThroughput(brokers, WINDOWS, recordSize));
      process.stderr.write(`  kafka run ${r + 1}/${RUNS}: wardwatch ${JSON.stringify(ww.at(-1))} java ${JSON.stringify(jv.at(-1))}\n`);
    }
    const lat = await latency(brokers, 200, LATENCY_S, 1);
    return {
      description: [
        `Input: ${WINDOWS.toLocaleString('en-US')} synthetic feature windows of 500 devices (binary codec, ${recordSize} bytes each), one local KRaft broker (Kafka 4.1.1, the test broker), topic of 6 partitions, acks=all, gzip. wardwatch: \`KafkaWindowProducer\` (idempotent, one request in flight, batches ≤ 768 KiB) and \`KafkaWindowConsumer\` (consumer group, commit after each batch). Reference: Kafka's \`ProducerPerformance\` / \`ConsumerPerformance\` (Java client, same broker, same record size, acks=all, gzip, idempotence) in the same run. Median of ${RUNS} runs; wall time (the broker shares the machine's 2 cores with the client).`,
        `Latency: 200 devices at real-time pace (each device's window enqueued when it closes, spread over the 10 s), ${LATENCY_S} s; latency = consumed by the detector group − enqueued by the sensor, wall clock: p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms over ${lat.n} windows (target p99 ≤ 2 s).`,
      ],
      rows: [
        {
          what: 'produce (sensor → broker, acks=all)',
          ours: m(ww.map((x) => x.produce), 'windows/s'),
          references: [{ tool: 'Kafka ProducerPerformance (Java)', measurement: m(jv.map((x) => x.produce), 'records/s'), command: `ProducerPerformance --num-records ${WINDOWS} --record-size ${recordSize} --throughput -1 acks=all compression.type=gzip enable.idempotence=true linger.ms=5 batch.size=262144` }],
          notes: ['target ≥ 50,000 windows/s through the broker'],
        },
        {
          what: 'consume (broker → detector group, commit per batch)',
          ours: m(ww.map((x) => x.consume), 'windows/s'),
          references: [{ tool: 'Kafka ConsumerPerformance (Java)', measurement: m(jv.map((x) => x.consume), 'records/s'), command: `ConsumerPerformance --messages ${WINDOWS}` }],
        },
      ],
    };
  },
});
