/**
 * `wardwatch sensor`: capture (file or live interface) → decode → flows/features → Kafka feature topic, built by the
 * one builder (src/compose/topology.ts, kafka.ts) and run by the one frame loop (frame-loop.ts). With `sinks.influx`
 * set, its health (`ww_health`, src/records/health.ts, as `wardwatch run` writes it: compose/health.ts) every 10 s and
 * its inventory (`ww_inventory`) at the end and, live, every minute; on a live interface, the capture loss watched
 * (src/capture/loss.ts: warning, `/healthz`) and noted on every feature window (`capture_loss`).
 */
import type { LiveCaptureOptions } from '../capture/live/cap-source.js';
import type { CaptureSource } from '../capture/source.js';
import { captureMetrics, type CaptureLossMonitor } from '../capture/loss.js';
import type { PipelineRunner } from '../pipeline/runner.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import type { FeatureWindow } from '../records/features.js';
import type { WardwatchConfig } from '../config/schema.js';
import { retryingStart } from '../transport/kafka/client.js';
import type { KafkaWindowProducer } from '../transport/kafka/producer.js';
import type { KafkaInventoryPublisher } from '../transport/kafka/inventory.js';
import type { KafkaRecordPublisher } from '../transport/kafka/records.js';
import { encodeFlow } from '../transport/codec.js';
import type { SinkSet } from '../sinks/fanout.js';
import { componentLogger } from '../log.js';
import { describeError } from '../errors.js';
import type { HealthReport } from '../metrics.js';
import type { FrameLoop } from './frame-loop.js';
import { loopCounters, SensorHealthReporter } from './health.js';
import { KafkaParts } from './kafka.js';
import { Topology } from './topology.js';

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

/** A live sensor writes its inventory to ww_inventory this often (and at the stop). */
const INVENTORY_EVERY_MS = 60_000;

/** How long `SensorService.stop()` may take by default: SIGTERM must end a sensor within 5 s. */
export const DEFAULT_SENSOR_STOP_MS = 4000;

/** Capture → decode → flows/features → Kafka. `run()` resolves at the end of a file, or after `stop()`. */
export class SensorService {
  private readonly log = componentLogger('sensor');
  readonly topology: Topology;
  /** Device identity, flows and feature windows: on this thread, or on a worker (`analysis.threads: 2`). */
  readonly analysis: PipelineRunner;
  readonly producer: KafkaWindowProducer;
  /** The inventory entries detectors need, published before the windows that need them. */
  readonly inventory: KafkaInventoryPublisher;
  /** Ended flow records to `<prefix><topics.flows>`, when that is set (off by default). */
  readonly flows: KafkaRecordPublisher | undefined;
  private readonly kafka: KafkaParts;
  private loop: FrameLoop | undefined;
  /** `ww_health`/`ww_inventory` writer (InfluxDB only), when `sinks.influx` is set. */
  readonly health: SinkSet | undefined;
  private healthReady: Promise<boolean> | undefined;
  private readonly reporter: SensorHealthReporter | undefined;
  private readonly inventoryPoints = new Set<Promise<void>>();
  /** Live sources only: the capture-loss watch (warning, /healthz), created when the capture starts. */
  loss: CaptureLossMonitor | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Start attempts that failed with a retriable error (broker not up yet); `/healthz` says so while it retries. */
  private startFailures = 0;
  private started = false;

  constructor(
    private readonly config: WardwatchConfig,
    private readonly input: SensorSource,
    runId = '',
    hooks: SensorHooks = {},
  ) {
    this.topology = new Topology(input.threads !== undefined ? { ...config, analysis: { ...config.analysis, threads: input.threads } } : config, runId);
    this.kafka = new KafkaParts(config);
    this.inventory = this.kafka.inventoryPublisher();
    this.producer = this.kafka.windowProducer(() => this.inventory.flush());
    const flows = this.kafka.flowPublisher();
    this.flows = flows;
    // Health goes through the sinks' own ww_health writer (SinkSet.onHealth → healthPoint), InfluxDB only.
    this.health = config.sinks.influx ? this.topology.sinks('sensor') : undefined;
    this.analysis = this.topology.analysis({
      // Keyed by the originator's device (else the responder's, else the originator address): a device's flows stay in order.
      ...(flows ? { onFlow: (r: FlowRecord) => flows.offer(encodeFlow(r, r.orig_device || r.resp_device || r.orig_h)) } : {}),
      onWindow: (w, entry) => {
        hooks.onWindow?.(w);
        // The device's entry first (given only when a field the detector uses changed), then its window.
        if (entry) this.inventory.offer(entry, w.window_start);
        this.producer.enqueue([w]);
      },
    });
    if (this.health) {
      const sinks = this.health;
      this.reporter = new SensorHealthReporter(
        sinks,
        {
          counters: () => loopCounters(this.loop),
          stages: () => this.analysis.snapshot(),
          max_flows: config.flows.max_flows,
          undelivered: () => this.producerBacklog(),
          own: () => this.ownMetrics(),
        },
        // InfluxDB is created in the background: capture never waits for InfluxDB (points wait instead).
        new Promise<boolean>((resolve) => (this.resolveHealthReady = resolve)),
      );
    }
  }

