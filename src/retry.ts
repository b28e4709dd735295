/**
 * One retrier for every stage that does I/O (modelled on kafkajs' `retry/index.js`).
 *
 * Delay before attempt n (n = 1 for the first retry):
 *   delay_n = min(max_delay_ms, initial_delay_ms * multiplier^(n-1)) * (1 + jitter * u),  u uniform in [-1, 1]
 * An error that says `retriable === false` (see `WardwatchError`) stops at once.
 * Tests pass small delays; production defaults are in `DEFAULT_RETRY`.
 */
export interface RetryOptions {
  /** How many retries after the first attempt. */
  retries: number;
  initial_delay_ms: number;
  max_delay_ms: number;
  multiplier: number;
  /** 0..1: fraction of the delay randomised either way. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  retries: 8,
  initial_delay_ms: 300,
  max_delay_ms: 30_000,
  multiplier: 2,
  jitter: 0.2,
};

export function retryDelayMs(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.max_delay_ms, opts.initial_delay_ms * opts.multiplier ** Math.max(0, attempt - 1));
  const u = random() * 2 - 1;
  return Math.max(0, Math.round(base * (1 + opts.jitter * u)));
}

function isRetriable(err: unknown): boolean {
  if (err && typeof err === 'object' && 'retriable' in err) return (err).retriable !== false;
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/**
 * Runs `fn` until it resolves, the error is not retriable, or `retries` are used up (then the last error is thrown).
 * `onRetry` sees each failure before the wait, for counters and logs.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: Partial<RetryOptions> = {},
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  const o = { ...DEFAULT_RETRY, ...opts };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.retries || !isRetriable(err)) throw err;
      const delay = retryDelayMs(attempt + 1, o);
      onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
