/**
 * The distributed deployment's two processes (wiring only; each stage lives in its folder):
 *  - `SensorService`: capture (file or live interface) → decode → flows/features → Kafka feature topic; with
 *    `sinks.influx` set, its health (`ww_health`, src/records/health.ts) every 10 s and its inventory (`ww_inventory`)
 *    at the end (as `wardwatch run` writes it) and, live, every minute; on a live interface, the capture
 *    loss watched (src/capture/loss.ts: warning, `/healthz`) and noted on every feature window (`capture_loss`);
 *  - `DetectorService`: Kafka consumer group → detector → sinks, with per-device detector state written to the
 *    compacted state topic before each batch is committed and reloaded when partitions are assigned.
 */
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { readCapture } from './capture/pcap-file/reader.js';
import { LiveCaptureSource, type LiveCaptureOptions } from './capture/live/cap-source.js';
import { DEFAULT_LIVE_CAPTURE } from './capture/live/config.js';
import type { CaptureSource } from './capture/source.js';
import { CaptureLossMonitor, droppedOf } from './capture/loss.js';
import { PacketDecoder } from './decode/decoder.js';
import type { AnalysisPipelineOptions } from './pipeline/analysis.js';
import { createPipelineRunner, type PipelineRunner } from './pipeline/runner.js';
import { newDecodedPacket, type CapturedFrame } from './records/packet.js';
import type { FlowRecord } from './records/flow.js';
import type { InventoryEntry } from './records/device.js';
import type { FeatureWindow } from './records/features.js';
import type { Alert, WindowScore } from './records/alert.js';
import { sensorHealth, sinkDrops, sinkRetries, type DetectorHealth, type SensorHealthSample } from './records/health.js';
import type { WardwatchConfig } from './config/schema.js';
import { createKafka, kafkaFailure, retryingStart } from './transport/kafka/client.js';
import { KafkaWindowProducer } from './transport/kafka/producer.js';
import { KafkaWindowConsumer } from './transport/kafka/consumer.js';
import { KafkaStateStore } from './transport/kafka/state.js';
import { KafkaInventoryPublisher, KafkaInventoryReader } from './transport/kafka/inventory.js';
import { KafkaRecordPublisher } from './transport/kafka/records.js';
import { KafkaAlertPublisher } from './transport/kafka/alerts.js';
import { encodeFlow } from './transport/codec.js';
import { ensureTopics, topicNames } from './transport/kafka/topics.js';
import { Detector, selectBackendFor, type InventoryLookup } from './detect/index.js';
import { SinkSet } from './sinks/fanout.js';
import { SinkQueue, type SinkQueueOptions } from './sinks/queue.js';
import { componentLogger } from './log.js';
import { settledWithin } from './retry.js';
import { ConfigError, describeError, type WardwatchError } from './errors.js';
import type { HealthReport } from './metrics.js';

type KafkaSection = NonNullable<WardwatchConfig['transport']['kafka']>;

export function kafkaFromConfig(k: KafkaSection): Kafka {
  return createKafka({
    brokers: k.brokers,
    client_id: k.client_id,
    connection_timeout_ms: k.connection_timeout_ms,
    request_timeout_ms: k.request_timeout_ms,
    retry: k.retry,
    ...(k.ssl !== undefined ? { ssl: k.ssl } : {}),
    ...(k.sasl ? { sasl: k.sasl } : {}),
  });
}

function requireKafka(config: WardwatchConfig): KafkaSection {
  const k = config.transport.kafka;
  if (!k) throw new ConfigError('transport.kafka', 'this command needs Kafka: set transport.kafka.brokers (or WARDWATCH_KAFKA_BROKERS)');
  return k;
}

/** Creates the feature, alert and dead-letter topics when missing (and whatever `more` creates), with one admin connection. */
async function ensurePipelineTopics(kafka: Kafka, k: KafkaSection, more?: (admin: Admin) => Promise<void>): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    // The first connection: wrong credentials or an untrusted certificate show up here, as one clear line.
    throw kafkaFailure(k.brokers, 'connect', err, k);
  }
  try {
    const t = topicNames(k.topics);
    await ensureTopics(admin, [t.features, t.alerts, t.dead_letter, t.inventory, ...(t.flows ? [t.flows] : [])], k.topics, [t.inventory]);
    await more?.(admin);
  } catch (err) {
    // e.g. "This server does not host this topic-partition" while topics are being created: retriable, coded.
    throw kafkaFailure(k.brokers, 'create topics', err, k);
  } finally {
    await admin.disconnect();
  }
}

