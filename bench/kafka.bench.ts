/**
 * Kafka pipeline benchmark for BENCHMARKS.md: feature windows per second through wardwatch's producer → broker →
 * consumer group for several message shapes (window batches of binary or JSON windows, v1 single-window messages,
 * uncompressed batches), beside Kafka's own Java perf tools on the same broker, and end-to-end latency at real-time
 * pace: window closed by the sensor → written to the sinks by the detector (bench/kafka-e2e.ts), and transport alone
 * (window enqueued → consumed by the detector group).
 *
 * The machine may be shared: besides wall-clock rates, each run reports windows per CPU second of the client
 * (process.cpuUsage) and of client + broker (/proc/<broker pid>/stat); medians of WW_BENCH_KAFKA_RUNS runs.
 */
import { encodeWindowBinary } from '../src/transport/codec.js';
import { DEFAULT_WINDOW_PRODUCER } from '../src/transport/kafka/producer.js';
import { DEFAULT_INFLUX_WRITER } from '../src/sinks/influx/config.js';
import { kafkaBrokers, kafkaReady, startKafka } from '../scripts/services/kafka.js';
import { influxReady, influxUrl, startInflux } from '../scripts/services/influxdb.js';
import { endToEndLatency, type EndToEndLatency } from './kafka-e2e.js';
import { bytesPerWindow, captureWindows, javaThroughput, latency, shapeName, wardwatchThroughput, type MessageShape, type ThroughputRun } from './kafka.js';
import { median, registerBenchmark, type Measurement } from './registry.js';

const WINDOWS = Number(process.env['WW_BENCH_KAFKA_WINDOWS'] ?? 200_000);
const RUNS = Number(process.env['WW_BENCH_KAFKA_RUNS'] ?? 3);
const LATENCY_S = Number(process.env['WW_BENCH_KAFKA_LATENCY_S'] ?? 60);
/** End to end: capture seconds fast-forwarded, settled at 1x (not measured), measured at 1x; and the shorter run with a short InfluxDB flush interval. */
const E2E_FROM_S = Number(process.env['WW_BENCH_KAFKA_E2E_FROM_S'] ?? 1880);
const E2E_SETTLE_S = Number(process.env['WW_BENCH_KAFKA_E2E_SETTLE_S'] ?? 30);
const E2E_S = Number(process.env['WW_BENCH_KAFKA_E2E_S'] ?? 600);
const E2E_FAST_S = Number(process.env['WW_BENCH_KAFKA_E2E_FAST_S'] ?? 0);
const E2E_FAST_FLUSH_MS = 10;
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
    if (!(await influxReady())) await startInflux({}, (msg) => process.stderr.write(`${msg}\n`));
    const e2eRun = async (seconds: number, influx?: Record<string, unknown>): Promise<EndToEndLatency> => {
      const r = await endToEndLatency(brokers, influxUrl(), { from_s: E2E_FROM_S, settle_s: E2E_SETTLE_S, seconds: E2E_SETTLE_S + seconds, ...(influx ? { influx } : {}), log: (msg) => process.stderr.write(`${msg}\n`) });
      process.stderr.write(`  kafka e2e ${JSON.stringify(influx ?? {})}: ${JSON.stringify(r)}\n`);
      return r;
    };
    const e2e = await e2eRun(E2E_S);
    const e2eFast = E2E_FAST_S > 0 ? await e2eRun(E2E_FAST_S, { flush_interval_ms: E2E_FAST_FLUSH_MS }) : undefined;
    const lat = await latency(brokers, 200, LATENCY_S, 1);
    const ms = (x: number): string => `${Math.round(x).toLocaleString('en-US')} ms`;
    const plus = (s: number): string => `+${s.toLocaleString('en-US')} s`;
    const target = (p99: number): string => (p99 <= 2000 ? 'met' : 'NOT met');
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
        `End-to-end latency, window close → written to the sinks, at real-time (1x) replay pace: \`SensorService\` (what \`wardwatch sensor -r\` runs) replaying captures/demo.pcap at 1x → \`KafkaWindowProducer\` → the broker → \`DetectorService\` (what \`wardwatch detect\` runs: consumer group, \`Detector\` with the trained models in models/, TF.js backend ${e2e.backend} from \`detect.backend: auto\`) → \`SinkSet\`: alerts.jsonl and InfluxDB (the local influxd). The detector sends its InfluxDB writes at once (\`SinkSet\` option \`write_now\`: it awaits them before committing its offsets, so waiting for \`flush_interval_ms\` would only delay the commit and queue the other partitions' batches behind it; before this, p99 was 8.1 s). Default options throughout, except \`sinks.influx.retention_policy: ""\` (autogen: the capture's packet times are older than the default 30-day policy, whose points InfluxDB refuses); both services in this one process, so both times come from one clock. The capture's first ${plus(E2E_FROM_S)} are read at full speed (${e2e.warmup_windows.toLocaleString('en-US')} windows: the sensor's inventory and history and the detector's state warm, not measured), then 1x; measured: the ${e2e.windows.n.toLocaleString('en-US')} windows of ${e2e.devices} devices that closed between capture time ${plus(E2E_FROM_S + E2E_SETTLE_S)} and ${plus(e2e.to_s)} (${E2E_S} s at 1x after ${E2E_SETTLE_S} s settling; attacks in it: ${e2e.attacks.join(', ') || 'none'}). Closed = the sensor pipeline emits the window (the first packet at or after its end, processed when the wall clock reaches its packet time); written = \`SinkSet.onScores\` resolved (InfluxDB acknowledged the window's \`ww_device_window\` point) and, for alerts, \`SinkSet.onAlerts\` resolved (alerts.jsonl line appended, \`ww_alert\` point acknowledged); latency = written − closed, wall clock. Window metrics: **p50 ${ms(e2e.windows.p50)}, p99 ${ms(e2e.windows.p99)}** (max ${ms(e2e.windows.max)}) over ${e2e.windows.n.toLocaleString('en-US')} windows; alerts: p50 ${ms(e2e.alerts.p50)}, p99 ${ms(e2e.alerts.p99)} (max ${ms(e2e.alerts.max)}) over ${e2e.alerts.n} alert records (${e2e.alerts.anomaly} anomaly, ${e2e.alerts.new_device} new-device). Target p99 ≤ 2 s: ${target(Math.max(e2e.windows.p99, e2e.alerts.n > 0 ? e2e.alerts.p99 : 0))}.`,
        ...(e2eFast
          ? [
              `The same measurement with \`sinks.influx.flush_interval_ms: ${E2E_FAST_FLUSH_MS}\` (default ${DEFAULT_INFLUX_WRITER.flush_interval_ms}), ${E2E_FAST_S} s measured: window metrics p50 ${ms(e2eFast.windows.p50)}, p99 ${ms(e2eFast.windows.p99)} (max ${ms(e2eFast.windows.max)}) over ${e2eFast.windows.n.toLocaleString('en-US')} windows; alerts p50 ${ms(e2eFast.alerts.p50)}, p99 ${ms(e2eFast.alerts.p99)} over ${e2eFast.alerts.n}.`,
            ]
          : []),
        `Transport alone (not end to end): 200 synthetic devices at real-time pace (each device's window enqueued when it closes, spread over the 10 s), ${LATENCY_S} s, default producer (batches, linger 20 ms); latency = consumed by the detector group − enqueued, wall clock: p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms over ${lat.n} windows.`,
      ],
      rows,
    };
  },
});
