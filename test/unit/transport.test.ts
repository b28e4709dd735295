import assert from 'node:assert/strict';
import { pino } from 'pino';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  decodeWindow,
  decodeWindowBatch,
  decodeWindows,
  decodeWindowBinary,
  encodeWindowBatch,
  encodeWindow,
  encodeWindowBinary,
  PoisonMessageError,
  WINDOW_BATCH,
  WINDOW_BINARY,
  WINDOW_JSON,
} from '../../src/transport/codec.js';
import { DiskSpool } from '../../src/transport/kafka/spool.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { kafkaFailure, retryingStart } from '../../src/transport/kafka/client.js';
import { membershipLost } from '../../src/transport/kafka/consumer.js';
import { WardwatchError } from '../../src/errors.js';
import { MemoryBus } from '../../src/transport/memory/bus.js';
import type { FeatureWindow } from '../../src/records/features.js';
import { makeWindows } from '../support/windows.js';

describe('transport codec', () => {
  const windows = makeWindows(5, 20, 7);

  it('binary and JSON both round-trip windows exactly (float64 values, strings, peers, ports)', () => {
    for (const w of windows) {
      for (const codec of ['binary', 'json'] as const) {
        const m = encodeWindow(w, codec);
        assert.equal(m.key, w.device_id);
        assert.deepEqual(decodeWindow(m.value, m.format), w);
      }
    }
  });

  it('binary is smaller than JSON', () => {
    const bin = windows.reduce((n, w) => n + encodeWindow(w, 'binary').value.length, 0);
    const json = windows.reduce((n, w) => n + encodeWindow(w, 'json').value.length, 0);
    assert.ok(bin < json * 0.7, `binary ${bin} B vs JSON ${json} B`);
  });

  it('rejects truncated, padded, unknown and garbage messages as poison', () => {
    const good = encodeWindowBinary(windows[0]!);
    for (let cut = 0; cut < good.length; cut += 7) {
      assert.throws(() => decodeWindowBinary(good.subarray(0, cut)), PoisonMessageError, `cut at ${cut}`);
    }
    assert.throws(() => decodeWindowBinary(Buffer.concat([good, Buffer.from([0])])), /trailing/);
    const badVersion = Buffer.from(good);
    badVersion[0] = 9;
    assert.throws(() => decodeWindowBinary(badVersion), /codec version 9/);
    assert.throws(() => decodeWindow(Buffer.from('{"device_id":1}'), WINDOW_JSON), PoisonMessageError);
    assert.throws(() => decodeWindow(Buffer.from('not json'), WINDOW_JSON), PoisonMessageError);
    assert.throws(() => decodeWindow(good, 'text/plain'), /unknown message format/);
    assert.throws(() => decodeWindow(null, WINDOW_BINARY), /no value/);
  });
});

describe('window batch codec (ww-window-batch/1)', () => {
  const windows = makeWindows(4, 10, 3);

  it('round-trips a batch of binary and of JSON windows exactly, in order; v1 single messages still decode', () => {
    for (const codec of ['binary', 'json'] as const) {
      const batch = encodeWindowBatch(windows.map((w) => encodeWindow(w, codec)));
      assert.equal(batch[1], codec === 'binary' ? 0 : 1, 'inner codec byte');
      assert.equal(batch.readUInt16BE(2), windows.length);
      assert.deepEqual(decodeWindows(batch, WINDOW_BATCH), windows);
      const single = encodeWindow(windows[3]!, codec);
      assert.deepEqual(decodeWindows(single.value, single.format), [windows[3]]);
    }
  });

  it('refuses to mix inner formats or pack nothing', () => {
    assert.throws(() => encodeWindowBatch([encodeWindow(windows[0]!, 'binary'), encodeWindow(windows[1]!, 'json')]), /mixes/);
    assert.throws(() => encodeWindowBatch([]), RangeError);
  });

  it('a batch with any bad window, cut short, padded or of an unknown version is poison as a whole', () => {
    const parts = windows.slice(0, 3).map((w) => encodeWindow(w, 'binary'));
    const good = encodeWindowBatch(parts);
    for (let cut = 0; cut < good.length; cut += 13) assert.throws(() => decodeWindowBatch(good.subarray(0, cut)), PoisonMessageError, `cut at ${cut}`);
    assert.throws(() => decodeWindowBatch(Buffer.concat([good, Buffer.from([1, 2])])), /trailing/);
    const v9 = Buffer.from(good);
    v9[0] = 9;
    assert.throws(() => decodeWindowBatch(v9), /batch version 9/);
    const inner7 = Buffer.from(good);
    inner7[1] = 7;
    assert.throws(() => decodeWindowBatch(inner7), /inner codec 7/);
    // The second window's codec version byte corrupted: the message names the window and the cause.
    const bad = Buffer.from(good);
    bad[4 + 4 + parts[0]!.value.length + 4] = 5;
    assert.throws(() => decodeWindowBatch(bad), /window 1 of 3 in batch: unknown feature window codec version 5/);
    assert.throws(() => decodeWindows(null, WINDOW_BATCH), /no value/);
  });
});

