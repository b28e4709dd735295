/**
 * Batched, retrying InfluxDB 1.x writer (via `influx`; InfluxDB 2.x/3.x serve the same API on their v1-compatible
 * endpoints). Modelled on influxdb-client-js' RetryBuffer:
 *  - `write(points)` resolves once InfluxDB acknowledged those points, so a Kafka consumer can commit after it;
 *  - network errors, 5xx, 429 and 503 are retried with exponential backoff (see `src/retry.ts`), forever, while
 *    the buffer holds at most `max_buffer_points`; beyond that the OLDEST points are dropped, counted and logged;
 *    that backoff (`retry`, capped at 1 s by default: src/sinks/influx/config.ts) is the only one: the `influx`
 *    client's pool, which by default takes a failing host out of service for up to 10 s more (its own exponential
 *    backoff, unseen by us: the first write after an outage came 2–8 s after influxd was back), never disables it;
 *  - an outage shows as `unreachable` 1 (and `outages` counted) from the first failed attempt to the first that
 *    works, with one log line at each end;
 *  - 4xx answers other than 429 (a field type conflict, a bad point) cannot be fixed by retrying: the batch's points
 *    are counted as rejected and logged with InfluxDB's message, and the write resolves.
 * `start()` creates the database and the retention policy when missing (retried like writes).
 */
import { InfluxDB, type IPoint, type IPoolOptions, type ISingleHostConfig } from 'influx';
import { ServiceError } from '../../errors.js';
import { componentLogger, redactUrl } from '../../log.js';
import { RetriesExhaustedError, RetryAbortedError, retry, type RetryOptions } from '../../retry.js';
import { DEFAULT_INFLUX_WRITER } from './config.js';
import { isReplayPoint, REPLAY_RETENTION_POLICY } from './points.js';

export interface InfluxWriterOptions {
  /** http(s)://host:port of the InfluxDB HTTP API. */
  url: string;
  database: string;
  username: string;
  password: string;
  /** Retention policy created (as the default) when missing; empty string keeps the server's default `autogen`. */
  retention_policy: string;
  /** InfluxDB duration literal, e.g. `30d`, `52w`, `INF`. */
  retention_duration: string;
  /**
   * Duration of REPLAY_RETENTION_POLICY when this writer creates it (an InfluxDB duration literal). Points of a
   * forensic replay (tagged with a `run_id`) go to that policy, whatever their age; the others to the default one. The
   * tag decides, not the process: `run`/`replay --run-id` and `sensor -r --run-id` → `detect` write the same.
   */
  replay_retention_duration: string;
  /** Points per HTTP write. */
  batch_points: number;
  /** How long a partial batch may wait for more points. */
  flush_interval_ms: number;
  /** Upper bound on points waiting (in memory) during an outage. */
  max_buffer_points: number;
  /** Per-request timeout. */
  timeout_ms: number;
  retry: RetryOptions;
}


export interface InfluxWriterStats {
  points_written: number;
  points_buffered: number;
  points_dropped: number;
  points_rejected: number;
  write_retries: number;
  batches_written: number;
  /** 1 from a failed attempt to the next that works (gauge). */
  unreachable: number;
  /** Outages seen, each counted at its first failed attempt. */
  outages: number;
}

/**
 * The `influx` pool's host backoff, switched off: by default the pool takes a host that failed out of service for
 * 300 ms × 2^failures (up to 10 s), and every request meanwhile fails at once ("No host available"), so after an
 * outage the host could stay out for up to 10 s after influxd was back, on top of our own wait. Our retrier decides.
 */
const HOST_NEVER_DISABLED: NonNullable<IPoolOptions['backoff']> = { getDelay: () => 0, next: () => HOST_NEVER_DISABLED, reset: () => HOST_NEVER_DISABLED };

interface Pending {
  points: IPoint[];
  resolve: () => void;
}

function httpStatus(err: unknown): number | undefined {
  const res = (err as { res?: { statusCode?: number } } | undefined)?.res;
  return res?.statusCode;
}

/** Retrying helps for network errors (no status), 429 and 5xx. */
export function isRetriableInfluxError(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === undefined) return true;
  return status === 429 || status >= 500;
}

