/**
 * Issue 21 item 5: `/metrics` of a real running `wardwatch detect` (real Kafka and InfluxDB) is prom-client's text:
 * counters typed as counters with `_total` names, a HELP line for every family, the sink as a label, and the
 * process metrics; `/healthz` is unchanged (200 while the consumer runs).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';
import { freePort } from '../../support/veth.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('/metrics of a running wardwatch detect (real Kafka and InfluxDB)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-metrics-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counters _total with TYPE counter, HELP on every family, the sink label, process metrics; /healthz 200', async () => {
    const brokers = await requireKafka();
    const influx = await requireInflux();
    const port = await freePort();
    const group = freshName('ww-metrics-g');
    const cfg = path.join(dir, 'detect.yaml');
    writeFileSync(
      cfg,
      stringify({
        sensor: { id: 'metrics-test' },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-metrics')}.`, partitions: 1 }, producer: { spool_dir: '' }, consumer: { group_id: group } } },
        detect: { models_dir: path.join(dir, 'no-models') },
        sinks: { influx: { url: influx, database: freshName('ww_metrics').replace(/-/g, '_') }, files: { alerts_file: path.join(dir, 'alerts.jsonl') } },
        service: { metrics_listen: `127.0.0.1:${port}` },
      }),
    );
    const child = spawn(process.execPath, [cli, 'detect', '-c', cfg], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      let status = 0;
      for (const t0 = Date.now(); status !== 200; await sleep(200)) {
        if (Date.now() - t0 > 30_000) assert.fail(`/healthz not 200 after 30 s (${status}):\n${stderr.slice(-2000)}`);
        status = (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status ?? 0;
      }
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.match(text, /^# HELP wardwatch_detector_consumer_group_joins_total Times this member joined the consumer group\.$/m);
      assert.match(text, /^# TYPE wardwatch_detector_consumer_group_joins_total counter$/m);
      assert.match(text, /^wardwatch_detector_consumer_group_joins_total [1-9]\d*$/m);
      assert.match(text, /^# TYPE wardwatch_detector_consumer_running gauge$/m);
      assert.match(text, /^wardwatch_detector_consumer_running 1$/m);
      assert.match(text, /^# TYPE wardwatch_detector_sink_points_written_total counter$/m);
      assert.match(text, /^wardwatch_detector_sink_points_written_total\{sink="influx"\} \d+$/m);
      assert.match(text, /^# TYPE process_resident_memory_bytes gauge$/m);
      assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
      const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
      assert.ok(families.length > 40, `${families.length} families`);
      for (const f of families) assert.ok(text.includes(`# HELP ${f} `), `no HELP for ${f}`);
      assert.doesNotMatch(text, /undocumented|http:\/\//, 'every number documented; no URL in a label');
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