describe('DiskSpool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ww-spool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const msgs = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 3}`, format: WINDOW_BINARY, value: Buffer.from(`value-${from + i}`) }));

  it('is FIFO across segments and deletes what was sent', () => {
    const spool = new DiskSpool({ dir, max_bytes: 1 << 20, segment_bytes: 200 });
    assert.equal(spool.append(msgs(0, 50)), 50);
    assert.equal(spool.append(msgs(50, 50)), 50);
    assert.equal(spool.pending, 100);
    const seen: string[] = [];
    while (spool.pending > 0) {
      const batch = spool.peek(17);
      assert.ok(batch.length > 0);
      seen.push(...batch.map((m) => m.value.toString()));
      spool.commit();
      if (seen.length === 34) spool.append(msgs(100, 10)); // appends while draining stay behind the older ones
    }
    assert.deepEqual(seen, Array.from({ length: 110 }, (_, i) => `value-${i}`));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.wws')), []);
    spool.close();
  });

  it('survives a restart: a new spool on the same folder resumes after the last commit', () => {
    const a = new DiskSpool({ dir, max_bytes: 1 << 20, segment_bytes: 100 });
    a.append(msgs(0, 30));
    a.peek(12);
    a.commit();
    a.peek(5); // read but not acknowledged: must be sent again
    a.close();
    const b = new DiskSpool({ dir, max_bytes: 1 << 20, segment_bytes: 100 });
    assert.equal(b.pending, 18);
    assert.deepEqual(b.peek(100).map((m) => m.value.toString()), Array.from({ length: 18 }, (_, i) => `value-${12 + i}`));
    b.close();
  });

  it('stops at max_bytes and reports how many fitted', () => {
    const spool = new DiskSpool({ dir, max_bytes: 300, segment_bytes: 1 << 20 });
    const fitted = spool.append(msgs(0, 100));
    assert.ok(fitted > 0 && fitted < 100, `fitted ${fitted}`);
    assert.ok(spool.pendingBytes <= 300);
    spool.close();
  });
});

describe('MemoryBus (embedded default)', () => {
  it('delivers every window once, in order per device, after start()', async () => {
    const bus = new MemoryBus({ batch_max_windows: 7 });
    const windows = makeWindows(4, 25, 3);
    bus.enqueue(windows.slice(0, 40)); // before the consumer exists: kept
    const got: FeatureWindow[] = [];
    await bus.start((batch) => {
      got.push(...batch);
      return Promise.resolve();
    });
    bus.enqueue(windows.slice(40));
    await bus.flush();
    assert.deepEqual(got, windows);
    assert.equal(bus.stats().processed, 100);
  });

  it('redelivers a batch whose handler failed (at-least-once)', async () => {
    const bus = new MemoryBus({ batch_max_windows: 10 });
    const windows = makeWindows(1, 30, 4);
    const got: number[] = [];
    let failOnce = true;
    await bus.start((batch) => {
      if (failOnce && batch[0]!.window_start === windows[10]!.window_start) {
        failOnce = false;
        return Promise.reject(new Error('sink down'));
      }
      got.push(...batch.map((w) => w.window_start));
      return Promise.resolve();
    });
    bus.enqueue(windows);
    await assert.rejects(bus.flush(), /sink down/);
    await bus.flush();
    assert.deepEqual(got, windows.map((w) => w.window_start));
    assert.equal(bus.stats().handler_errors, 1);
  });

  it('is bounded: beyond max_buffered windows are counted as dropped', () => {
    const bus = new MemoryBus({ max_buffered: 10 });
    bus.enqueue(makeWindows(1, 15));
    assert.equal(bus.stats().dropped, 5);
    assert.equal(bus.stats().buffered, 10);
  });
});

// kafkajs' own protocol errors, as the broker's error codes make them.
const createErrorFromCode = (createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error & { type: string; retriable: boolean } }).createErrorFromCode;

/** What kafkajs' retrier throws for an error it will not retry (src/retry/index.js). */
function nonRetriable(e: Error): Error {
  const Ctor = kafkajs.KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
  return new Ctor(e, { cause: e });
}

describe('retryingStart: start-up retries what a retry can fix, and only that', () => {
  const brokers = ['kafka-1:9094'];
  const fast = { initial_ms: 1, max_ms: 2 };
  it('retries "This server does not host this topic-partition" (topics still being created) until it works', async () => {
    let calls = 0;
    const ok = await retryingStart('detector start', brokers, () => {
      calls++;
      if (calls < 3) return Promise.reject(createErrorFromCode(3));
      return Promise.resolve();
    }, fast);
    assert.equal(ok, true);
    assert.equal(calls, 3);
    assert.equal(createErrorFromCode(3).message, 'This server does not host this topic-partition');
  });
  it('throws wrong credentials at once, coded', async () => {
    let calls = 0;
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed: Authentication failed'), { name: 'KafkaJSSASLAuthenticationError' });
    await assert.rejects(
      retryingStart('sensor start', brokers, () => {
        calls++;
        return Promise.reject(sasl);
      }, fast),
      (e: unknown) => e instanceof WardwatchError && e.code === 'WW_KAFKA_AUTH' && !e.retriable,
    );
    assert.equal(calls, 1);
  });
  it('never retries a programming error, and gives up (false) when cancelled', async () => {
    await assert.rejects(retryingStart('x', brokers, () => Promise.reject(new TypeError('x is not a function')), fast), TypeError);
    let calls = 0;
    const ok = await retryingStart('x', brokers, () => {
      calls++;
      return Promise.reject(createErrorFromCode(3));
    }, { ...fast, cancelled: () => calls >= 2 });
    assert.equal(ok, false);
    assert.equal(calls, 2);
  });
});

