/**
 * Alerts and window metrics from an actual replay (capture → decode → flows → features → detector → sinks) land in
 * real InfluxDB and are read back with InfluxQL; replaying again (a redelivery) adds no duplicates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { parseConfig } from '../../../src/config/load.js';
import { runCapture } from '../../../src/cli/run.js';
import { MEASUREMENT, REPLAY_RETENTION_POLICY } from '../../../src/sinks/influx/points.js';
import { freshName, requireInflux } from '../../support/services.js';

/** The replays' retention policy, as InfluxQL writes a qualified measurement. */
const R = `"${REPLAY_RETENTION_POLICY}"`;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('replay → InfluxDB (real influxd)', function () {
  this.timeout(180_000);
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(180_000);
    url = await requireInflux();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-replay-influx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every alert, window and inventory entry of a replay, once', async () => {
    const database = freshName('ww_replay');
    // Captures are from 2026-01: with the default 30-day policy a replay with a run id still keeps every point, in
    // the replays' own policy (issue 22 item 12a).
    const config = parseConfig({ sinks: { influx: { url, database }, files: { alerts_file: path.join(dir, 'alerts.jsonl') } } }, 'test', {});
    const capture = path.join(repo, 'captures', 'golden', 'scan.pcap');
    const opts = { speed: 'max', runId: 'case-1', modelsDir: path.join(dir, 'no-models') };
    const first = await runCapture(capture, config, opts, 'replay');
    assert.ok(first.alerts.length > 0);
    await runCapture(capture, config, opts, 'replay'); // same input again: identical points overwrite
    const influx = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    try {
      const alerts = await influx.query<{ alert_id: string; device: string; kind: string; run_id: string }>(`SELECT alert_id, device, kind, run_id FROM ${R}.${MEASUREMENT.alert}`);
      assert.deepEqual(alerts.map((a) => a.alert_id).sort(), first.alerts.map((a) => a.alert_id).sort());
      assert.ok(alerts.every((a) => a.run_id === 'case-1'));
      const windows = await influx.query<{ n: number }>(`SELECT count(pkts_out) AS n FROM ${R}.${MEASUREMENT.window}`);
      assert.equal(windows[0]?.n, first.windows_scored);
      const inventory = await influx.query<{ device: string }>(`SELECT last(last_seen_ms) FROM ${R}.${MEASUREMENT.inventory} GROUP BY device`);
      assert.equal(inventory.length, first.inventory.length);
      // Each window point is tagged with its device's class (the class the detector scored it with), not 'unknown'.
      const byClass = await influx.query<{ device_class: string; device: string; n: number }>(`SELECT count(pkts_out) AS n FROM ${R}.${MEASUREMENT.window} GROUP BY device_class, device`);
      const classOf = new Map(first.inventory.map((e) => [e.device_id, e.device_class]));
      const tagged = byClass.filter((r) => classOf.has(r.device));
      assert.ok(tagged.length >= 2, JSON.stringify(byClass));
      for (const r of tagged) assert.equal(r.device_class, classOf.get(r.device), r.device);
      assert.ok(tagged.some((r) => r.device_class !== 'unknown'), JSON.stringify(tagged));
      const health = await influx.query<{ packets_per_s: number; decode_errors: number; flow_table_fill: number }>(`SELECT packets_per_s, decode_errors, flow_table_fill FROM ${R}.${MEASUREMENT.health}`);
      // One health point per 10 s of packet time (identical on the second replay: overwritten, not duplicated).
      const span = first.last_ts - first.first_ts;
      // (at most one per 10 s; none for a 10-s stretch without packets)
      assert.ok(health.length >= 2 && health.length <= Math.ceil(span / 10) + 1, `${health.length} health points over ${span} s`);
      assert.ok(health.some((h) => h.packets_per_s > 0));
      // The live policy stays the default and got nothing; the replays' policy keeps points of any age.
      const rps = await influx.showRetentionPolicies(database);
      assert.deepEqual(
        rps.filter((r) => r.name !== 'autogen').map((r) => [r.name, r.duration, r.default]).sort(),
        [
          ['wardwatch_30d', '720h0m0s', true],
          [REPLAY_RETENTION_POLICY, '0s', false],
        ],
      );
      assert.equal((await influx.query(`SELECT count(alert_id) FROM ${MEASUREMENT.alert}`)).length, 0, 'nothing in the live policy');
      // A whole file: its health says no record was cut.
      const cutFields = await influx.query(`SELECT capture_truncated_record FROM ${R}.${MEASUREMENT.health} WHERE capture_truncated_record > 0`);
      assert.equal(cutFields.length, 0);
    } finally {
      await influx.dropDatabase(database);
    }
  });

  it('without a run id an old capture goes to the live policy, which refuses it: the error says to give --run-id', () => {
    const database = freshName('ww_replay_norun');
    const cfg = path.join(dir, 'norun.yaml');
    writeFileSync(cfg, `sinks:\n  influx: { url: "${url}", database: ${database} }\n  files: { alerts_file: ${path.join(dir, 'norun.jsonl')} }\ndevices: { state_file: "" }\n`);
    const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
    const r = spawnSync(process.execPath, [cli, 'replay', path.join(repo, 'captures', 'golden', 'scan.pcap'), '-c', cfg, '-q'], { cwd: repo, encoding: 'utf8', env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' }, timeout: 120_000 });
    void new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port) }).dropDatabase(database).catch(() => undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^wardwatch: error: influx-writer: InfluxDB rejected points: older than retention policy wardwatch_30d; replay the capture with --run-id to write it to the wardwatch_replay policy .*beyond retention policy/m);
  });

  it('a capture cut in the middle of a record: the last ww_health point says so (issue 22 item 5)', async () => {
    const database = freshName('ww_replay_cut');
    const config = parseConfig({ sinks: { influx: { url, database }, files: { alerts_file: path.join(dir, 'cut-alerts.jsonl') } }, devices: { state_file: '' } }, 'test', {});
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(path.join(repo, 'captures', 'demo.pcap')).subarray(0, 100_000));
    const result = await runCapture(cut, config, { speed: 'max', runId: 'cut-1', quiet: true }, 'replay');
    assert.equal(result.capture.truncated_record, 1);
    const influx = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    try {
      // Every point carries the reader's counters; the last one (the read ended at the cut) says 1, the others 0.
      const rows = await influx.query<{ time: Date; capture_truncated_record: number; capture_gzip_corrupt: number }>(
        `SELECT capture_truncated_record, capture_gzip_corrupt FROM ${R}.${MEASUREMENT.health}`,
      );
      assert.ok(rows.length >= 2, JSON.stringify(rows));
      const last = rows.at(-1)!;
      assert.equal(last.capture_truncated_record, 1);
      assert.equal(last.capture_gzip_corrupt, 0);
      assert.equal(last.time.getTime(), Math.round(result.last_ts * 1000), 'the final point, at the last packet');
      assert.ok(rows.slice(0, -1).every((r) => r.capture_truncated_record === 0), 'before the read ended, nothing was cut');
    } finally {
      await influx.dropDatabase(database);
    }
  });
});