export interface SensorSource {
  file?: string;
  live?: LiveCaptureOptions;
  /**
   * File only: replay pace, N× the capture's own pace (1 = real time): each frame is processed when the wall clock
   * reaches its packet time ÷ N (windows still close on packet time). Default: as fast as the broker takes it.
   */
  speed?: number;
  /** File only, with `speed`: frames before this packet time (seconds since the epoch) are read at full speed. */
  speed_from?: number;
  /**
   * A capture source of the caller's instead of `file`/`live` (tests: a scripted live source). One with `stats()` is
   * treated as live (wall-time health, capture-loss watch), one without as a file.
   */
  source?: CaptureSource;
  /** Overrides `analysis.threads` (`wardwatch sensor --threads`). */
  threads?: number;
  /** Cadences, for tests (defaults: health every 10 s, capture counters sampled every 1 s, live inventory every 60 s). */
  intervals?: { health_ms?: number; loss_sample_ms?: number; inventory_ms?: number };
}


/** Optional observers of the sensor (benchmarks, tests); nothing they return is used. */
export interface SensorHooks {
  /** A feature window was closed by the pipeline, just before it is enqueued for Kafka. */
  onWindow?: (w: FeatureWindow) => void;
}

/** Live capture on a quiet wire: windows and flows close this long after wall time passed their end. */
const IDLE_GRACE_MS = 2000;

/** Keys of the detector-state topic that hold a device's open webhook incidents (the others: its scoring state). */
const INCIDENT_KEY_PREFIX = 'webhook:';

/** A live sensor writes its inventory to ww_inventory this often (and at the stop). */
const INVENTORY_EVERY_MS = 60_000;

/** How long `SensorService.stop()` may take by default: SIGTERM must end a sensor within 5 s. */
export const DEFAULT_SENSOR_STOP_MS = 4000;

/** Capture → decode → flows/features → Kafka. `run()` resolves at the end of a file, or after `stop()`. */
export class SensorService {
  private readonly log = componentLogger('sensor');
  /** Device identity, flows and feature windows: on this thread, or on a worker (`analysis.threads: 2`). */
  readonly analysis: PipelineRunner;
  readonly producer: KafkaWindowProducer;
  /** The inventory entries detectors need, published before the windows that need them. */
  readonly inventory: KafkaInventoryPublisher;
  /** Ended flow records to `<prefix><topics.flows>`, when that is set (off by default). */
  readonly flows: KafkaRecordPublisher | undefined;
  private readonly kafka: Kafka;
  private source: CaptureSource | undefined;
  readonly decoder = new PacketDecoder();
  packets = 0;
  /** `ww_health` writer (InfluxDB only), when `sinks.influx` is set. */
  readonly health: SinkSet | undefined;
  private healthReady: Promise<boolean> | undefined;
  private readonly healthWrites = new Set<Promise<void>>();
  private lastHealth: SensorHealthSample | undefined;
  healthPoints = 0;
  /** Health points given up because InfluxDB never became ready before the stop (the writer counts its own drops). */
  healthPointsDropped = 0;
  /** Live sources only: the capture-loss watch (warning, /healthz), created when the capture starts. */
  loss: CaptureLossMonitor | undefined;
  private readonly timers: NodeJS.Timeout[] = [];


  constructor(
    private readonly config: WardwatchConfig,
    private readonly input: SensorSource,
    runId = '',
    hooks: SensorHooks = {},
  ) {
    const k = requireKafka(config);
    this.kafka = kafkaFromConfig(k);
    const topics = topicNames({ ...k.topics });
    this.inventory = new KafkaInventoryPublisher(this.kafka, k.brokers, topics.inventory);
    this.producer = new KafkaWindowProducer(this.kafka, k.brokers, { topic: topics.features, ...k.producer, before_send: () => this.inventory.flush() });
    const options: AnalysisPipelineOptions = {
      flows: config.flows,
      devices: config.devices,
      features: { ...config.features, sensor_id: config.sensor.id, run_id: runId },
    };
    const flows = topics.flows ? new KafkaRecordPublisher(this.kafka, k.brokers, { topic: topics.flows, max_queued: 200_000, batch_max: 2000, linger_ms: 100 }) : undefined;
    this.flows = flows;
    // Health goes through the sinks' own ww_health writer (SinkSet.onHealth → healthPoint), InfluxDB only.
    this.health = config.sinks.influx
      ? new SinkSet({ alerts_file: undefined, influx: config.sinks.influx, webhooks: undefined, syslog: undefined, sensor_id: config.sensor.id, run_id: runId })
      : undefined;
    this.analysis = createPipelineRunner(input.threads !== undefined ? { ...config.analysis, threads: input.threads } : config.analysis, options, {
      // Keyed by the originator's device (else the responder's, else the originator address): a device's flows stay in order.
      ...(flows ? { onFlow: (r: FlowRecord) => flows.offer(encodeFlow(r, r.orig_device || r.resp_device || r.orig_h)) } : {}),
      onWindow: (w, entry) => {
        hooks.onWindow?.(w);
        // The device's entry first (given only when a field the detector uses changed), then its window.
        if (entry) this.inventory.offer(entry, w.window_start);
        this.producer.enqueue([w]);
      },
    });
  }