describe('retryingStart: a broker that stays away is said in words, and a stop never waits for it', () => {
  const brokers = ['kafka-1:9094'];
  it('one warning naming the brokers, the cause and what to check once notice_ms passed; then started', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
    let calls = 0;
    const unreachable = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9094'), { name: 'KafkaJSConnectionError' });
    const ok = await retryingStart('sensor start', brokers, () => (++calls < 6 ? Promise.reject(unreachable) : Promise.resolve()), { initial_ms: 20, max_ms: 20, notice_ms: 50, logger });
    assert.equal(ok, true);
    const notices = lines.filter((l) => /cannot reach/.test(l.msg));
    assert.equal(notices.length, 1, JSON.stringify(lines));
    assert.match(notices[0]!.msg, /^sensor start: cannot reach kafka kafka-1:9094 after 0 s \(.*ECONNREFUSED.*\): check that the broker runs and that transport\.kafka\.brokers \(or WARDWATCH_KAFKA_BROKERS\) names it; still retrying$/);
    assert.ok(lines.some((l) => /^sensor start: started after 5 failed attempt\(s\)/.test(l.msg)), JSON.stringify(lines));
  });
  it('a stop abandons an attempt that hangs (kafkajs retrying inside it): resolves false at once', async () => {
    let stopping = false;
    setTimeout(() => (stopping = true), 100);
    const t0 = Date.now();
    const ok = await retryingStart('sensor start', brokers, () => new Promise<void>(() => undefined), { cancelled: () => stopping, notice_ms: 60_000 });
    assert.equal(ok, false);
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
  });
});

describe('membershipLost: a commit refused because the group forgot the member re-joins rather than crashes', () => {
  it('finds UNKNOWN_MEMBER_ID inside the retrier\'s KafkaJSNonRetriableError', () => {
    const inner = createErrorFromCode(25); // UNKNOWN_MEMBER_ID: "The coordinator is not aware of this member"
    const outer = nonRetriable(inner);
    assert.equal(membershipLost(outer), inner);
    assert.equal(membershipLost(createErrorFromCode(3)), undefined);
  });
});

describe('kafkaFailure: one clear line per cause', () => {
  const brokers = ['kafka-1:9094'];
  it('names the mechanism and user on an authentication failure, not retriable', () => {
    const cause = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'), { name: 'KafkaJSSASLAuthenticationError' });
    const e = kafkaFailure(brokers, 'connect', cause, { sasl: { mechanism: 'scram-sha-256', username: 'ward3', password: 's3cr3t-pw' } });
    assert.equal(e.code, 'WW_KAFKA_AUTH');
    assert.equal(e.retriable, false);
    assert.match(e.message, /^kafka kafka-1:9094: SASL SCRAM-SHA-256 authentication as 'ward3' failed \(wrong username or password\?\)/);
    assert.ok(!e.message.includes('s3cr3t-pw'), 'never the password');
  });
  it('finds a TLS trust error wrapped by the retrier (originalError / cause)', () => {
    const tls = Object.assign(new Error('unable to get local issuer certificate'), { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    const wrapped = Object.assign(new Error('Connection error: unable to get local issuer certificate'), { name: 'KafkaJSConnectionError', originalError: tls });
    const outer = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: wrapped });
    const e = kafkaFailure(brokers, 'connect', outer);
    assert.equal(e.code, 'WW_KAFKA_TLS');
    assert.match(e.message, /^kafka kafka-1:9094: TLS: the broker's certificate is not trusted \(.*unable to get local issuer certificate\); set transport\.kafka\.ssl\.ca_file/);
  });
  it('retries exhausted is retriable (the broker may come back); a protocol error refused for good is not', () => {
    const { KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } = kafkajs;
    const conn = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    assert.equal(kafkaFailure(brokers, 'connect', new KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 1, retryTime: 100 })).retriable, true);
    const tooLarge = createErrorFromCode(10); // MESSAGE_TOO_LARGE
    assert.equal(kafkaFailure(brokers, 'write', nonRetriable(tooLarge)).retriable, false);
  });
  it('anything else stays WW_KAFKA_UNAVAILABLE with the operation', () => {
    const e = kafkaFailure(brokers, 'produce to t', new Error('Connection error: connect ECONNREFUSED 10.0.0.1:9094'));
    assert.equal(e.code, 'WW_KAFKA_UNAVAILABLE');
    assert.equal(e.message, 'kafka kafka-1:9094: produce to t failed: Connection error: connect ECONNREFUSED 10.0.0.1:9094');
  });
});
