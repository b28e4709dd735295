/**
 * The one retrier: every client and sink that does I/O (InfluxDB writer, webhooks, the Kafka producer, record
 * publisher and start-up, the detector's sink queue) retries through `retry()`. Modelled on kafkajs'
 * `src/retry/index.js` and `docs/RetryDetailed.md`.
 *
 * Backoff. Attempt 0 is the first call; the wait before retry n (n = 1, 2, …) is
 *
 *   base_n  = min(initial_delay_ms × multiplier^(n−1), max_delay_ms / (1 + jitter))
 *   delay_n = min(max_delay_ms, round(base_n × (1 + jitter × u))),   u uniform in [−1, 1)
 *
 * (kafkajs' names: initial_delay_ms = `initialRetryTime`, max_delay_ms = `maxRetryTime`, jitter = `factor`,
 * multiplier = `multiplier`, retries = `retries`.) With the defaults (300 ms, ×2, 30 s, jitter 0.2) the waits are
 * about 300, 600, 1200, 2400, 4800 ms …, each ±20 %, then 25 s ±20 % (20–30 s) for as long as it lasts: the base
 * stops growing at max_delay_ms / (1 + jitter), so that a long outage's waits stay spread (clients that failed
 * together do not retry in step) and never exceed max_delay_ms. `retries: Infinity` retries until it works (a buffer
 * or a stop bounds it); `jitter: 0` gives the plain doubling sequence, capped at max_delay_ms.
 *
 * What is not retried (thrown at once, unchanged, so its code and stack stay):
 *  - programming errors: `TypeError`, `RangeError`, `ReferenceError`, `SyntaxError` (kafkajs' UNRECOVERABLE_ERRORS);
 *  - an error that says `retriable: false` (a `WardwatchError` unless built retriable; kafkajs' non-retriable errors),
 *    unless the caller classifies errors itself: its `retriable(err)` then decides (e.g. InfluxDB: network errors, 429
 *    and 5xx yes, another 4xx no), for every error but a programming error.
 * When `retries` are used up the last error is wrapped in `RetriesExhaustedError` (`WW_RETRIES_EXHAUSTED`: cause,
 * attempts, time spent); an `AbortSignal` ends a wait at once with `RetryAbortedError` (`WW_RETRY_ABORTED`).
 * Tests pass small delays (or a fake `sleep`/`now`); production defaults are in `DEFAULT_RETRY`.
 */
import { z } from 'zod';
import { WardwatchError } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (Infinity: until it works or is aborted). */
  retries: number;
  /** Wait before the first retry, before jitter. */
  initial_delay_ms: number;
  /** Upper bound of any wait, jitter included (the wait before jitter stops growing at max_delay_ms / (1 + jitter)). */
  max_delay_ms: number;
  /** Growth of the wait from one retry to the next (≥ 1). */
  multiplier: number;
  /** 0..1: fraction of the wait randomised either way (kafkajs' `factor`). */
  jitter: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  retries: 5,
  initial_delay_ms: 300,
  max_delay_ms: 30_000,
  multiplier: 2,
  jitter: 0.2,
};

/** A component's `retry:` config section, with that component's defaults (the formula above). */
export function retryOptionsSchema(d: RetryOptions) {
  return z.strictObject({
    // `.inf` in YAML (Infinity): retry until it works. A parsed config is validated again when a command's options
    // patch it, so the schema must take back every default it gives.
    retries: z.union([z.number().int().nonnegative(), z.literal(Infinity)]).default(d.retries),
    initial_delay_ms: z.number().int().nonnegative().default(d.initial_delay_ms),
    max_delay_ms: z.number().int().nonnegative().default(d.max_delay_ms),
    multiplier: z.number().min(1).default(d.multiplier),
    jitter: z.number().min(0).max(1).default(d.jitter),
  });
}

/** The wait before retry `n` (1 = the first retry), per the formula above. `random` returns [0, 1). */
export function retryDelayMs(n: number, opts: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.initial_delay_ms * opts.multiplier ** Math.max(0, n - 1), opts.max_delay_ms / (1 + opts.jitter));
  const u = opts.jitter > 0 ? random() * 2 - 1 : 0;
  return Math.max(0, Math.min(opts.max_delay_ms, Math.round(base * (1 + opts.jitter * u))));
}