  /**
   * Runs until the end of a file, or until `stop()`; the pipeline's last windows are flushed into the producer before
   * it resolves (and before `stop()` closes the producer).
   */
  run(): Promise<void> {
    this.running ??= this.capture();
    return this.running;
  }

  private running: Promise<void> | undefined;

  private async capture(): Promise<void> {
    // Retriable start errors (broker not up yet) are retried until it works or stop(); wrong credentials end the run.
    const k = requireKafka(this.config);
    if (!(await retryingStart('sensor start', k.brokers, () => ensurePipelineTopics(this.kafka, k), { connection: k, cancelled: () => this.stopped !== undefined, logger: this.log, onRetry: () => Promise.resolve(void this.startFailures++) }))) return;
    const live = this.input.live;
    this.source = this.input.source ?? (this.input.file ? await readCapture(this.input.file) : new LiveCaptureSource(live!));
    const source = this.source;
    this.log.info({ source: this.input.file ?? live?.interface ?? source.description }, 'sensor started');
    this.startHealth();
    const p = newDecodedPacket();
    // A source that can drop (a live interface) is watched on wall time; a file's health follows its packet time.
    const dropping = typeof source.stats === 'function';
    const file = !dropping;
    const healthEvery = (this.input.intervals?.health_ms ?? 10_000) / 1000;
    if (dropping) {
      // The settings the warning names, as the live source runs with them (its defaults where the caller gave none).
      const settings = live ? { ...DEFAULT_LIVE_CAPTURE, ...live } : undefined;
      this.loss = new CaptureLossMonitor(this.config.capture_loss, {
        interface: settings?.interface ?? source.description,
        ...(settings ? { snaplen_bytes: settings.snaplen_bytes, buffer_size_bytes: settings.buffer_size_bytes, immediate: settings.immediate, chunk_bytes: settings.chunk_bytes, chunks: settings.chunks } : {}),
        analysis_threads: this.analysis.threads,
      });
      this.lastHealth = this.healthSample(Date.now() / 1000, 0);
      // Noted from the start: every window of a live capture carries `capture_loss`, the first one included.
      this.sampleCapture();
      let seen = -1;
      this.every(this.input.intervals?.loss_sample_ms ?? 1000, () => {
        this.sampleCapture();
        // A quiet wire: close what a frame stamped now (minus a grace for frames still on their way) would close,
        // so the last window of a burst reaches the detector without waiting for the next packet.
        if (this.packets === seen) this.analysis.closeIdle(Date.now() - IDLE_GRACE_MS);
        seen = this.packets;
      });
      if (this.health) {
        this.every(healthEvery * 1000, () => this.writeHealth(Date.now() / 1000));
        // A live sensor may run for months: its inventory reaches ww_inventory every minute, not only at the stop.
        this.every(this.input.intervals?.inventory_ms ?? INVENTORY_EVERY_MS, () => this.writeInventory(Date.now() / 1000));
      }
    }
    let nextHealth = NaN;
    let lastTs = NaN;
    const handle = (frame: CapturedFrame): Promise<void> | undefined => {
      if (file && this.health) {
        // Health every `healthEvery` s of packet time, as `wardwatch run` writes it (same points at any speed).
        const ts = frame.ts_sec + frame.ts_nsec / 1e9;
        if (ts >= nextHealth) {
          const at = Math.floor(ts / healthEvery) * healthEvery;
          this.writeHealth(at);
          nextHealth = at + healthEvery;
        } else if (Number.isNaN(nextHealth)) nextHealth = (Math.floor(ts / healthEvery) + 1) * healthEvery;
        lastTs = ts;
      }
      this.decoder.decode(frame, p);
      this.packets++;
      // A threaded analysis behind by its bound: wait (a file pauses reading; a live capture fills its own buffers).
      const behind = this.analysis.process(p);
      if (behind !== undefined) return behind;
      // A file can wait for the broker (backpressure); a live interface cannot (the spool absorbs outages).
      if (file && (this.packets & 0x3ff) === 0 && this.producer.stats().buffered > 0) return this.producer.waitForCapacity();
      return undefined;
    };
    const pace = file && this.input.speed !== undefined ? replayPacer(this.input.speed, this.input.speed_from ?? -Infinity) : undefined;
    try {
      try {
        await source.forEachFrame((frame) => {
          const wait = pace?.(frame.ts_sec + frame.ts_nsec / 1e9);
          // The frame stays valid while the source waits for the returned promise.
          return wait === undefined ? handle(frame) : wait.then(() => handle(frame));
        });
      } finally {
        for (const t of this.timers.splice(0)) clearInterval(t);
      }
      // The last counters go to the open window before it is flushed.
      if (dropping) this.sampleCapture();
      await this.analysis.flush();
      // The inventory as the capture left it, for the last ww_inventory points (written at the stop, as `run` does).
      if (this.health) this.finalEntries = await this.analysis.entries();
    } finally {
      await this.analysis.close();
    }
    this.finalHealthAt = dropping ? Date.now() / 1000 : lastTs;
  }

