/**
 * Issue 21, "a slow sink never costs group membership" (real broker, real InfluxDB, real HTTP endpoints): the demo
 * capture's windows go through a detector whose two webhook endpoints misbehave — one hangs (holds every request
 * without an answer) for its first seconds, the other answers 500 for its first seconds — and, at the same time,
 * through a reference detector without webhooks. The alerts file and InfluxDB of the first must hold everything the
 * reference wrote within seconds of it, with no rebalance (one group join, no membership lost), while its notices are
 * still being retried; once both endpoints recover, every notice is delivered to each of them exactly once (no
 * dead letter) and every batch is committed.
 * Before: each batch waited for its webhook retries, longer than the session timeout; the group rebalanced and
 * alerts reached the file and InfluxDB minutes late.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import type { Alert } from '../../../src/records/alert.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readAlerts(file: string): Alert[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
}

/** An endpoint that misbehaves for `badMs` from its first request (hangs, or answers 500), then answers 200. */
class Endpoint {
  readonly delivered = new Map<string, number>();
  requests = 0;
  private first = 0;
  private readonly held = new Set<http.ServerResponse>();
  private readonly server: http.Server;
  url = '';

  constructor(
    private readonly mode: 'hang' | 'error500',
    private readonly badMs: number,
  ) {
    this.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests++;
        this.first ||= Date.now();
        if (Date.now() - this.first < this.badMs) {
          if (this.mode === 'hang') this.held.add(res);
          else res.writeHead(500).end();
          return;
        }
        const id = String(req.headers['x-wardwatch-delivery']);
        this.delivered.set(id, (this.delivered.get(id) ?? 0) + 1);
        res.writeHead(200).end();
      });
    });
  }

  get misbehaving(): boolean {
    return this.first === 0 || Date.now() - this.first < this.badMs;
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('a slow or failing webhook endpoint never holds the detector (real broker, InfluxDB, HTTP)', function () {
  this.timeout(120_000);
  let brokers: string[];
  let influx: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, influx] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-sink-bp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function raw(prefix: string, group: string, database: string, webhooks: Record<string, unknown> | undefined): Record<string, unknown> {
    return {
      sensor: { id: 'bp-test' },
      transport: {
        kind: 'kafka',
        kafka: {
          brokers,
          topics: { prefix, partitions: 2 },
          producer: { spool_dir: '', message_max_windows: 20 },
          consumer: { group_id: group, session_timeout_ms: 6000, heartbeat_interval_ms: 500, max_bytes_per_partition: 8192 },
        },
      },
      detect: { models_dir: path.join(dir, 'models-none') },
      sinks: {
        files: { alerts_file: path.join(dir, `${group}.jsonl`) },
        influx: { url: influx, database, flush_interval_ms: 100 },
        ...(webhooks ? { webhooks: { ...webhooks, dead_letter_file: path.join(dir, `${group}.dead.jsonl`) } } : {}),
      },
      service: { metrics_listen: '' },
    };
  }

  async function influxRows(database: string): Promise<number> {
    const res = await fetch(`${influx}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent('SELECT * FROM ww_alert')}`);
    const body = (await res.json()) as { results?: { series?: { values: unknown[] }[] }[] };
    return body.results?.[0]?.series?.reduce((n, s) => n + s.values.length, 0) ?? 0;
  }

  async function committedAll(prefix: string, group: string, config: ReturnType<typeof parseConfig>): Promise<boolean> {
    const admin = kafkaFromConfig(config.transport.kafka!).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(`${prefix}features`);
      const committed = await admin.fetchOffsets({ groupId: group, topics: [`${prefix}features`] });
      const total = ends.reduce((n, p) => n + Number(p.high), 0);
      return committed[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) >= total;
    } finally {
      await admin.disconnect();
    }
  }

  it('alerts reach the file and InfluxDB within seconds, no rebalance; every notice delivered once the endpoints recover', async () => {
    const prefix = `${freshName('ww-bp')}.`;
    const hang = new Endpoint('hang', 10_000);
    const flaky = new Endpoint('error500', 6000);
    await Promise.all([hang.listen(), flaky.listen()]);
    const retry = { retries: 20, initial_delay_ms: 200, max_delay_ms: 1000, multiplier: 2, jitter: 0.2 };
    const refGroup = freshName('ww-bp-ref');
    const group = freshName('ww-bp-slow');
    const refDb = freshName('ww_bp_ref');
    const db = freshName('ww_bp_slow');
    const refConfig = parseConfig(raw(prefix, refGroup, refDb, undefined), 'test', {});
    const config = parseConfig(
      raw(prefix, group, db, {
        endpoints: [
          { name: 'hang', url: hang.url, format: 'generic', timeout_ms: 2000, retry },
          { name: 'flaky', url: flaky.url, format: 'generic', timeout_ms: 2000, retry },
        ],
      }),
      'test',
      {},
    );
    const sensor = new SensorService(refConfig, { file: capture });
    await sensor.run();
    await sensor.stop();
    const reference = new DetectorService(refConfig);
    const slow = new DetectorService(config);
    try {
      const t0 = Date.now();
      await Promise.all([reference.start(), slow.start()]);
      // The reference: everything committed, its alerts are the expected set.
      const deadline = Date.now() + 60_000;
      while (!(await committedAll(prefix, refGroup, refConfig))) {
        if (Date.now() > deadline) throw new Error('the reference detector did not finish');
        await sleep(100);
      }
      const refDone = Date.now();
      const key = (a: Alert): string => `${a.alert_id}@${a.ts}`;
      const expected = new Set(readAlerts(path.join(dir, `${refGroup}.jsonl`)).map(key));
      assert.ok(expected.size >= 10, `${expected.size} reference alerts`);
      const refRows = await influxRows(refDb);
      // The detector with the misbehaving endpoints has them in its file and InfluxDB within seconds.
      const fileDeadline = Date.now() + 10_000;
      for (;;) {
        const got = new Set(readAlerts(path.join(dir, `${group}.jsonl`)).map(key));
        if (got.size >= expected.size && (await influxRows(db)) >= refRows) break;
        if (Date.now() > fileDeadline) throw new Error(`alerts file ${got.size}/${expected.size}, InfluxDB ${await influxRows(db)}/${refRows} rows 10 s after the reference finished; metrics ${JSON.stringify(slow.metrics())}`);
        await sleep(50);
      }
      const lag = Date.now() - refDone;
      assert.ok(hang.misbehaving || slow.metrics()['webhook_notices_queued']! > 0, 'the endpoints were still failing when the alerts were written: the test shows nothing otherwise');
      assert.deepEqual([...new Set(readAlerts(path.join(dir, `${group}.jsonl`)).map(key))].sort(), [...expected].sort());
      assert.equal(await influxRows(db), refRows);
      // Once both endpoints recover: every notice delivered to each, once; nothing dead-lettered; everything committed.
      const drainDeadline = Date.now() + 60_000;
      while (slow.metrics()['webhook_notices_queued']! > 0 || !(await committedAll(prefix, group, config))) {
        if (Date.now() > drainDeadline) throw new Error(`not drained: ${JSON.stringify(slow.metrics())}`);
        await sleep(100);
      }
      const drained = Date.now();
      const m = slow.metrics();
      assert.equal(m['webhook_dead_lettered'], 0);
      assert.ok(hang.delivered.size >= 3, `${hang.delivered.size} notices`);
      assert.deepEqual([...hang.delivered.keys()].sort(), [...flaky.delivered.keys()].sort(), 'the same notices to both endpoints');
      for (const ep of [hang, flaky]) assert.deepEqual([...ep.delivered.values()].filter((n) => n !== 1), [], 'each notice answered 200 once');
      assert.equal(m['webhook_notices_sent'], 2 * hang.delivered.size);
      assert.ok(hang.requests > hang.delivered.size && flaky.requests > flaky.delivered.size, 'both endpoints failed requests first');
      // No rebalance: one join, no membership lost, no handler error.
      assert.equal(m['consumer_group_joins'], 1, JSON.stringify(m));
      assert.equal(m['consumer_membership_lost'], 0);
      assert.equal(m['consumer_handler_errors'], 0);
      console.log(`      [faults] reference done ${((refDone - t0) / 1000).toFixed(1)} s after start; file+InfluxDB complete ${lag} ms later; webhooks drained ${((drained - refDone) / 1000).toFixed(1)} s later (${hang.delivered.size} notices, ${hang.requests}/${flaky.requests} requests); back-pressure waits ${m['sink_queue_backpressure_waits']}`);
    } finally {
      await Promise.all([reference.stop(), slow.stop()]);
      await Promise.all([hang.close(), flaky.close()]);
    }
  });

  it('a full sink queue pauses the consumer (back-pressure, heartbeats go on): no rebalance, nothing dropped, all delivered and committed', async () => {
    const prefix = `${freshName('ww-bpq')}.`;
    const hang = new Endpoint('hang', 8000);
    await hang.listen();
    const group = freshName('ww-bpq-slow');
    const config = parseConfig(
      raw(prefix, group, freshName('ww_bpq'), { endpoints: [{ name: 'hang', url: hang.url, format: 'generic', timeout_ms: 2000, retry: { retries: 20, initial_delay_ms: 200, max_delay_ms: 1000, multiplier: 2, jitter: 0.2 } }] }),
      'test',
      {},
    );
    const sensor = new SensorService(config, { file: capture });
    await sensor.run();
    await sensor.stop();
    const windows = sensor.producer.stats().produced;
    // Room for ~5 % of the windows: the queue fills while the endpoint hangs (8 s > the 6 s session timeout).
    const slow = new DetectorService(config, {}, { sink_queue: { max_pending_windows: 150 } });
    try {
      await slow.start();
      const deadline = Date.now() + 60_000;
      while (!(await committedAll(prefix, group, config)) || slow.metrics()['webhook_notices_queued']! > 0) {
        if (Date.now() > deadline) throw new Error(`not drained: ${JSON.stringify(slow.metrics())}`);
        await sleep(100);
      }
      const m = slow.metrics();
      assert.ok(m['sink_queue_backpressure_waits']! > 0, `the queue filled: ${JSON.stringify(m)}`);
      assert.ok(m['sink_queue_backpressure_ms']! > 6000, `the consumer waited longer than the session timeout in all: ${m['sink_queue_backpressure_ms']} ms`);
      assert.equal(m['consumer_group_joins'], 1, 'no rebalance');
      assert.equal(m['consumer_membership_lost'], 0);
      assert.equal(m['consumer_handler_errors'], 0);
      assert.equal(m['consumer_processed'], windows, 'every window scored once');
      assert.equal(m['webhook_dead_lettered'], 0);
      assert.ok(hang.delivered.size >= 3 && [...hang.delivered.values()].every((n) => n === 1), `${hang.delivered.size} notices, each delivered once`);
      assert.equal(m['sink_queue_pending_windows'], 0);
      console.log(`      [faults] back-pressure: ${m['sink_queue_backpressure_waits']} waits, ${m['sink_queue_backpressure_ms']} ms in all; ${windows} windows, ${hang.delivered.size} notices`);
    } finally {
      await slow.stop();
      await hang.close();
    }
  });
});
