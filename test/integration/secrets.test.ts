/**
 * Issue 21 item 4: no configured secret in any output. Secrets are planted in every place a config holds one — the
 * InfluxDB URL's user and password, a Slack-style webhook URL (its path is the secret), a webhook HMAC secret and an
 * Authorization header — and the real commands run with them: `wardwatch run` (the webhook unreachable, so its
 * failures are logged and dead-lettered), then `wardwatch sensor -r` → Kafka → `wardwatch detect` with its /metrics
 * scraped. Every output is then searched for the planted strings: stdout and stderr (logs), the alerts file, the
 * webhook dead-letter file, /metrics, and every point of the InfluxDB database.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { freshName, requireInflux, requireKafka } from '../support/services.js';
import { freePort } from '../support/veth.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const PLANTED = {
  influx_user: 'plantedInfluxUser7',
  influx_password: 'plantedInfluxPass7',
  slack_path: 'PLANTEDslackSECRET7',
  hmac: 'plantedHmacSecret7',
  bearer: 'plantedBearerToken7',
};

describe('secrets never reach an output: logs, files, /metrics, InfluxDB (real commands and services)', function () {
  this.timeout(240_000);
  let brokers: string[];
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, url] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-secrets-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('run, sensor and detect with secrets planted in every field that holds one', async () => {
    const database = freshName('ww_secrets');
    const u = new URL(url);
    const influxUrl = `http://${PLANTED.influx_user}:${PLANTED.influx_password}@${u.host}`;
    const metricsPort = await freePort();
    const config = {
      sensor: { id: 'secrets-test' },
      detect: { models_dir: path.join(REPO, 'models') },
      transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-secrets')}.`, partitions: 2 }, producer: { spool_dir: path.join(dir, 'spool') }, consumer: { group_id: freshName('ww-secrets') } } },
      sinks: {
        influx: { url: influxUrl, database, retention_policy: '', flush_interval_ms: 200 },
        files: { alerts_file: path.join(dir, 'alerts.jsonl') },
        webhooks: {
          dead_letter_file: path.join(dir, 'webhooks.dead-letter.jsonl'),
          endpoints: [
            // Unreachable (no such host here): every notice fails, is logged and dead-lettered.
            { name: 'slack', url: `http://hooks.slack.invalid/services/T0000/B0000/${PLANTED.slack_path}`, format: 'slack', timeout_ms: 500, retry: { retries: 1, initial_delay_ms: 10, max_delay_ms: 20 } },
            { name: 'soc', url: 'http://127.0.0.1:9/hook', format: 'generic', secret_env: 'WW_TEST_PLANTED_HMAC', headers: { Authorization: `Bearer ${PLANTED.bearer}` }, timeout_ms: 500, retry: { retries: 1, initial_delay_ms: 10, max_delay_ms: 20 } },
          ],
        },
      },
      service: { metrics_listen: `127.0.0.1:${metricsPort}` },
    };
    const file = path.join(dir, 'wardwatch.json');
    writeFileSync(file, JSON.stringify(config));
    const env = { ...process.env, WARDWATCH_LOG_LEVEL: 'debug', WW_TEST_PLANTED_HMAC: PLANTED.hmac };
    const outputs: Record<string, string> = {};

    // 1. wardwatch run on the demo capture (no Kafka involved; its own sinks).
    const run = spawnSync(process.execPath, [CLI, 'run', path.join(REPO, 'captures', 'demo.pcap'), '-c', file], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, run.stderr.slice(-3000));
    outputs['run stdout'] = run.stdout;
    outputs['run stderr'] = run.stderr;

    // 2. sensor -r → Kafka → detect (its /metrics scraped while it runs).
    const detect = spawn(process.execPath, [CLI, 'detect', '-c', file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let detectOut = '';
    detect.stdout.on('data', (d: Buffer) => (detectOut += d.toString()));
    detect.stderr.on('data', (d: Buffer) => (detectOut += d.toString()));
    const sensorConfig = path.join(dir, 'sensor.json');
    writeFileSync(sensorConfig, JSON.stringify({ ...config, service: { metrics_listen: '' } }));
    try {
      const sensor = spawnSync(process.execPath, [CLI, 'sensor', '-c', sensorConfig, '-r', path.join(REPO, 'captures', 'demo.pcap')], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(sensor.status, 0, sensor.stderr.slice(-3000));
      outputs['sensor stdout'] = sensor.stdout;
      outputs['sensor stderr'] = sensor.stderr;
      // Until the detector has written alerts of its own (and tried the webhooks), then its /metrics.
      for (const deadline = Date.now() + 90_000; !/"msg":"webhook delivery failed"/.test(detectOut) || !existsSync(path.join(dir, 'webhooks.dead-letter.jsonl')); ) {
        assert.ok(Date.now() < deadline, `detect did not try the webhooks:\n${detectOut.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      outputs['detect /metrics'] = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      outputs['detect /healthz'] = await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).text();
    } finally {
      detect.kill('SIGTERM');
      await new Promise((r) => detect.once('exit', r));
    }
    outputs['detect output'] = detectOut;
    outputs['alerts file'] = readFileSync(path.join(dir, 'alerts.jsonl'), 'utf8');
    outputs['webhook dead letters'] = readFileSync(path.join(dir, 'webhooks.dead-letter.jsonl'), 'utf8');
    const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
    try {
      for (const m of ['ww_alert', 'ww_device_window', 'ww_inventory', 'ww_health']) {
        const rows = await influx.query(`SELECT * FROM ${m}`);
        assert.ok(rows.length > 0, `no ${m} points`);
        outputs[`InfluxDB ${m}`] = JSON.stringify(rows);
      }
    } finally {
      await influx.dropDatabase(database).catch(() => undefined);
    }

    // The outputs are not empty (the search is real): logs name the endpoints, the writer its host, notices failed.
    assert.match(outputs['detect output'], /webhook delivery failed/);
    assert.ok(outputs['webhook dead letters'].split('\n').filter(Boolean).length > 0);
    assert.match(outputs['run stderr'] + outputs['detect output'], /influxdb ready/);
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(outputs)) for (const [what, secret] of Object.entries(PLANTED)) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
    assert.deepEqual(leaks, []);
  });
});
