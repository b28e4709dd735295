/**
 * The InfluxDB sink's options (`sinks.influx` in the config file) with their defaults, written once, here; the
 * top-level schema (src/config/schema.ts) composes this. No `influx` import: loading the configuration does not load
 * the client.
 */
import { z } from 'zod';
import { retryOptionsSchema } from '../../retry.js';
import type { InfluxWriterOptions } from './writer.js';

export const DEFAULT_INFLUX_WRITER: Omit<InfluxWriterOptions, 'url'> = {
  database: 'wardwatch',
  username: '',
  password: '',
  retention_policy: 'wardwatch_30d',
  retention_duration: '30d',
  replay_retention_duration: 'INF',
  batch_points: 5000,
  flush_interval_ms: 1000,
  max_buffer_points: 500_000,
  timeout_ms: 10_000,
  // Retried forever (the buffer bounds it), with src/retry.ts' backoff: 250, 500 ms, then 667–1000 ms between
  // attempts for as long as InfluxDB is away. So its backlog starts going out within ~1 s of its return (measured
  // after a 60 s outage: test/integration/transport/detector-influx-outage.test.ts), and a dead server gets about one
  // request a second from each writer: a refused connection, or (a hung server) one request at a time, each ending
  // at `timeout_ms`. This is the writer's only backoff (the client's own host backoff is off: writer.ts).
  retry: { retries: Infinity, initial_delay_ms: 250, max_delay_ms: 1000, multiplier: 2, jitter: 0.2 },
};

const positive = z.number().int().positive();
const D = DEFAULT_INFLUX_WRITER;

export const InfluxOptionsSchema = z.strictObject({
  /** http(s)://host:port of the InfluxDB HTTP API (credentials in it are redacted in every log line). */
  url: z.url({ protocol: /^https?$/ }),
  database: z.string().min(1).default(D.database),
  username: z.string().default(D.username),
  password: z.string().default(D.password),
  retention_policy: z.string().default(D.retention_policy),
  retention_duration: z.string().regex(/^(INF|\d+[smhdw])$/, 'an InfluxDB duration such as 30d, 52w or INF').default(D.retention_duration),
  /** Duration of the `wardwatch_replay` policy that replays with a run id write to (src/sinks/influx/points.ts). */
  replay_retention_duration: z.string().regex(/^(INF|\d+[smhdw])$/, 'an InfluxDB duration such as 52w or INF').default(D.replay_retention_duration),
  batch_points: positive.default(D.batch_points),
  flush_interval_ms: positive.default(D.flush_interval_ms),
  max_buffer_points: positive.default(D.max_buffer_points),
  timeout_ms: positive.default(D.timeout_ms),
  /**
   * Backoff between attempts of a write InfluxDB did not take (network error, 429, 5xx), src/retry.ts' formula:
   * `retries` (default Infinity: until it works; the oldest points beyond `max_buffer_points` are dropped meanwhile),
   * `initial_delay_ms` 250, `multiplier` 2, `max_delay_ms` 1000 (the most a returning InfluxDB waits for its first
   * write), `jitter` 0.2.
   */
  retry: retryOptionsSchema(D.retry).prefault({}),
});
