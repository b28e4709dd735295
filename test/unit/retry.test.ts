/**
 * The one retrier (src/retry.ts): the documented backoff, what it never retries, the wrapped final failure, abort.
 * Deterministic: a fake clock (`now` advanced by the fake `sleep`) and a seeded jitter source.
 */
import assert from 'node:assert/strict';
import { ServiceError, WardwatchError } from '../../src/errors.js';
import { RetriesExhaustedError, RetryAbortedError, retry, retryDelayMs, type RetryOptions } from '../../src/retry.js';

/** A fake clock: `sleep` records the wait and advances `now` by it at once. */
function fakeClock(): { waits: number[]; now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: (ms) => {
      waits.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

/** A seeded [0, 1) source (mulberry32): the same jitter on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const outage = (): ServiceError => new ServiceError('influxdb 127.0.0.1:18086', 'connect ECONNREFUSED', { retriable: true });

describe('retry (src/retry.ts)', () => {
  const o: RetryOptions = { retries: 6, initial_delay_ms: 300, max_delay_ms: 5000, multiplier: 2, jitter: 0 };

  it('waits initial × multiplier^(n−1), capped at max_delay_ms, between attempts (no jitter)', async () => {
    const clock = fakeClock();
    const calls: number[] = [];
    const result = await retry(
      (attempt) => {
        calls.push(attempt);
        return attempt < 6 ? Promise.reject(outage()) : Promise.resolve('ok');
      },
      o,
      clock,
    );
    assert.equal(result, 'ok');
    assert.deepEqual(calls, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(clock.waits, [300, 600, 1200, 2400, 4800, 5000]);
  });

  it('jitter keeps each wait within ±jitter of its base, never above max_delay_ms, the same for the same seed', async () => {
    const j = { ...o, jitter: 0.2 };
    const run = async (seed: number): Promise<number[]> => {
      const clock = fakeClock();
      await assert.rejects(retry(() => Promise.reject(outage()), j, { ...clock, random: seeded(seed) }), RetriesExhaustedError);
      return clock.waits;
    };
    const a = await run(7);
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual(await run(8), a);
    // The base stops growing at max_delay_ms / (1 + jitter) = 4167 ms, so that the jittered wait stays ≤ 5000.
    const bases = [300, 600, 1200, 2400, 5000 / 1.2, 5000 / 1.2];
    a.forEach((w, i) => {
      assert.ok(w >= Math.round(bases[i]! * 0.8) && w <= Math.min(5000, Math.round(bases[i]! * 1.2)), `wait ${i + 1}: ${w} ms`);
    });
    assert.equal(retryDelayMs(1, j, () => 0), 240);
    assert.equal(retryDelayMs(1, j, () => 0.5), 300);
    assert.equal(retryDelayMs(6, j, () => 0.999), 4998);
  });

  it('keeps the jitter once the wait is capped: a long outage\'s waits spread over [max × (1 − j) / (1 + j), max], none above', () => {
    const j = { ...o, jitter: 0.2 };
    const random = seeded(3);
    const waits = Array.from({ length: 200 }, (_, i) => retryDelayMs(20 + i, j, random));
    assert.ok(waits.every((w) => w >= 3333 && w <= 5000), `${Math.min(...waits)}..${Math.max(...waits)}`);
    assert.ok(new Set(waits).size > 100, `${new Set(waits).size} distinct waits of 200: the retries of clients that failed together do not stay in step`);
    assert.ok(waits.filter((w) => w === 5000).length < 5, 'not piled up at max_delay_ms');
    assert.equal(retryDelayMs(20, j, () => 0), 3333);
    // Without jitter, the plain cap.
    assert.equal(retryDelayMs(20, o), 5000);
  });

  for (const make of [() => new TypeError('x is not a function'), () => new RangeError('bad length'), () => new ReferenceError('y is not defined'), () => new SyntaxError('bad JSON')]) {
    it(`never retries a programming error (${make().name}), even when the caller would`, async () => {
      const clock = fakeClock();
      let calls = 0;
      const err = make();
      await assert.rejects(
        retry(
          () => {
            calls++;
            return Promise.reject(err);
          },
          o,
          { ...clock, retriable: () => true },
        ),
        (e) => e === err,
      );
      assert.equal(calls, 1);
      assert.deepEqual(clock.waits, []);
    });
  }

  it('never retries an error that says retriable: false, and throws it unchanged (its code stays)', async () => {
    const clock = fakeClock();
    let calls = 0;
    const refused = new ServiceError('kafka 127.0.0.1:19092', 'SASL authentication failed', { retriable: false, code: 'WW_KAFKA_AUTH' });
    await assert.rejects(
      retry(
        () => {
          calls++;
          return Promise.reject(refused);
        },
        o,
        clock,
      ),
      (e) => e === refused,
    );
    assert.equal(calls, 1);
    // A plain object error with retriable: false (kafkajs' non-retriable errors) too.
    await assert.rejects(retry(() => Promise.reject(Object.assign(new Error('not leader'), { retriable: false })), o, clock), /not leader/);
    assert.deepEqual(clock.waits, []);
  });

  it("the caller's classification decides for every other error (an HTTP 4xx stops, a kafkajs give-up is retried)", async () => {
    const clock = fakeClock();
    const http = (status: number): Error => Object.assign(new Error(`HTTP ${status}`), { status });
    let calls = 0;
    await assert.rejects(
      retry(
        () => {
          calls++;
          return Promise.reject(http(calls === 1 ? 503 : 400));
        },
        o,
        { ...clock, retriable: (e) => (e as { status: number }).status >= 500 },
      ),
      /HTTP 400/,
    );
    assert.equal(calls, 2);
    const gaveUp = Object.assign(new Error('KafkaJSNumberOfRetriesExceeded'), { retriable: false });
    await assert.rejects(retry(() => Promise.reject(gaveUp), { ...o, retries: 2 }, { ...clock, retriable: () => true }), RetriesExhaustedError);
  });

  it('wraps the last failure once retries are used up: WW_RETRIES_EXHAUSTED with the cause, the attempts and the time spent', async () => {
    const clock = fakeClock();
    const seen: { attempt: number; delay_ms: number; elapsed_ms: number }[] = [];
    const last = outage();
    const err = await retry(() => Promise.reject(last), { ...o, retries: 3 }, { ...clock, onRetry: (_e, info) => void seen.push(info) }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RetriesExhaustedError);
    assert.ok(err instanceof WardwatchError);
    assert.equal(err.code, 'WW_RETRIES_EXHAUSTED');
    assert.equal(err.retriable, false);
    assert.equal(err.cause, last);
    assert.equal(err.attempts, 4);
    assert.equal(err.retry_time_ms, 300 + 600 + 1200);
    assert.match(err.message, /gave up after 4 attempt\(s\) in 2100 ms: .*ECONNREFUSED/);
    assert.deepEqual(seen, [
      { attempt: 1, delay_ms: 300, elapsed_ms: 0 },
      { attempt: 2, delay_ms: 600, elapsed_ms: 300 },
      { attempt: 3, delay_ms: 1200, elapsed_ms: 900 },
    ]);
    // retries: 0 is one attempt, wrapped as well.
    await assert.rejects(retry(() => Promise.reject(outage()), { ...o, retries: 0 }, clock), (e) => e instanceof RetriesExhaustedError && e.attempts === 1);
  });

  it('an abort ends a real wait at once with WW_RETRY_ABORTED carrying the last failure', async () => {
    const stop = new AbortController();
    let calls = 0;
    const t0 = Date.now();
    const p = retry(
      () => {
        calls++;
        return Promise.reject(outage());
      },
      { retries: Infinity, initial_delay_ms: 10_000, max_delay_ms: 10_000, multiplier: 2, jitter: 0 },
      { signal: stop.signal },
    );
    setTimeout(() => stop.abort(), 50);
    const err = await p.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RetryAbortedError, String(err));
    assert.equal(err.code, 'WW_RETRY_ABORTED');
    assert.match(String((err.cause as Error).message), /ECONNREFUSED/);
    assert.equal(calls, 1);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });

  it('resolves with the first success, without waiting', async () => {
    const clock = fakeClock();
    assert.equal(await retry(() => Promise.resolve(42), o, clock), 42);
    assert.deepEqual(clock.waits, []);
  });
});