/** Error names that are bugs, never outages (kafkajs' UNRECOVERABLE_ERRORS). */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/** A bug, never an outage: `TypeError`, `RangeError`, `ReferenceError`, `SyntaxError`. */
export function isProgrammingError(err: unknown): boolean {
  return err instanceof Error && PROGRAMMING_ERRORS.has(err.name);
}

/** Whether the retrier may retry `err` at all: not a programming error, and not marked `retriable: false`. */
export function isRetriable(err: unknown): boolean {
  if (isProgrammingError(err)) return false;
  if (err && typeof err === 'object' && 'retriable' in err) return (err as { retriable?: unknown }).retriable !== false;
  return true;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `retries` used up: `cause` is the last failure. Not retriable itself (a caller must not multiply the retries). */
export class RetriesExhaustedError extends WardwatchError {
  constructor(
    cause: unknown,
    readonly attempts: number,
    readonly retry_time_ms: number,
  ) {
    super('WW_RETRIES_EXHAUSTED', `gave up after ${attempts} attempt(s) in ${retry_time_ms} ms: ${messageOf(cause)}`, { cause, retriable: false });
  }
}

/** The retrier's signal was aborted (the process is stopping); `cause` is the last failure. */
export class RetryAbortedError extends WardwatchError {
  constructor(
    cause: unknown,
    readonly attempts: number,
    readonly retry_time_ms: number,
  ) {
    super('WW_RETRY_ABORTED', `retry aborted after ${attempts} attempt(s) in ${retry_time_ms} ms: ${messageOf(cause)}`, { cause, retriable: false });
  }
}

export interface RetryAttempt {
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  /** The wait before the next attempt. */
  delay_ms: number;
  /** Time since the first attempt started. */
  elapsed_ms: number;
}

export interface RetryHooks {
  /**
   * The caller's classification, instead of the error's `retriable` flag (e.g. false for an HTTP 4xx, true for a
   * Kafka send kafkajs gave up on). Programming errors are never retried whatever it says.
   */
  retriable?: (err: unknown) => boolean;
  /** Each failure that will be retried, before the wait (counters, logs, closing what the attempt opened). */
  onRetry?: (err: unknown, info: RetryAttempt) => void | Promise<void>;
  /** Aborting ends the current wait, and the retries, with `RetryAbortedError`. */
  signal?: AbortSignal;
  /** Injectable for tests: [0, 1) source of the jitter, the clock, the wait. */
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A wait that ends early (resolves) when `signal` aborts. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `fn(attempt)` (attempt 0, 1, …) until it resolves; retries what may be retried (see the module comment) with
 * the documented backoff; throws a non-retriable error unchanged, `RetriesExhaustedError` when `retries` are used
 * up, `RetryAbortedError` when `hooks.signal` aborts.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: Partial<RetryOptions> = {}, hooks: RetryHooks = {}): Promise<T> {
  const o = { ...DEFAULT_RETRY, ...opts };
  const now = hooks.now ?? Date.now;
  const wait = hooks.sleep ?? abortableSleep;
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (isProgrammingError(err) || !(hooks.retriable ? hooks.retriable(err) : isRetriable(err))) throw err;
      const elapsed = now() - started;
      if (hooks.signal?.aborted) throw new RetryAbortedError(err, attempt + 1, elapsed);
      if (attempt >= o.retries) throw new RetriesExhaustedError(err, attempt + 1, elapsed);
      const delay = retryDelayMs(attempt + 1, o, hooks.random);
      await hooks.onRetry?.(err, { attempt: attempt + 1, delay_ms: delay, elapsed_ms: elapsed });
      await wait(delay, hooks.signal);
      if (hooks.signal?.aborted) throw new RetryAbortedError(err, attempt + 1, now() - started);
    }
  }
}

/**
 * Waits for `p` at most `ms`: true when it settled in time (its rejection is swallowed: the caller has counted and
 * logged what it loses), false when the time ran out. For shutdown paths that must end within a budget.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