  /** Time of the final health point: a file's last packet time, a live capture's end (NaN: none, nothing was read). */
  private finalHealthAt = NaN;
  /** The inventory at the end of the capture (with `sinks.influx`): the last ww_inventory points. */
  private finalEntries: InventoryEntry[] | undefined;

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Reads the live source's counters: the pipeline counts the new drops in the open window (`capture_loss`), the loss
   * monitor may warn or change the /healthz state.
   */
  private sampleCapture(): void {
    const s = this.source?.stats?.();
    if (!s) return;
    this.analysis.noteCaptureLoss(droppedOf(s), s.received);
    this.loss?.sample(s);
  }

  /** Creates the InfluxDB database in the background: capture never waits for InfluxDB (points wait instead). */
  private startHealth(): void {
    if (!this.health || this.healthReady) return;
    this.healthReady = this.health.start().then(
      () => true,
      (err: unknown) => {
        this.log.warn({ err: describeError(err) }, 'sensor health: InfluxDB not started, ww_health points are not written');
        return false;
      },
    );
  }

  /** The health sample at `at`, with the analysis stage's active flows `flowsActive` (from its counters). */
  private healthSample(at: number, flowsActive: number): SensorHealthSample {
    const s = this.source?.stats?.();
    return {
      at,
      packets: this.packets,
      packets_dropped: s ? droppedOf(s) : 0,
      decode_errors: this.decoder.counters.snapshot().malformed,
      flows_active: flowsActive,
      max_flows: this.config.flows.max_flows,
      windows_undelivered: this.producerBacklog(),
      sink_retries: sinkRetries(this.health?.stats() ?? {}),
    };
  }

  /** Windows the producer has not delivered yet: in memory and in the spool (the sensor's side of the Kafka lag). */
  private producerBacklog(): number {
    const st = this.producer.stats();
    return st.buffered + st.spool_pending;
  }

