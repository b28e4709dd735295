/**
 * `wardwatch detect`: one member of the detector group. Kafka consumer group → detector → sinks, built by the one
 * builder (src/compose/topology.ts, kafka.ts), with per-device detector state (and webhook incidents) written to the
 * compacted state topic before each batch is committed and reloaded when partitions are assigned.
 */
import type { Admin } from 'kafkajs';
import type { FeatureWindow } from '../records/features.js';
import type { Alert, WindowScore } from '../records/alert.js';
import { sinkDrops, sinkRetries, type DetectorHealth } from '../records/health.js';
import type { WardwatchConfig } from '../config/schema.js';
import { retryingStart } from '../transport/kafka/client.js';
import type { KafkaWindowConsumer } from '../transport/kafka/consumer.js';
import type { KafkaStateStore } from '../transport/kafka/state.js';
import type { KafkaInventoryReader } from '../transport/kafka/inventory.js';
import type { KafkaAlertPublisher } from '../transport/kafka/alerts.js';
import type { Detector, InventoryLookup } from '../detect/index.js';
import type { SinkSet } from '../sinks/fanout.js';
import { SinkQueue, type SinkQueueOptions } from '../sinks/queue.js';
import { componentLogger } from '../log.js';
import { settledWithin } from '../retry.js';
import { describeError, type WardwatchError } from '../errors.js';
import type { HealthReport } from '../metrics.js';
import { KafkaParts } from './kafka.js';
import { prefixed } from './sensor.js';
import { Topology } from './topology.js';

/** Keys of the detector-state topic that hold a device's open webhook incidents (the others: its scoring state). */
const INCIDENT_KEY_PREFIX = 'webhook:';

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
  private readonly topology: Topology;
  private readonly kafka: KafkaParts;
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
    this.topology = new Topology(config);
    this.kafka = new KafkaParts(config);
    this.consumer = this.kafka.windowConsumer();
    this.inventory = this.kafka.inventoryReader();
    this.alertsTopic = this.kafka.alertPublisher();
    // One state topic per detector group: another group (a second deployment, a test) must not inherit its state.
    this.state = this.kafka.stateStore();
    // Offsets are committed after each batch's writes: InfluxDB is written at once, not after the flush interval.
    this.sinks = this.topology.sinks('detector');
    this.queue = new SinkQueue(this.sinks, options.sink_queue, (b) => {
      this.alertsWritten += b.alerts.length;
      this.hooks.onScoresWritten?.(b.windows, b.scores);
      if (b.alerts.length) this.hooks.onAlertsWritten?.(b.alerts);
    });
  }

  /**
   * Creates the topics, opens the models and joins the group, retrying retriable failures (broker unreachable,
   * topics still being created) until it works or `stop()` is called; throws what no retry can fix.
   */
  async start(): Promise<void> {
    const k = this.kafka.section;
    const started = await retryingStart('detector start', k.brokers, () => this.startOnce(), {
      connection: k,
      cancelled: () => this.stopping,
      logger: this.log,
      onRetry: async () => {
        this.startFailures++;
        // What the failed attempt opened is closed, and made anew for the next one.
        await this.consumer.stop(0).catch(() => undefined);
        await this.inventory.stop().catch(() => undefined);
        this.consumer = this.kafka.windowConsumer();
        this.inventory = this.kafka.inventoryReader();
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
    const k = this.kafka.section;
    await this.kafka.ensureTopics((admin) => this.state.ensureTopic(admin));
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

  /** Opens the model store (a missing or empty one is a warning naming its path: no anomaly alerts then). */
  private async openDetector(): Promise<Detector> {
    return (await this.topology.detector()).detector;
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
    const k = this.kafka.section;
    const topic = this.kafka.topics.features;
    if (!this.lagAdmin) {
      const admin = this.kafka.kafka.admin();
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
