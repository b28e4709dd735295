/**
 * Issue 21, "outages are visible": a `wardwatch sensor` process replays the demo capture (paced) while its broker —
 * a broker of this test's own, so that stopping it disturbs nobody — is stopped (SIGSTOP) for 8 s. kafkajs keeps
 * retrying inside one send, so before, nothing showed it: `producer_send_retries` stayed 0 and no line was logged.
 * Now /metrics shows `producer_broker_unreachable 1` during the outage, exactly one log line marks its start and one
 * its end, `producer_outages` counts it, and every window is still delivered.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEFAULT_KAFKA, kafkaBrokers, pauseKafka, resumeKafka, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { freshName, requireKafka } from '../../support/services.js';
import { createKafka, DEFAULT_KAFKA_CONNECTION } from '../../../src/transport/kafka/client.js';
import { KafkaWindowProducer } from '../../../src/transport/kafka/producer.js';
import { DEFAULT_TOPICS, ensureTopics } from '../../../src/transport/kafka/topics.js';
import { makeWindows } from '../../support/windows.js';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { freePort } from '../../support/veth.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const capture = path.join(repo, 'captures', 'demo.pcap'); // 30 min of packet time: 15 s at 120x
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OUTAGE = { ...DEFAULT_KAFKA, instance: 'faults-outage', port: DEFAULT_KAFKA.port + 230, controller_port: DEFAULT_KAFKA.controller_port + 230, heap: '384m' };

describe('a broker outage shows in /metrics and in one log line at its start and one at its end (own broker)', function () {
  this.timeout(90_000);
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    await requireKafka(); // the jars (and Java) are there
    await startKafka(OUTAGE);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-outage-vis-'));
  });
  after(async function () {
    this.timeout(60_000);
    await resumeKafka(OUTAGE).catch(() => undefined);
    await stopKafka(OUTAGE.instance);
    rmSync(dir, { recursive: true, force: true });
  });

  it('detector: broker stopped 8 s (longer than the session timeout) while windows flow: it stays up and consumes everything', async () => {
    const prefix = `${freshName('ww-vis-det')}.`;
    const group = freshName('ww-vis-det-g');
    const config = parseConfig(
      {
        sensor: { id: 'outage-vis' },
        transport: {
          kind: 'kafka',
          kafka: {
            brokers: kafkaBrokers(OUTAGE),
            connection_timeout_ms: 1000,
            request_timeout_ms: 3000,
            topics: { prefix, partitions: 2 },
            producer: { spool_dir: path.join(dir, 'spool-det') },
            consumer: { group_id: group, session_timeout_ms: 6000, heartbeat_interval_ms: 500 },
          },
        },
        detect: { models_dir: path.join(dir, 'no-models') },
        sinks: { files: { alerts_file: path.join(dir, 'det-alerts.jsonl') } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const detector = new DetectorService(config);
    const producer = new KafkaWindowProducer(kafkaFromConfig(config.transport.kafka!), kafkaBrokers(OUTAGE), { topic: `${prefix}features`, spool_dir: path.join(dir, 'spool-det'), stall_ms: 2000 });
    let sent = 0;
    try {
      await detector.start();
      // Windows keep coming: 10 devices, one window each every 150 ms, before, during and after the outage.
      const windows = makeWindows(10, 90, 5);
      const feed = setInterval(() => {
        if (sent < windows.length) {
          producer.enqueue(windows.slice(sent, sent + 10));
          sent += 10;
        }
      }, 150);
      await sleep(2000);
      await pauseKafka(OUTAGE.instance);
      await sleep(8000);
      await resumeKafka(OUTAGE);
      const resumed = Date.now();
      const deadline = Date.now() + 60_000;
      while (sent < windows.length || detector.metrics()['consumer_processed']! < windows.length || detector.metrics()['consumer_uncommitted_batches']! > 0) {
        if (Date.now() > deadline) throw new Error(`not consumed: sent ${sent}, ${JSON.stringify(detector.metrics())}`);
        if (detector.failure) throw detector.failure;
        await sleep(100);
      }
      clearInterval(feed);
      const m = detector.metrics();
      assert.equal(detector.failure, undefined);
      assert.equal(detector.healthReport().ok, true, JSON.stringify(detector.healthReport()));
      assert.ok(m['consumer_processed']! >= windows.length, 'every window scored (at least once)');
      assert.equal(m['consumer_broker_unreachable'], 0, 'no outage left open');
      console.log(`      [faults] detector through an 8 s broker stop: everything consumed ${Date.now() - resumed} ms after SIGCONT; ${m['consumer_group_joins']} joins, ${m['consumer_outages']} outages, ${m['consumer_crashes_restarted']} kafkajs restarts, ${m['consumer_membership_lost']} commits refused`);
    } finally {
      await resumeKafka(OUTAGE).catch(() => undefined);
      await producer.close(5000);
      await detector.stop();
    }
  });

  it('sensor: broker stopped 8 s mid-replay', async () => {
    const port = await freePort();
    const cfg = path.join(dir, 'sensor.yaml');
    writeFileSync(
      cfg,
      stringify({
        sensor: { id: 'outage-vis' },
        transport: { kind: 'kafka', kafka: { brokers: kafkaBrokers(OUTAGE), topics: { prefix: `${freshName('ww-vis')}.`, partitions: 2 }, producer: { spool_dir: path.join(dir, 'spool') } } },
        service: { metrics_listen: `127.0.0.1:${port}` },
      }),
    );
    const child = spawn(process.execPath, [cli, 'sensor', '-c', cfg, '-r', capture, '--speed', '120x'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'info' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const metric = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text();
      const m = text ? new RegExp(`^wardwatch_sensor_${name} (\\S+)$`, 'm').exec(text) : null;
      return m ? Number(m[1]) : undefined;
    };
    try {
      // Windows are flowing: some produced.
      const start = Date.now();
      while (!((await metric('producer_produced_total')) ?? 0)) {
        if (Date.now() - start > 20_000) throw new Error(`no window produced:\n${stderr.slice(-2000)}`);
        await sleep(100);
      }
      assert.equal(await metric('producer_broker_unreachable'), 0);
      await pauseKafka(OUTAGE.instance);
      const paused = Date.now();
      let seenAfter = -1;
      while (Date.now() - paused < 8000) {
        if (seenAfter < 0 && (await metric('producer_broker_unreachable')) === 1) seenAfter = Date.now() - paused;
        await sleep(100);
      }
      await resumeKafka(OUTAGE);
      const resumed = Date.now();
      assert.ok(seenAfter >= 0, `/metrics never showed producer_broker_unreachable 1 during the 8 s outage:\n${stderr.slice(-2000)}`);
      let endSeen = -1;
      while (endSeen < 0 && Date.now() - resumed < 20_000) {
        if ((await metric('producer_broker_unreachable')) === 0) endSeen = Date.now() - resumed;
        else await sleep(100);
      }
      assert.ok(endSeen >= 0, 'the outage ended in /metrics');
      const code = await Promise.race([exited, sleep(40_000).then(() => 'running' as const)]);
      assert.equal(code, 0, stderr.slice(-3000));
      const logs = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const msgs = logs.map((l) => String(l['msg']));
      assert.equal(msgs.filter((m) => m === 'broker unreachable: buffering windows').length, 1, msgs.join('\n'));
      assert.equal(msgs.filter((m) => m === 'broker reachable again: delivering buffered windows').length, 1, msgs.join('\n'));
      const final = logs.find((l) => l['msg'] === 'sensor stopped')!;
      assert.equal(final['producer_outages'], 1);
      assert.equal(final['producer_dropped'], 0);
      assert.equal(final['producer_produced'], final['producer_enqueued'], 'every window delivered');
      console.log(`      [faults] outage shown in /metrics ${seenAfter} ms after SIGSTOP, its end ${endSeen} ms after SIGCONT; ${String(final['producer_produced'])} windows delivered`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('spooling shows in the producer metrics while it lasts (shared broker, nothing stopped)', function () {
  this.timeout(60_000);
  it('a memory buffer too small for the windows: spooling 1 until the spool drained, then 0; nothing dropped', async () => {
    const brokers = await requireKafka();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-spool-vis-'));
    const kafka = createKafka({ ...DEFAULT_KAFKA_CONNECTION, brokers });
    const topic = `${freshName('ww-spool-vis')}.features`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], { ...DEFAULT_TOPICS, partitions: 2 });
    await admin.disconnect();
    const producer = new KafkaWindowProducer(kafka, brokers, { topic, spool_dir: dir, memory_buffer_bytes: 1 });
    try {
      const windows = makeWindows(5, 20, 3);
      producer.enqueue(windows);
      assert.equal(producer.stats().spooling, 1, JSON.stringify(producer.stats()));
      assert.equal(producer.stats().spooled, windows.length);
      await producer.flush(30_000);
      const st = producer.stats();
      assert.equal(st.spooling, 0, JSON.stringify(st));
      assert.equal(st.produced, windows.length);
      assert.equal(st.dropped, 0);
    } finally {
      await producer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