  /**
   * Queues one `ww_health` point at `at` (seconds): the contract's fields over the stages' counters. The sensor's own
   * counters are read now; the analysis stage's at this point of the packet stream (`snapshot()`: at once on one
   * thread, when the worker gets there on two), so the point holds the same values either way.
   */
  private writeHealth(at: number): void {
    const sinks = this.health;
    const ready = this.healthReady;
    if (!sinks || !ready) return;
    const now = this.healthSample(at, 0);
    const own = this.ownMetrics();
    const previous = this.lastHealth;
    this.lastHealth = now;
    this.healthPoints++;
    const write = this.analysis
      .snapshot()
      .then((stages) => {
        const values = { ...stages, ...own, ...sensorHealth({ ...now, flows_active: stages['flows_active'] ?? 0 }, previous) };
        return ready.then((ok) => (ok ? sinks.onHealth('sensor', at, values) : void this.healthPointsDropped++));
      })
      .catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'sensor health point not written'));
    this.healthWrites.add(write);
    void write.finally(() => this.healthWrites.delete(write));
  }

  /**
   * Queues the `ww_inventory` points of every confirmed device at `at` (seconds): `entries`, or the inventory at this
   * point of the packet stream. The points `wardwatch run` writes at its end; a live sensor also writes them every
   * minute.
   */
  private writeInventory(at: number, entries?: InventoryEntry[]): void {
    const sinks = this.health;
    const ready = this.healthReady;
    if (!sinks || !ready) return;
    const write = (entries !== undefined ? Promise.resolve(entries) : this.analysis.entries())
      .then((e) => ready.then((ok) => (ok ? sinks.onInventory(e, at) : undefined)))
      .then(() => void this.inventoryWrites++)
      .catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'sensor inventory points not written'));
    this.healthWrites.add(write);
    void write.finally(() => this.healthWrites.delete(write));
  }

  /** Times the inventory was written to ww_inventory. */
  inventoryWrites = 0;
  /** Start attempts that failed on a retriable error (broker not reachable yet): /healthz says it is retrying. */
  private startFailures = 0;

  /**
   * `/healthz` of the sensor: 503 until its start worked ('starting', or 'starting: N failed attempt(s), retrying'
   * while the broker cannot be reached); then ok, or degraded (503) while a live capture lost more than
   * `capture_loss.degraded_fraction` of its packets over the last `capture_loss.window_s`, with the reason and numbers.
   */
  healthReport(): HealthReport {
    const reason = this.loss?.degradedReason();
    // Not ok until the start (topics, first broker connection) worked: 'starting', with its failed attempts when retrying.
    const sensor = this.source !== undefined ? 'ok' : this.startFailures > 0 ? `starting: ${this.startFailures} failed attempt(s), retrying` : 'starting';
    const report: HealthReport = { ok: reason === undefined && sensor === 'ok', checks: { sensor, capture: reason ?? 'ok' } };
    if (this.loss) {
      const r = this.loss.recent();
      report.details = { capture_loss: { ...r, limit: this.config.capture_loss.degraded_fraction } };
    }
    return report;
  }

  /**
   * Stops capturing and hands everything on within `timeoutMs` (default 4 s, so that SIGTERM ends the process within
   * 5 s): the capture loop ends and the open windows are flushed into the producer, which delivers them or, when the
   * broker does not answer in time, moves them to the spool (a restart delivers them; without a spool they are
   * counted as dropped). The capture's final counters are logged here (live: `capture stopped: …`, component capture),
   * the last health point written (InfluxDB gets what is left of the budget, at least 200 ms; then its points are
   * given up, counted); all counters are logged by the caller (`wardwatch sensor`: "sensor stopped"). Idempotent.
   */
  stop(timeoutMs = DEFAULT_SENSOR_STOP_MS): Promise<void> {
    this.stopped ??= this.shutdown(timeoutMs);
    return this.stopped;
  }

  private stopped: Promise<void> | undefined;

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.source?.stop();
    // Wait for the capture loop to end and flush the open window (its windows go to the producer) before closing
    // the producer: a stop used to close it first, and the last windows were neither sent nor spooled.
    await this.running?.catch(() => undefined);
    const left = (): number => Math.max(500, deadline - Date.now());
    await Promise.all([this.producer.close(left()), this.inventory.close(left()), this.flows?.close(left())]);
    this.loss?.logFinal();
    // The last health point (the final counters, the spool included) within what is left of the budget.
    await this.closeHealth(Math.max(200, deadline - Date.now()));
  }
  private async closeHealth(timeoutMs: number): Promise<void> {
    const sinks = this.health;
    if (!sinks || !this.healthReady) return;
    if (Number.isFinite(this.finalHealthAt)) {
      this.writeHealth(this.finalHealthAt);
      if (this.finalEntries) this.writeInventory(this.finalHealthAt, this.finalEntries);
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const closed = (async (): Promise<'closed'> => {
      await Promise.all([...this.healthWrites]);
      await sinks.close().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'sensor health: InfluxDB writer not closed cleanly'));
      return 'closed';
    })();
    const outcome = await Promise.race([closed, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      // InfluxDB unreachable: give up on the pending points rather than hang (counted: the writer's points_dropped, and
      // health_points_dropped for points still waiting for the database to be created).
      sinks.influx?.abort();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 100))]);
    }
  }


  /** The sensor's counters: the analysis stage's (on two threads: as of its last answer, ≤ 250 ms old) and its own. */
  metrics(): Record<string, number> {
    return { ...this.analysis.latest(), ...this.ownMetrics() };
  }

  /** Counters of the sensor's own parts: producer, publishers, decoder, capture, health writer. */
  private ownMetrics(): Record<string, number> {
    return {
      ...prefixed('producer', { ...this.producer.stats() }),
      producer_messages: this.producer.messagesSent,
      start_failures: this.startFailures,
      inventory_published: this.inventory.sent,
      ...(this.flows ? prefixed('flows_kafka', { ...this.flows.stats() }) : {}),
      decode_malformed: this.decoder.counters.snapshot().malformed,
      ...captureMetrics(this.source),
      ...(this.loss
        ? { capture_loss_recent: this.loss.recent().fraction, capture_degraded: this.loss.degradedReason() === undefined ? 0 : 1, capture_loss_warnings: this.loss.warnings }
        : {}),
      ...(this.health ? { health_points: this.healthPoints, health_points_dropped: this.healthPointsDropped, ...prefixed('health_influx', { ...this.health.influx!.stats() }) } : {}),
    };
  }
}


/**
 * Paced file replay: the wait before the frame of packet time `ts` is processed (undefined: none), so that it is
 * processed when the wall clock reaches its packet time ÷ `speed`, counted from the first frame at or after `from`.
 */
export function replayPacer(speed: number, from: number): (ts: number) => Promise<void> | undefined {
  let first = NaN;
  let wallStart = 0;
  return (ts) => {
    if (ts < from) return undefined;
    if (Number.isNaN(first)) {
      first = ts;
      wallStart = performance.now();
    }
    const ahead = ((ts - first) * 1000) / speed - (performance.now() - wallStart);
    return ahead > 1 ? new Promise<void>((r) => setTimeout(r, ahead)) : undefined;
  };
}