export class InfluxWriter {
  private readonly log = componentLogger('influx-writer');
  readonly o: InfluxWriterOptions;
  readonly client: InfluxDB;
  private queue: Pending[] = [];
  private queued = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private outageSince = 0;
  /** The "replay with --run-id" hint was given (once per writer). */
  private retentionHinted = false;
  /** Ends a retry wait in progress at once (`abort()`: a stopping process does not wait up to max_delay_ms). */
  private readonly aborter = new AbortController();
  private readonly s: InfluxWriterStats = { points_written: 0, points_buffered: 0, points_dropped: 0, points_rejected: 0, write_retries: 0, batches_written: 0, unreachable: 0, outages: 0 };

  constructor(options: Partial<InfluxWriterOptions> & { url: string }) {
    this.o = { ...DEFAULT_INFLUX_WRITER, ...options, retry: { ...DEFAULT_INFLUX_WRITER.retry, ...options.retry } };
    const url = new URL(this.o.url);
    const config: ISingleHostConfig = {
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: this.o.database,
      // Credentials in the URL (http://user:pass@host:8086) count when the options give none.
      username: this.o.username || decodeURIComponent(url.username) || undefined,
      password: this.o.password || decodeURIComponent(url.password) || undefined,
      pool: { maxRetries: 0, requestTimeout: this.o.timeout_ms, backoff: HOST_NEVER_DISABLED },
    };
    this.client = new InfluxDB(config);
  }

  private get where(): string {
    return `influxdb ${redactUrl(this.o.url)}/${this.o.database}`;
  }

  /** Creates the database and retention policy when missing. Retries while InfluxDB is unreachable. */
  async start(): Promise<void> {
    await this.retrying('create database', async () => {
      const names = await this.client.getDatabaseNames();
      if (!names.includes(this.o.database)) await this.client.createDatabase(this.o.database);
      if (this.o.retention_policy) {
        const rps = await this.client.showRetentionPolicies(this.o.database);
        if (!rps.some((rp) => rp.name === this.o.retention_policy)) {
          await this.client.createRetentionPolicy(this.o.retention_policy, {
            database: this.o.database,
            duration: this.o.retention_duration,
            replication: 1,
            isDefault: true,
          });
        }
      }
    });
    this.log.info({ url: redactUrl(this.o.url), database: this.o.database, retention_policy: this.o.retention_policy || 'autogen' }, 'influxdb ready');
  }

