/**
 * Kafka pipeline benchmark for BENCHMARKS.md: feature windows per second through wardwatch's producer → broker →
 * consumer group for several message shapes (window batches of binary or JSON windows, v1 single-window messages,
 * uncompressed batches), beside Kafka's own Java perf tools on the same broker, and end-to-end latency (window
 * closed → consumed by the detector group) at real-time pace.
 *
 * The machine may be shared: besides wall-clock rates, each run reports windows per CPU second of the client
 * (process.cpuUsage) and of client + broker (/proc/<broker pid>/stat); medians of WW_BENCH_KAFKA_RUNS runs.
 */
import { encodeWindowBinary } from '../src/transport/codec.js';
import { DEFAULT_WINDOW_PRODUCER } from '../src/transport/kafka/producer.js';
import { kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { bytesPerWindow, captureWindows, javaThroughput, latency, shapeName, wardwatchThroughput, type MessageShape, type ThroughputRun } from './kafka.js';
import { median, registerBenchmark, type Measurement } from './registry.js';

const WINDOWS = Number(process.env['WW_BENCH_KAFKA_WINDOWS'] ?? 200_000);
const RUNS = Number(process.env['WW_BENCH_KAFKA_RUNS'] ?? 3);
const LATENCY_S = Number(process.env['WW_BENCH_KAFKA_LATENCY_S'] ?? 60);
const PER_MESSAGE = DEFAULT_WINDOW_PRODUCER.message_max_windows;

const m = (runs: number[], unit: string): Measurement => ({ median: median(runs), runs, unit });
const k = (n: number): string => `${Math.round(n / 1000).toLocaleString('en-US')}k`;

registerBenchmark({
  name: 'kafka',
  title: 'Feature windows through Kafka',
  async run() {
    if (!(await kafkaReady())) await startKafka({}, (msg) => process.stderr.write(`${msg}\n`));
    const brokers = kafkaBrokers();
    const windows = await captureWindows(WINDOWS);
    const recordSize = Math.round(windows.slice(0, 1000).reduce((s, w) => s + encodeWindowBinary(w).length, 0) / 1000);
    const shapes: MessageShape[] = [
      { codec: 'binary', message_max_windows: PER_MESSAGE },
      { codec: 'json', message_max_windows: PER_MESSAGE },
      { codec: 'binary', message_max_windows: 1 },
      { codec: 'binary', message_max_windows: PER_MESSAGE, compression: 'none' },
    ];
    const ww = new Map<string, ThroughputRun[]>(shapes.map((s) => [shapeName(s), []]));
    const jv: { produce: number; consume: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (const shape of shapes) {
        const res = await wardwatchThroughput(brokers, windows, shape);
        ww.get(shapeName(shape))!.push(res);
        process.stderr.write(`  kafka run ${r + 1}/${RUNS} ${shapeName(shape)}: ${JSON.stringify(res)}\n`);
      }
      jv.push(await javaThroughput(brokers, WINDOWS, recordSize));
      process.stderr.write(`  kafka run ${r + 1}/${RUNS} java: ${JSON.stringify(jv.at(-1))}\n`);
    }
    const lat = await latency(brokers, 200, LATENCY_S, 1);
    const notes = (shape: MessageShape, rs: ThroughputRun[], what: 'produce' | 'consume'): string[] => {
      const b = bytesPerWindow(windows, shape);
      const perCpu = what === 'produce' ? rs.map((x) => x.produce_per_client_cpu_s) : rs.map((x) => x.consume_per_client_cpu_s);
      return [
        ...(what === 'produce' ? [`${k(median(rs.map((x) => x.produce_per_total_cpu_s)))} windows per client+broker CPU-second (client alone ${k(median(perCpu))})`] : []),
        `${b.raw.toFixed(0)} B/window encoded${shape.compression === 'none' ? '' : `, ${b.gzip.toFixed(0)} B gzipped`}; ${median(rs.map((x) => x.messages)).toLocaleString('en-US')} messages`,
      ];
    };
    const rows = shapes.flatMap((shape, i) => {
      const rs = ww.get(shapeName(shape))!;
      const label = shape.message_max_windows > 1 ? `batches of ≤ ${shape.message_max_windows} ${shape.codec} windows${shape.compression === 'none' ? ', uncompressed' : ', gzip'}` : `v1 single-window ${shape.codec} messages, gzip`;
      return [
        {
          what: `produce (sensor → broker, acks=all), ${label}`,
          ours: m(rs.map((x) => x.produce), 'windows/s'),
          oursInner: { label: 'per client CPU-second', measurement: m(rs.map((x) => x.produce_per_client_cpu_s), 'windows') },
          references:
            i === 0
              ? [{ tool: 'Kafka ProducerPerformance (Java)', measurement: m(jv.map((x) => x.produce), 'records/s'), command: `ProducerPerformance --num-records ${WINDOWS} --record-size ${recordSize} --throughput -1 acks=all compression.type=gzip enable.idempotence=true linger.ms=5 batch.size=262144` }]
              : [],
          notes: [...notes(shape, rs, 'produce'), ...(i === 0 ? ['target ≥ 50,000 windows/s through the broker'] : [])],
        },
        {
          what: `consume (broker → detector group, commit per batch), ${label}`,
          ours: m(rs.map((x) => x.consume), 'windows/s'),
          oursInner: { label: 'per client CPU-second', measurement: m(rs.map((x) => x.consume_per_client_cpu_s), 'windows') },
          references: i === 0 ? [{ tool: 'Kafka ConsumerPerformance (Java)', measurement: m(jv.map((x) => x.consume), 'records/s'), command: `ConsumerPerformance --messages ${WINDOWS}` }] : [],
          notes: notes(shape, rs, 'consume'),
        },
      ];
    });
    return {
      description: [
        `Input: ${WINDOWS.toLocaleString('en-US')} real feature windows (the sensor pipeline's windows of captures/demo.pcap, repeated with distinct device ids), one local KRaft broker (Kafka 4.1.1, the test broker), topic of 6 partitions, acks=all. wardwatch: \`KafkaWindowProducer\` (idempotent, one request in flight, ≤ 2,000 windows per request, gzip level 1) and \`KafkaWindowConsumer\` (consumer group, commit after each batch), for each message shape. Reference: Kafka's \`ProducerPerformance\` / \`ConsumerPerformance\` (Java client, one ${recordSize}-byte record per window, acks=all, gzip, idempotence) in the same run. Median of ${RUNS} runs.`,
        'The machine is shared (2 cores; broker and client on it): wall-clock rates move with the load, so each row also gives windows per CPU-second of the client (process.cpuUsage) and, for produce, of client + broker together (/proc/<broker pid>/stat) — the steadier figures.',
        `Latency: 200 devices at real-time pace (each device's window enqueued when it closes, spread over the 10 s), ${LATENCY_S} s, default producer (batches, linger 20 ms); latency = consumed by the detector group − enqueued by the sensor, wall clock: p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms over ${lat.n} windows (target p99 ≤ 2 s).`,
      ],
      rows,
    };
  },
});
