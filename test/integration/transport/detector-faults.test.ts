/**
 * Issue 21, faults on the detector (real broker, real processes where the exit matters):
 *  - a detector that stops working for good (here: the state topic refuses every write, so no batch can become
 *    durable) says so at once on /healthz and ends with exactly one `WW_` line and exit code 1, so that systemd's
 *    Restart=on-failure fires; before, a consumer crash left the process up and "healthy";
 *  - a start that fails on a retriable error (no broker reachable yet) is retried until it works; before, the process
 *    printed an uncoded line and stayed up scoring nothing;
 *  - a missing model store is a warning at start naming its absolute path.
 * Only topics of this test are touched: the shared broker is never stopped or paused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { KafkaWindowProducer } from '../../../src/transport/kafka/producer.js';
import { ModelError, type WardwatchError } from '../../../src/errors.js';
import { KafkaWindowConsumer } from '../../../src/transport/kafka/consumer.js';
import { freshName, requireKafka } from '../../support/services.js';
import { freePort } from '../../support/veth.js';
import { makeWindows } from '../../support/windows.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const capture = path.join(repo, 'captures', 'demo.pcap'); // 30 min of packet time: 15 s at 120x
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('detector faults: a dead detector ends, a retriable start error is retried (real broker)', function () {
  this.timeout(60_000);
  let brokers: string[];
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-det-faults-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function raw(prefix: string, group: string, extra: { brokers?: string[]; metrics_listen?: string } = {}): Record<string, unknown> {
    return {
      sensor: { id: 'faults-test' },
      transport: {
        kind: 'kafka',
        kafka: {
          brokers: extra.brokers ?? brokers,
          connection_timeout_ms: 1000,
          request_timeout_ms: 5000,
          retry: { retries: 1, initial_retry_time_ms: 100, max_retry_time_ms: 500 },
          topics: { prefix, partitions: 2 },
          producer: { spool_dir: '' },
          consumer: { group_id: group, session_timeout_ms: 6000, heartbeat_interval_ms: 500 },
        },
      },
      detect: { models_dir: path.join(dir, 'no-models-here') },
      sinks: { files: { alerts_file: path.join(dir, `${group}.alerts.jsonl`) } },
      service: { metrics_listen: extra.metrics_listen ?? '' },
    };
  }

  /** Makes the detector state topic refuse every write (a record batch is larger than 64 bytes): no batch can be made durable. */
  async function refuseStateWrites(prefix: string, group: string): Promise<void> {
    const admin = kafkaFromConfig(parseConfig(raw(prefix, group), 'test', {}).transport.kafka!).admin();
    await admin.connect();
    try {
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: `${prefix}detector-state.${group}`, configEntries: [{ name: 'max.message.bytes', value: '64' }] }] });
    } finally {
      await admin.disconnect();
    }
  }

  async function produceWindows(prefix: string, group: string): Promise<void> {
    const config = parseConfig(raw(prefix, group), 'test', {});
    const producer = new KafkaWindowProducer(kafkaFromConfig(config.transport.kafka!), brokers, { topic: `${prefix}features`, ...config.transport.kafka!.producer });
    producer.enqueue(makeWindows(10, 3, 7));
    await producer.flush(20_000);
    await producer.close();
  }

  it('in process: the moment the detector fails for good, /healthz is 503 naming the failure', async () => {
    const prefix = `${freshName('ww-dead')}.`;
    const group = freshName('ww-dead-g');
    const detector = new DetectorService(parseConfig(raw(prefix, group), 'test', {}));
    const failed = new Promise<{ err: WardwatchError; healthy: boolean; check: string | undefined }>((resolve) =>
      detector.onFailure((err) => {
        const h = detector.healthReport();
        resolve({ err, healthy: h.ok, check: h.checks['consumer'] });
      }),
    );
    try {
      await detector.start();
      await until('the consumer running', 20_000, () => detector.healthReport().ok);
      await refuseStateWrites(prefix, group);
      await produceWindows(prefix, group);
      const f = await Promise.race([failed, sleep(20_000).then(() => undefined)]);
      assert.ok(f, `no failure reported; metrics ${JSON.stringify(detector.metrics())}`);
      assert.equal(f.err.code, 'WW_KAFKA_CONSUMER_FAILED');
      assert.equal(f.err.retriable, false);
      assert.equal(f.healthy, false);
      assert.match(f.check ?? '', /^failed: WW_KAFKA_CONSUMER_FAILED: kafka 127\.0\.0\.1:\d+: batch of .* not written to the sinks: .*detector state/);
      assert.equal(detector.metrics()['consumer_committed_batches'], 0, 'nothing committed: the batches are fetched again after a restart');
    } finally {
      await detector.stop();
    }
  });

  it('a kafkajs consumer crash without restart (a non-retriable error in the batch) is a failure, reported at once', async () => {
    const prefix = `${freshName('ww-crash')}.`;
    const group = freshName('ww-crash-g');
    const config = parseConfig(raw(prefix, group), 'test', {});
    const kafka = kafkaFromConfig(config.transport.kafka!);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${prefix}features`, numPartitions: 2 }, { topic: `${prefix}dead-letter`, numPartitions: 1 }] });
    await admin.disconnect();
    const consumer = new KafkaWindowConsumer(kafka, { topic: `${prefix}features`, group_id: group, dead_letter_topic: `${prefix}dead-letter`, session_timeout_ms: 6000, heartbeat_interval_ms: 500, brokers });
    const failed = new Promise<WardwatchError>((r) => consumer.onFailure(r));
    let calls = 0;
    try {
      await consumer.start(() => {
        calls++;
        return Promise.reject(new ModelError('model of another feature schema version', { code: 'WW_MODEL_SCHEMA' }));
      });
      await produceWindows(prefix, group);
      const err = await Promise.race([failed, sleep(20_000).then(() => undefined)]);
      assert.ok(err, 'a failure was reported');
      assert.equal(err.code, 'WW_KAFKA_CONSUMER_FAILED');
      assert.match(err.message, /stopped for good: .*model of another feature schema version/);
      assert.equal(consumer.running, false);
      assert.ok(calls <= 2, `kafkajs did not retry a non-retriable error: ${calls} calls for 2 partitions`);
    } finally {
      await consumer.stop(0);
    }
  });

  it('as a process: ends with exit code 1 and exactly one WW_ line; warns at start that the model store is missing', async () => {
    const prefix = `${freshName('ww-dead-p')}.`;
    const group = freshName('ww-dead-pg');
    const port = await freePort();
    const cfg = path.join(dir, `${group}.yaml`);
    writeFileSync(cfg, stringify(raw(prefix, group, { metrics_listen: `127.0.0.1:${port}` })));
    const child = spawn(process.execPath, [cli, 'detect', '-c', cfg], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const health = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status ?? 0;
      await until(`/healthz 200\n${stderr.slice(-2000)}`, 30_000, async () => (await health()) === 200);
      await refuseStateWrites(prefix, group);
      const t0 = Date.now();
      await produceWindows(prefix, group);
      const code = await Promise.race([exited, sleep(25_000).then(() => 'still running' as const)]);
      const took = Date.now() - t0;
      assert.equal(code, 1, `exit code; stderr:\n${stderr.slice(-3000)}`);
      const plain = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
      assert.equal(plain.length, 1, `one plain line on stderr:\n${plain.join('\n')}`);
      assert.match(plain[0]!, /^wardwatch: WW_KAFKA_CONSUMER_FAILED: kafka 127\.0\.0\.1:\d+: batch of [^ ]+ up to offset \d+ not written to the sinks: write detector state/);
      assert.ok(took < 10_000, `exited ${took} ms after the windows were produced`);
      // The start warned about the model store, by its absolute path.
      const models = path.join(dir, 'no-models-here');
      assert.ok(stderr.split('\n').some((l) => l.startsWith('{') && (JSON.parse(l) as { msg?: string; models_dir?: string }).models_dir === models), `a warning naming ${models}`);
      console.log(`      [faults] detector exited ${took} ms after the fault's first batch`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a start with no broker reachable is retried until the broker answers, then consumes', async () => {
    const prefix = `${freshName('ww-late')}.`;
    const group = freshName('ww-late-g');
    // The bootstrap address is a local port that answers only later (then it forwards to the broker).
    const port = await freePort();
    const [host, bport] = brokers[0]!.split(':');
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((c) => {
      const up = net.connect(Number(bport), host);
      sockets.add(c).add(up);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    const detector = new DetectorService(parseConfig(raw(prefix, group, { brokers: [`127.0.0.1:${port}`] }), 'test', {}));
    let started = false;
    const start = detector.start().then(() => (started = true));
    try {
      await until('a failed start attempt', 20_000, () => detector.metrics()['start_failures']! >= 1);
      assert.equal(started, false);
      assert.equal(detector.healthReport().ok, false, 'not healthy while it cannot start');
      assert.match(detector.healthReport().checks['consumer'] ?? '', /^starting: \d+ failed attempt/);
      await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
      await Promise.race([start, sleep(25_000)]);
      assert.ok(started, `started once the broker answered; metrics ${JSON.stringify(detector.metrics())}`);
      await until('the consumer running', 20_000, () => detector.healthReport().ok);
      await produceWindows(prefix, group);
      await until('30 windows consumed and committed', 20_000, () => detector.metrics()['consumer_processed'] === 30 && detector.metrics()['consumer_uncommitted_batches'] === 0);
    } finally {
      await detector.stop();
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a detector frozen (SIGSTOP) longer than the session timeout mid-stream re-joins on SIGCONT: no exit, everything committed', async () => {
    const prefix = `${freshName('ww-frozen')}.`;
    const group = freshName('ww-frozen-g');
    const port = await freePort();
    const cfg = path.join(dir, `${group}.yaml`);
    writeFileSync(cfg, stringify(raw(prefix, group, { metrics_listen: `127.0.0.1:${port}` })));
    const child = spawn(process.execPath, [cli, 'detect', '-c', cfg], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const metric = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text();
      const m = text ? new RegExp(`^wardwatch_detector_${name} (\\S+)$`, 'm').exec(text) : null;
      return m ? Number(m[1]) : undefined;
    };
    const health = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status ?? 0;
    try {
      await until(`/healthz 200\n${stderr.slice(-2000)}`, 30_000, async () => (await health()) === 200);
      const config = parseConfig({ ...raw(prefix, group), transport: { kind: 'kafka', kafka: { brokers, topics: { prefix, partitions: 2 }, producer: { spool_dir: '', message_max_windows: 20 } } } }, 'test', {});
      const sensor = new SensorService(config, { file: capture, speed: 120 });
      const produced = sensor.run();
      await until('windows consumed', 20_000, async () => ((await metric('consumer_processed_total')) ?? 0) > 0);
      child.kill('SIGSTOP');
      await sleep(8000); // > session_timeout_ms 6000: the group drops the member
      child.kill('SIGCONT');
      await produced;
      await sensor.stop();
      const admin = kafkaFromConfig(config.transport.kafka!).admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(`${prefix}features`);
        const total = ends.reduce((n, p) => n + Number(p.high), 0);
        await until(`every message committed\n${stderr.slice(-2000)}`, 30_000, async () => {
          const c = await admin.fetchOffsets({ groupId: group, topics: [`${prefix}features`] });
          return c[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) >= total;
        });
      } finally {
        await admin.disconnect();
      }
      assert.equal(child.exitCode, null, `still running; stderr:\n${stderr.slice(-3000)}`);
      assert.equal(await health(), 200);
      assert.ok(((await metric('consumer_group_joins_total')) ?? 0) >= 2, 'it re-joined the group');
      assert.deepEqual(stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{')), [], 'no WW_ line');
      console.log(`      [faults] frozen detector re-joined: ${await metric('consumer_group_joins_total')} joins, ${await metric('consumer_membership_lost_total')} commits refused, ${await metric('consumer_crashes_restarted_total')} kafkajs restarts`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