  /**
   * Queues points; resolves when they are written (or rejected by InfluxDB for good, or dropped for space). A partial
   * batch waits up to `flush_interval_ms` for more points, unless `now`: a caller that waits for the write (a Kafka
   * consumer committing after it) sends at once — while a request is in flight, the points queue and go out together
   * in the next one (group commit), so batching still grows with the load.
   */
  write(points: IPoint[], now = false): Promise<void> {
    if (this.closed) return Promise.reject(new ServiceError(this.where, 'write after close()', { retriable: false }));
    if (points.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queue.push({ points, resolve });
      this.queued += points.length;
      this.enforceBound();
      if (now || this.queued >= this.o.batch_points) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.o.flush_interval_ms);
    });
  }

  /** Resolves when everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.queued > 0 || this.running) {
      this.kick();
      await this.running;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Gives up: pending points are counted as dropped and their writes resolve; retries stop. For shutdown on a deadline. */
  abort(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.aborter.abort();
    let dropped = 0;
    for (const p of this.queue) {
      dropped += p.points.length;
      p.resolve();
    }
    this.s.points_dropped += dropped;
    if (dropped > 0) this.log.error({ dropped }, `DROPPED ${dropped} points: writer aborted with InfluxDB unreachable`);
    this.queue = [];
    this.queued -= dropped; // what remains is the batch in flight, settled by drain()
  }

  stats(): InfluxWriterStats {
    return { ...this.s, points_buffered: this.queued, unreachable: this.outageSince ? 1 : 0 };
  }

  private enforceBound(): void {
    while (this.queued > this.o.max_buffer_points && this.queue.length > 1) {
      const oldest = this.queue.shift()!;
      this.queued -= oldest.points.length;
      this.s.points_dropped += oldest.points.length;
      this.log.error({ dropped: oldest.points.length, dropped_total: this.s.points_dropped, max_buffer_points: this.o.max_buffer_points }, `DROPPED ${oldest.points.length} points: InfluxDB buffer full`);
      oldest.resolve();
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running || this.queued === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queued > 0) this.timer ??= setTimeout(() => this.kick(), 0);
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Take whole pending writes up to about batch_points.
      const take: Pending[] = [];
      let n = 0;
      while (this.queue.length && (n === 0 || n + this.queue[0]!.points.length <= this.o.batch_points)) {
        const p = this.queue.shift()!;
        take.push(p);
        n += p.points.length;
      }
      const points = take.flatMap((p) => p.points);
      // A forensic replay's points (tagged with a run id) to the replays' policy, whatever their age; the rest to the default.
      const replayed = points.filter(isReplayPoint);
      const live = replayed.length === 0 ? points : points.filter((p) => !isReplayPoint(p));
      try {
        if (replayed.length > 0) {
          await this.retrying('create the replay retention policy', () => this.ensureReplayPolicy(), () => this.queued - n);
          await this.retrying('write points', () => this.client.writePoints(replayed, { precision: 'ms', retentionPolicy: REPLAY_RETENTION_POLICY }), () => this.queued - n);
        }
        if (live.length > 0) await this.retrying('write points', () => this.client.writePoints(live, { precision: 'ms' }), () => this.queued - n);
        this.s.points_written += points.length;
        this.s.batches_written++;
      } catch (err) {
        // Not retriable: InfluxDB refused these points.
        this.s.points_rejected += points.length;
        const message = err instanceof Error ? err.message : String(err);
        // Points older than the live policy's duration (a capture's packet time): say how to keep them.
        const hint = /beyond retention policy/.test(message) && !this.retentionHinted
          ? `: older than retention policy ${this.o.retention_policy || 'autogen'}; replay the capture with --run-id to write it to the ${REPLAY_RETENTION_POLICY} policy (sinks.influx.replay_retention_duration, default INF)`
          : '';
        if (hint) this.retentionHinted = true;
        this.log.error({ err: message, points: points.length, rejected_total: this.s.points_rejected }, `InfluxDB rejected points${hint}`);
      }
      this.queued -= n;
      for (const p of take) p.resolve();
    }
  }

  private replayPolicy: Promise<void> | undefined;

  /** Creates REPLAY_RETENTION_POLICY when missing (not as the default), once per writer. */
  private ensureReplayPolicy(): Promise<void> {
    this.replayPolicy ??= (async () => {
      const rps = await this.client.showRetentionPolicies(this.o.database);
      if (!rps.some((rp) => rp.name === REPLAY_RETENTION_POLICY)) {
        await this.client.createRetentionPolicy(REPLAY_RETENTION_POLICY, { database: this.o.database, duration: this.o.replay_retention_duration, replication: 1, isDefault: false });
      }
    })().catch((err: unknown) => {
      this.replayPolicy = undefined; // tried again with the next attempt
      throw err;
    });
    return this.replayPolicy;
  }

  private async retrying<T>(what: string, fn: () => Promise<T>, pendingNow: () => number = () => this.queued): Promise<T> {
    try {
      const result = await retry(fn, this.o.retry, {
        retriable: isRetriableInfluxError,
        signal: this.aborter.signal,
        onRetry: (err) => {
          this.s.write_retries++;
          if (!this.outageSince) {
            this.outageSince = Date.now();
            this.s.outages++;
            this.log.error({ err: err instanceof Error ? err.message : String(err), url: redactUrl(this.o.url) }, `InfluxDB unreachable: ${what} will be retried`);
          }
        },
      });
      if (this.outageSince) {
        this.log.warn({ outage_ms: Date.now() - this.outageSince, pending: pendingNow(), url: redactUrl(this.o.url) }, 'InfluxDB reachable again');
        this.outageSince = 0;
      }
      return result;
    } catch (err) {
      if (err instanceof RetryAbortedError) throw new ServiceError(this.where, `${what} abandoned: writer aborted`, { cause: err, retriable: false, code: 'WW_INFLUX_ABORTED' });
      // Refused (4xx), or retries used up: the message is InfluxDB's (the retrier's wrapper, with the attempts, is the cause).
      const last = err instanceof RetriesExhaustedError ? err.cause : err;
      throw new ServiceError(this.where, `${what} failed: ${last instanceof Error ? last.message : String(last)}`, { cause: err, retriable: false, code: 'WW_INFLUX_REJECTED' });
    }
  }
}