  private resolveHealthReady: ((ok: boolean) => void) | undefined;
  /** Aborted by `stop()`: a file replay waiting for the broker stops waiting. */
  private readonly stopping = new AbortController();
  private readonly stopRequested = new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }));

  /** Frames read so far. */
  get packets(): number {
    return this.loop?.packets ?? 0;
  }

  /** Health points queued (with `sinks.influx`). */
  get healthPoints(): number {
    return this.reporter?.points ?? 0;
  }

  /** Health points given up because InfluxDB never became ready before the stop (the writer counts its own drops). */
  get healthPointsDropped(): number {
    return this.reporter?.pointsDropped ?? 0;
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
    const k = this.kafka.section;
    const started = await retryingStart('sensor start', k.brokers, () => this.kafka.ensureTopics(), {
      connection: k,
      cancelled: () => this.stopped !== undefined,
      logger: this.log,
      onRetry: () => {
        this.startFailures++;
        return Promise.resolve();
      },
    });
    if (!started) return;
    this.started = true;
    const t = this.topology;
    const source = await t.capture(this.input.source ?? this.input.file ?? this.input.live!);
    this.log.info({ source: this.input.file ?? this.input.live?.interface ?? source.description }, 'sensor started');
    this.startHealth();
    // A source that can drop (a live interface) is watched on wall time; a file's health follows its packet time.
    const live = typeof source.stats === 'function';
    this.loss = t.captureLoss(source, this.analysis.threads);
    const intervals = this.input.intervals ?? {};
    const loop = t.frameLoop(source, this.analysis, {
      ...(this.loss ? { loss: this.loss } : {}),
      ...(this.input.speed !== undefined ? { speed: this.input.speed } : {}),
      ...(this.input.speed_from !== undefined ? { speed_from: this.input.speed_from } : {}),
      health_interval_ms: intervals.health_ms ?? 10_000,
      ...(intervals.loss_sample_ms !== undefined ? { tick_ms: intervals.loss_sample_ms } : {}),
      ...(this.reporter ? { onHealth: (at: number) => this.reporter?.write(at) } : {}),
      // A file can wait for the broker (backpressure); a live interface cannot (the spool absorbs outages). A stop
      // ends the wait: the open windows are flushed to the producer, which spools what the broker does not take.
      backpressure: () => (this.producer.stats().buffered > 0 && !this.stopping.signal.aborted ? Promise.race([this.producer.waitForCapacity(), this.stopRequested]) : undefined),
    });
    this.loop = loop;
    if (this.stopped !== undefined) loop.stop();
    if (live) {
      this.reporter?.base(Date.now() / 1000);
      // A live sensor may run for months: its inventory reaches ww_inventory every minute, not only at the stop.
      if (this.health) this.every(intervals.inventory_ms ?? INVENTORY_EVERY_MS, () => this.writeInventory(Date.now() / 1000));
    }
    try {
      let result;
      try {
        result = await loop.run();
      } finally {
        for (const timer of this.timers.splice(0)) clearInterval(timer);
      }
      this.finalHealthAt = result.end_at;
      // The inventory as the capture left it, for the last ww_inventory points (written at the stop, as `run` does).
      if (this.health) this.finalEntries = await this.analysis.entries();
    } finally {
      await this.analysis.close();
    }
  }

  /** Time of the final health point: a file's last packet time, a live capture's end (NaN: none, nothing was read). */
  private finalHealthAt = NaN;
  /** The inventory at the end of the capture (with `sinks.influx`): the last ww_inventory points. */
  private finalEntries: InventoryEntry[] | undefined;

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
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
    void this.healthReady.then((ok) => this.resolveHealthReady?.(ok));
  }

  /** Windows the producer has not delivered yet: in memory and in the spool (the sensor's side of the Kafka lag). */
  private producerBacklog(): number {
    const st = this.producer.stats();
    return st.buffered + st.spool_pending;
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
    this.inventoryPoints.add(write);
    void write.finally(() => this.inventoryPoints.delete(write));
  }

  /** Times the inventory was written to ww_inventory. */
  inventoryWrites = 0;

  /**
   * `/healthz` of the sensor: 503 while its start is retrying (broker unreachable), or while a live capture lost more
   * than `capture_loss.degraded_fraction` of its packets over the last `capture_loss.window_s`, with the reason.
   */
  healthReport(): HealthReport {
    const reason = this.loss?.degradedReason();
    const starting = this.started ? undefined : this.startFailures > 0 ? `starting: ${this.startFailures} failed attempt(s), retrying` : undefined;
    const report: HealthReport = { ok: reason === undefined && starting === undefined, checks: { sensor: starting ?? 'ok', capture: reason ?? 'ok' } };
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
    this.stopping.abort();
    this.loop?.stop();
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
    if (!sinks || !this.healthReady || !this.reporter) return;
    if (Number.isFinite(this.finalHealthAt)) {
      this.reporter.write(this.finalHealthAt);
      if (this.finalEntries) this.writeInventory(this.finalHealthAt, this.finalEntries);
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const closed = (async (): Promise<'closed'> => {
      await Promise.all([this.reporter?.settled(), ...this.inventoryPoints]);
      await sinks.close().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'sensor health: InfluxDB writer not closed cleanly'));
      return 'closed';
    })();
    const outcome = await Promise.race([closed, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      // InfluxDB unreachable: give up on the pending points rather than hang (counted: the writer's points_dropped, and
      // health_points_dropped for points still waiting for the database to be created).
      sinks.influx?.abort();
      this.resolveHealthReady?.(false);
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
      inventory_published: this.inventory.sent,
      ...(this.flows ? prefixed('flows_kafka', { ...this.flows.stats() }) : {}),
      decode_malformed: this.loop?.decoder.counters.snapshot().malformed ?? 0,
      start_failures: this.startFailures,
      ...captureMetrics(this.loop?.source),
      ...(this.loss
        ? { capture_loss_recent: this.loss.recent().fraction, capture_degraded: this.loss.degradedReason() === undefined ? 0 : 1, capture_loss_warnings: this.loss.warnings }
        : {}),
      ...(this.health ? { health_points: this.healthPoints, health_points_dropped: this.healthPointsDropped, ...prefixed('health_influx', { ...this.health.influx!.stats() }) } : {}),
    };
  }
}

export function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}_${k}`, v]));
}
