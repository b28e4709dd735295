/**
 * The one place a kafkajs client is made: connection settings from config, kafkajs logs routed to pino, and
 * failures turned into `ServiceError`s that name the brokers, so an outage reads
 * "kafka 127.0.0.1:19092: produce to wardwatch.features failed: Connection error: connect ECONNREFUSED ...".
 */
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip, unzip, type ZlibOptions } from 'node:zlib';
import kafkajs, { CompressionTypes, Kafka, logLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';
import { ServiceError, WardwatchError, describeError } from '../../errors.js';
import { componentLogger, type Logger } from '../../log.js';
import { RetryAbortedError, isProgrammingError, retry } from '../../retry.js';
import type { KafkaConnectionOptions } from './config.js';

export { DEFAULT_KAFKA_CONNECTION, type KafkaConnectionOptions } from './config.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The last connection error kafkajs logged (it retries connections inside one call, for up to a minute, before the
 * call fails): what `retryingStart` names as the cause while a start attempt is still in flight.
 */
let lastConnectionError: string | undefined;

/** kafkajs warnings that are advice for other setups, logged at every start (see kafkajsLogMethod). */
const KNOWN_ADVICE = /^KafkaJS v2\.0\.0 switched default partitioner|^Limiting retries for the idempotent producer may invalidate EoS guarantees/;
/** Broker answers kafkajs logs at ERROR and then retries itself: a coordinator still loading or not elected yet. */
const TRANSIENT_COORDINATOR = /coordinator is loading|coordinator is not available|not the correct coordinator/i;

/**
 * The pino method a kafkajs log line goes to. kafkajs is chatty at INFO about joins and commits: debug. Its start-up
 * advice that does not apply here (wardwatch names its partitioner, and bounds kafkajs' retries on purpose: its own
 * loops retry around them, so an outage never blocks a send forever): debug. The broker's "coordinator loading / not
 * available" answers while a group or producer starts, which kafkajs retries by itself: debug (an operator saw 1–3
 * lines at error level on every start). Other warnings and errors keep their level.
 */
export function kafkajsLogMethod(level: number, message: string, error?: unknown): 'error' | 'warn' | 'info' | 'debug' {
  const method = LEVELS[level] ?? 'info';
  if (method === 'info') return 'debug';
  if (method === 'warn' && KNOWN_ADVICE.test(message)) return 'debug';
  if (method === 'error' && message.startsWith('Response ') && typeof error === 'string' && TRANSIENT_COORDINATOR.test(error)) return 'debug';
  return method;
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      if (LEVELS[level] === 'error' && /^Connection error|Failed to connect/.test(message)) lastConnectionError = message.replace(/^Failed to connect to seed broker, trying another broker from the list: /, '');
      logger[kafkajsLogMethod(level, message, (extra as { error?: unknown }).error)](extra, message);
    };
}

/** kafkajs logs at the level wardwatch logs at (WARDWATCH_LOG_LEVEL): debug shows its retries and reconnects. */
function kafkajsLevel(level: string): logLevel {
  if (level === 'debug' || level === 'trace') return logLevel.DEBUG;
  if (level === 'info') return logLevel.INFO;
  if (level === 'warn') return logLevel.WARN;
  if (level === 'silent') return logLevel.NOTHING;
  return logLevel.ERROR;
}

const gzipAsync = promisify(gzip) as (buf: Buffer, o: ZlibOptions) => Promise<Buffer>;
const unzipAsync = promisify(unzip) as (buf: Buffer) => Promise<Buffer>;
let gzipLevel = 1;

/**
 * kafkajs' GZIP codec uses zlib's default level (6); on feature-window batches level 1 is 3× cheaper in CPU for
 * 13 % instead of 10 % of the raw size (bench/kafka.ts), so wardwatch registers its own GZIP codec with a settable
 * level. Process-wide, like kafkajs' codec registry; decompression is unchanged (any level reads).
 */