/**
 * Capture health: libpcap's counters for a live source (`pcap_received`, `pcap_dropped`, `pcap_ifdropped`) and
 * `packets_dropped` (= pcap_dropped + pcap_ifdropped; 0 for a file), the `ww_health` field the dashboards plot.
 */
export function captureMetrics(source: CaptureSource | undefined): Record<string, number> {
  const s = source?.stats?.();
  if (!s) return { packets_dropped: 0 };
  return { pcap_received: s.pcap_received, pcap_dropped: s.pcap_dropped, pcap_ifdropped: s.pcap_ifdropped, packets_dropped: droppedOf(s) };
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}_${k}`, v]));
}

/** Optional observers of the detector (benchmarks, tests); nothing they return is used. */
export interface DetectorHooks {
  /** A batch's window metrics are written: the alerts file and InfluxDB have them (InfluxDB acknowledged the points). */
  onScoresWritten?: (windows: readonly FeatureWindow[], scores: readonly WindowScore[]) => void;
  /** A batch's alerts are written: alerts file appended, InfluxDB acknowledged (webhooks deliver them on their own). */
  onAlertsWritten?: (alerts: readonly Alert[]) => void;
}

/** Settings of the detector's process, for tests and benchmarks (defaults: the sink queue's, 10 s to settle at stop). */
export interface DetectorOptions {
  sink_queue?: Partial<SinkQueueOptions>;
  /** At stop, how long batches already scored may take to reach the sinks and be committed. */
  settle_ms?: number;
  /** `ww_health` cadence (with `sinks.influx`; default 10 s), for tests. */
  health_ms?: number;
}

/**
 * Kafka → detector → sinks, one member of the detector group. Scored batches go to a bounded sink queue
 * (src/sinks/queue.ts): the consumer keeps fetching (and heartbeating) while sinks write, and commits a batch once its
 * alerts, metrics and detector state are durable. `start()` retries retriable failures until it works (or `stop()`);
 * once running, a failure no retry can fix (the consumer crashed for good, the state topic refuses writes) is
 * `failure`, reported at once to `onFailure` listeners and by `healthReport()`: the process should end.
 */
export class DetectorService {
  private readonly log = componentLogger('detector');
  private readonly kafka: Kafka;
  consumer: KafkaWindowConsumer;
  readonly state: KafkaStateStore;
  private detector: Detector | undefined;
  readonly sinks: SinkSet;
  readonly queue: SinkQueue;
  /** Every alert the detector writes, also on the alerts topic (docs/kafka.md), before its batch is committed. */
  readonly alertsTopic: KafkaAlertPublisher;
  /** Device facts for scoring: a detector sees no packets, so class, criticality and names come from the sensors' inventory topic. */
  inventory: KafkaInventoryReader;
  failure: WardwatchError | undefined;
  private readonly failureListeners: ((err: WardwatchError) => void)[] = [];
  private stopping = false;
  private sinksStarted = false;
  private startFailures = 0;
  /** Partitions of the feature topic assigned to this member now. */
  private assigned: number[] = [];
  /** Alerts and notices the sinks hold (counted as batches become durable). */
  private alertsWritten = 0;
  /** `ww_health` (component detector, with `sinks.influx`): the admin client that reads the lag, the timer. */
  private lagAdmin: Admin | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly healthWrites = new Set<Promise<void>>();
  healthPoints = 0;

  constructor(
    private readonly config: WardwatchConfig,
    private readonly hooks: DetectorHooks = {},
    private readonly options: DetectorOptions = {},
  ) {
    const k = requireKafka(config);
    this.kafka = kafkaFromConfig(k);
    const topics = topicNames(k.topics);
    this.consumer = this.newConsumer();
    // One state topic per detector group: another group (a second deployment, a test) must not inherit its state.
    this.inventory = new KafkaInventoryReader(this.kafka, k.brokers, topics.inventory);
    this.alertsTopic = new KafkaAlertPublisher(this.kafka, k.brokers, topics.alerts);
    this.state = new KafkaStateStore(this.kafka, k.brokers, { topic: `${k.topics.prefix}${k.topics.detector_state}.${k.consumer.group_id}`, partitions: k.topics.partitions, replication_factor: k.topics.replication_factor });
    this.sinks = new SinkSet({
      alerts_file: { file: config.sinks.files.alerts_file, max_bytes: config.sinks.files.max_bytes, keep: config.sinks.files.keep },
      influx: config.sinks.influx,
      webhooks: config.sinks.webhooks,
      syslog: config.sinks.syslog,
      sensor_id: config.sensor.id,
      run_id: '',
      // Offsets are committed after each batch's writes: waiting for the flush interval would only delay the commit.
      write_now: true,
    });
    this.queue = new SinkQueue(this.sinks, options.sink_queue, (b) => {
      this.alertsWritten += b.alerts.length;
      this.hooks.onScoresWritten?.(b.windows, b.scores);
      if (b.alerts.length) this.hooks.onAlertsWritten?.(b.alerts);
    });
  }

  private newConsumer(): KafkaWindowConsumer {
    const k = requireKafka(this.config);
    return new KafkaWindowConsumer(this.kafka, {
      topic: topicNames(k.topics).features,
      group_id: k.consumer.group_id,
      dead_letter_topic: topicNames(k.topics).dead_letter,
      session_timeout_ms: k.consumer.session_timeout_ms,
      heartbeat_interval_ms: k.consumer.heartbeat_interval_ms,
      max_bytes_per_partition: k.consumer.max_bytes_per_partition,
      brokers: k.brokers,
    });
  }

  /**
   * Creates the topics, opens the models and joins the group, retrying retriable failures (broker unreachable,
   * topics still being created) until it works or `stop()` is called; throws what no retry can fix.
   */
  async start(): Promise<void> {
    const k = requireKafka(this.config);
    const started = await retryingStart('detector start', k.brokers, () => this.startOnce(), {
      connection: k,
      cancelled: () => this.stopping,
      logger: this.log,
      onRetry: async () => {
        this.startFailures++;
        // What the failed attempt opened is closed, and made anew for the next one.
        await this.consumer.stop(0).catch(() => undefined);
        await this.inventory.stop().catch(() => undefined);
        this.consumer = this.newConsumer();
        this.inventory = new KafkaInventoryReader(this.kafka, k.brokers, topicNames(k.topics).inventory);
      },
    });
    if (started) {
      this.log.info({ group: k.consumer.group_id }, 'detector started');
      if (this.config.sinks.influx) {
        this.healthTimer = setInterval(() => this.writeHealth(Date.now() / 1000), this.options.health_ms ?? 10_000);
        this.healthTimer.unref();
      }
    }
  }

  private async startOnce(): Promise<void> {
    const k = requireKafka(this.config);
    await ensurePipelineTopics(this.kafka, k, (admin) => this.state.ensureTopic(admin));
    if (!this.sinksStarted) {
      await this.sinks.start();
      this.sinksStarted = true;
    }
    const detector = (this.detector ??= await this.openDetector());
    // As in `run`: without an operator-given name, the DHCP host name names the device in alerts.
    // The entry of the window's time (the sensor may be far ahead, and a device's class changes as it is learned).
    const lookup: InventoryLookup = (id, w) => {
      const e = w !== undefined ? this.inventory.at(id, w.window_start) : this.inventory.get(id);
      return e && !e.name && e.dhcp_hostname ? { ...e, name: e.dhcp_hostname } : e;
    };
    await this.inventory.start();
    const consumer = this.consumer;
    consumer.onFailure((err) => this.fail(err));
    await consumer.start(
      async (windows, ctx) => {
        // Entries the sensors wrote before these windows are read before they are scored (bounded well below the
        // session timeout: a slow inventory read must not cost the group membership; not read by then, the batch is
        // fetched again).
        await this.inventory.catchUp(Math.min(10_000, Math.floor(k.consumer.session_timeout_ms / 3)), { required: true });
        await ctx.heartbeat();
        const out = await detector.score(windows, lookup);
        // State is taken now (this batch's) and written before the batch is committed: a member that takes the
        // partition over continues from here.
        const state: Map<string, Buffer | null> = detector.takeDirtyState();
        const receipt = await this.queue.accept(
          {
            windows,
            scores: out.scores,
            alerts: out.alerts,
            // The webhook incidents this batch changed go with the detector state (keys `webhook:<device>`).
            decided: () => {
              for (const [device, v] of this.sinks.webhooks?.takeDirtyIncidents() ?? []) state.set(`${INCIDENT_KEY_PREFIX}${device}`, v);
            },
            after: async () => {
              await this.alertsTopic.publish(out.alerts);
              await this.state.put(state);
            },
          },
          { heartbeat: () => ctx.heartbeat(), heartbeat_ms: k.consumer.heartbeat_interval_ms, cancelled: () => consumer.isStopping || this.failure !== undefined },
        );
        if (!receipt) throw new Error('detector stopping: batch not taken, it is fetched again after a restart');
        return receipt;
      },
      async (partitions) => {
        this.assigned = partitions;
        const loaded = await this.state.load();
        const incidents = new Map<string, Buffer>();
        for (const [key, v] of loaded) {
          if (!key.startsWith(INCIDENT_KEY_PREFIX)) continue;
          incidents.set(key.slice(INCIDENT_KEY_PREFIX.length), v);
          loaded.delete(key);
        }
        const restored = detector.restoreState(loaded);
        const incidentsRestored = this.sinks.webhooks?.restoreIncidents(incidents) ?? 0;
        this.log.info({ partitions, devices_restored: restored, incidents_restored: incidentsRestored }, 'partitions assigned: detector state and webhook incidents loaded');
      },
    );
  }

  /** Opens the model store; a missing or empty store is a warning naming its absolute path (no anomaly alerts then). */
  private async openDetector(): Promise<Detector> {
    await selectBackendFor(this.config.detect, 'score'); // as `run` does: models load on the scoring backend
    const detector = await Detector.open(this.config.detect);
    if (detector.loadedModels().length === 0) {
      this.log.warn(
        { models_dir: path.resolve(this.config.detect.models_dir) },
        `no models in ${path.resolve(this.config.detect.models_dir)} (detect.models_dir): every device stays in learning and no anomaly is alerted until models are trained there (wardwatch train)`,
      );
    }
    return detector;
  }

  private fail(err: WardwatchError): void {
    if (this.failure || this.stopping) return;
    this.failure = err;
    for (const l of this.failureListeners.splice(0)) l(err);
  }

  /** Called once, at once, when the detector stops working for good (see `failure`). */
  onFailure(listener: (err: WardwatchError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /** `/healthz`: ok only while the consumer runs; starting (retrying), failed or stopping is 503 with the reason. */
  healthReport(): HealthReport {
    const consumer = this.failure ? `failed: ${this.failure.code}: ${this.failure.message}` : this.consumer.running ? 'ok' : this.startFailures > 0 ? `starting: ${this.startFailures} failed attempt(s), retrying` : 'starting';
    const q = this.queue.stats();
    return { ok: consumer === 'ok', checks: { detector: this.failure ? 'failed' : 'ok', consumer }, details: { sink_queue: q } };
  }

  /**
   * Queues one `ww_health` point (component detector, src/records/health.ts `DetectorHealth`) at `at` (seconds): the
   * consumer lag of this member's partitions read from Kafka, what it scored and wrote, its sinks' retries and drops.
   */
  writeHealth(at: number): void {
    if (!this.config.sinks.influx) return;
    const write = (async () => {
      const lag = await this.consumerLag();
      const m = this.metrics();
      const sinks = this.sinks.stats();
      const health: DetectorHealth = {
        consumer_lag: lag,
        partitions_assigned: this.assigned.length,
        windows_scored: m['windows_scored'] ?? 0,
        windows_received: m['windows_received'] ?? 0,
        alerts_written: this.alertsWritten,
        sink_retries: sinkRetries(sinks),
        sink_dropped: sinkDrops(sinks),
        sink_queue_windows: this.queue.stats().pending_windows,
      };
      await this.sinks.onHealth('detector', at, { ...m, ...health });
      this.healthPoints++;
    })().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'detector health point not written'));
    this.healthWrites.add(write);
    void write.finally(() => this.healthWrites.delete(write));
  }

  /** Messages of this member's partitions not yet committed by the group: high watermark − committed offset. */
  private async consumerLag(): Promise<number> {
    if (this.assigned.length === 0) return 0;
    const k = requireKafka(this.config);
    const topic = topicNames(k.topics).features;
    if (!this.lagAdmin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.lagAdmin = admin;
    }
    const [ends, committed] = await Promise.all([this.lagAdmin.fetchTopicOffsets(topic), this.lagAdmin.fetchOffsets({ groupId: k.consumer.group_id, topics: [topic] })]);
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    let lag = 0;
    for (const e of ends) {
      if (!this.assigned.includes(e.partition)) continue;
      const c = at.get(e.partition) ?? -1;
      lag += Math.max(0, Number(e.high) - (c >= 0 ? c : Number(e.low)));
    }
    return lag;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    // A failed detector does not wait for its batches: they are not committed and a restart fetches them again.
    await this.consumer.stop(this.failure ? 0 : (this.options.settle_ms ?? 10_000));
    this.queue.close();
    this.assigned = []; // a member that left owns no partition (the group hands them to the others)
    // The last health point (the final counters) before the sinks close.
    if (this.config.sinks.influx && !this.failure) this.writeHealth(Date.now() / 1000);
    await settledWithin(Promise.all([...this.healthWrites]), 3000);
    await this.lagAdmin?.disconnect().catch(() => undefined);
    await this.inventory.stop();
    await this.sinks.close();
    await this.alertsTopic.close();
    await this.state.close();
  }

  metrics(): Record<string, number> {
    return {
      ...prefixed('consumer', { ...this.consumer.stats() }),
      ...prefixed('sink_queue', { ...this.queue.stats() }),
      detector_failed: this.failure ? 1 : 0,
      start_failures: this.startFailures,
      inventory_devices: this.inventory.size,
      inventory_skipped: this.inventory.skipped,
      alerts_published: this.alertsTopic.sent,
      alerts_publish_errors: this.alertsTopic.errors,
      ...(this.detector?.counters.snapshot() ?? {}),
      ...this.sinks.stats(),
    };
  }
}