export function setGzipLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level ${level} is not 1..9`);
  gzipLevel = level;
}

// CompressionCodecs is not a named ESM export of the CommonJS kafkajs: reach it through the default export.
kafkajs.CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: (encoder: { buffer: Buffer }) => gzipAsync(encoder.buffer, { level: gzipLevel }),
  decompress: (buffer: Buffer) => unzipAsync(buffer),
});

export function describeBrokers(brokers: string[]): string {
  return `kafka ${brokers.join(',')}`;
}

export function createKafka(options: KafkaConnectionOptions, logger: Logger = componentLogger('kafka')): Kafka {
  const config: KafkaConfig = {
    clientId: options.client_id,
    brokers: options.brokers,
    connectionTimeout: options.connection_timeout_ms,
    requestTimeout: options.request_timeout_ms,
    retry: {
      retries: options.retry.retries,
      initialRetryTime: options.retry.initial_retry_time_ms,
      maxRetryTime: options.retry.max_retry_time_ms,
    },
    logLevel: kafkajsLevel(logger.level),
    logCreator: pinoLogCreator(logger),
  };
  if (options.ssl !== undefined) config.ssl = options.ssl === true ? true : options.ssl === false ? false : sslOptions(options.ssl);
  if (options.sasl) config.sasl = { ...options.sasl } as SASLOptions;
  return new Kafka(config);
}

function sslOptions(ssl: Exclude<KafkaConnectionOptions['ssl'], boolean | undefined>): Record<string, unknown> {
  // Read lazily so a bad path is reported as a config error by the caller that validated it.
  return {
    rejectUnauthorized: ssl.reject_unauthorized ?? true,
    ...(ssl.ca_file ? { ca: [readPem(ssl.ca_file)] } : {}),
    ...(ssl.cert_file ? { cert: readPem(ssl.cert_file) } : {}),
    ...(ssl.key_file ? { key: readPem(ssl.key_file) } : {}),
  };
}

function readPem(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Node's TLS verification error codes: the broker's certificate chain is not trusted (or does not match). */
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** The error and everything it wraps (kafkajs: `originalError`, `cause`; retriers nest them). */
export function errorChain(err: unknown): { name: string; message: string; code?: string }[] {
  const out: { name: string; message: string; code?: string }[] = [];
  let e: unknown = err;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    const x = e as { name?: unknown; message?: unknown; code?: unknown; originalError?: unknown; cause?: unknown };
    out.push({ name: typeof x.name === 'string' ? x.name : '', message: typeof x.message === 'string' ? x.message : '', ...(typeof x.code === 'string' ? { code: x.code } : {}) });
    e = x.originalError ?? x.cause;
  }
  return out;
}

/**
 * Wraps a kafkajs failure so the message names the brokers and the operation. Authentication and TLS trust failures
 * get their own codes and a one-line message naming the mechanism (user) or the certificate problem, and the fix:
 *   kafka 127.0.0.1:9094: SASL SCRAM-SHA-256 authentication as 'sensor' failed (wrong username or password?): ...
 *   kafka 127.0.0.1:9094: TLS: the broker's certificate is not trusted (unable to get local issuer certificate): ...
 */
export function kafkaFailure(brokers: string[], operation: string, err: unknown, connection?: Pick<KafkaConnectionOptions, 'sasl' | 'ssl'>): ServiceError {
  const chain = errorChain(err);
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ');
  const sasl = chain.find((e) => e.name === 'KafkaJSSASLAuthenticationError' || /SASL\b.*authentication failed/i.test(e.message));
  if (sasl) {
    const mech = connection?.sasl ? connection.sasl.mechanism.toUpperCase() : 'SASL';
    const user = connection?.sasl ? ` as '${connection.sasl.username}'` : '';
    return new ServiceError(describeBrokers(brokers), oneLine(`SASL ${mech} authentication${user} failed (wrong username or password?): ${sasl.message}; check transport.kafka.sasl`), {
      cause: err,
      retriable: false,
      code: 'WW_KAFKA_AUTH',
    });
  }
  const tls = chain.find((e) => (e.code !== undefined && TLS_TRUST_CODES.has(e.code)) || /certificate|self[- ]signed|issuer/i.test(e.message));
  if (tls) {
    return new ServiceError(
      describeBrokers(brokers),
      oneLine(`TLS: the broker's certificate is not trusted (${tls.message.replace(/^Connection error: /, '')}); set transport.kafka.ssl.ca_file to the CA that signed it (and check the broker's host name is in its certificate)`),
      { cause: err, retriable: false, code: 'WW_KAFKA_TLS' },
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  // As kafkajs decides whether to restart a crashed consumer: retries exhausted is still retriable (the broker may be
  // back later); otherwise the innermost error says.
  const innermost = (e: unknown): unknown => {
    for (let i = 0; i < 8 && e && typeof e === 'object' && (e as { cause?: unknown }).cause; i++) e = (e as { cause?: unknown }).cause;
    return e;
  };
  const retriable =
    chain[0]?.name === 'KafkaJSNumberOfRetriesExceeded' ||
    !((x: unknown) => x && typeof x === 'object' && 'retriable' in x && (x as { retriable?: unknown }).retriable === false)(innermost(err));
  return new ServiceError(describeBrokers(brokers), `${operation} failed: ${reason}`, {
    cause: err,
    retriable,
    code: 'WW_KAFKA_UNAVAILABLE',
  });
}

export interface StartRetryOptions {
  /** Named in the error of a failure that is not a WardwatchError already (authentication and TLS keep their codes). */
  connection?: Pick<KafkaConnectionOptions, 'sasl' | 'ssl'>;
  /** True: give up (the process is stopping); the function then resolves false. */
  cancelled?: () => boolean;
  /** Runs after a failed attempt, before the wait (e.g. close what the attempt opened). */
  onRetry?: () => Promise<void>;
  initial_ms?: number;
  max_ms?: number;
  logger?: Logger;
  /**
   * Still not started after this long: one warning in words, naming the brokers, the last cause and what to check
   * (default 10 s; a single attempt may take longer: kafkajs retries a connection inside it).
   */
  notice_ms?: number;
}

/**
 * Start-up with Kafka: retries `attempt` while it fails with a retriable error (broker not reachable yet, topics
 * still being created: "This server does not host this topic-partition"), backing off from `initial_ms` (1 s)
 * doubling to `max_ms` (15 s), one warning per failed attempt; throws at once what no retry can fix (wrong
 * credentials, untrusted certificate, bad configuration, a programming error). Resolves true once started, false
 * when `cancelled()` became true first (checked before each attempt and every 100 ms of a wait).
 */
export async function retryingStart(what: string, brokers: string[], attempt: () => Promise<void>, o: StartRetryOptions = {}): Promise<boolean> {
  const log = o.logger ?? componentLogger('kafka');
  if (o.cancelled?.()) return false;
  const stop = new AbortController();
  const watch = setInterval(() => {
    if (o.cancelled?.()) stop.abort();
  }, 100);
  watch.unref();
  let failures = 0;
  lastConnectionError = undefined;
  let lastCause: string | undefined;
  const began = Date.now();
  const noticeMs = o.notice_ms ?? 10_000;
  let noticed = false;
  const notice = setTimeout(() => {
    noticed = true;
    log.warn(
      { brokers, waited_ms: Date.now() - began },
      `${what}: cannot reach ${describeBrokers(brokers)} after ${Math.round(noticeMs / 1000)} s (${lastCause ?? lastConnectionError ?? 'no answer yet'}): check that the broker runs and that transport.kafka.brokers (or WARDWATCH_KAFKA_BROKERS) names it; still retrying`,
    );
  }, noticeMs);
  notice.unref();
  // A stop (cancelled) abandons the attempt in flight: kafkajs may be retrying a connection inside it for a minute.
  const abandoned = new Promise<never>((_, reject) => stop.signal.addEventListener('abort', () => reject(new RetryAbortedError(new Error(`${what} cancelled`), failures + 1, Date.now() - began)), { once: true }));
  abandoned.catch(() => undefined);
  try {
    await retry(
      async () => {
        try {
          await Promise.race([attempt(), abandoned]);
        } catch (err) {
          if (err instanceof RetryAbortedError) throw err;
          lastCause = describeError(err);
          // Coded here so the retrier and the caller see the broker's verdict (auth and TLS are not retriable).
          throw isProgrammingError(err) || err instanceof WardwatchError ? err : kafkaFailure(brokers, what, err, o.connection);
        }
      },
      { retries: Infinity, initial_delay_ms: o.initial_ms ?? 1000, max_delay_ms: o.max_ms ?? 15_000, multiplier: 2, jitter: 0 },
      {
        signal: stop.signal,
        onRetry: async (err, { delay_ms }) => {
          failures++;
          log.warn({ err: describeError(err), attempt: failures, retry_in_ms: delay_ms }, `${what} failed: retrying (retriable)`);
          await o.onRetry?.().catch(() => undefined);
          if (o.cancelled?.()) stop.abort();
        },
      },
    );
  } catch (err) {
    if (err instanceof RetryAbortedError) return false;
    throw err;
  } finally {
    clearInterval(watch);
    clearTimeout(notice);
  }
  if (failures > 0 || noticed) log.warn({ attempts: failures + 1, waited_ms: Date.now() - began }, `${what}: started after ${failures} failed attempt(s), ${Math.round((Date.now() - began) / 1000)} s`);
  return true;
}
