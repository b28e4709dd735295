/**
 * wardwatch against a REAL secured broker of its own (other ports, fresh data dir): a SASL_SSL listener (TLS with a
 * CA and a broker certificate generated here with openssl; SCRAM-SHA-256 user created at storage format) and a
 * SASL_PLAINTEXT listener with a PLAIN user. Windows round-trip through both with wardwatch's config
 * (transport.kafka.ssl / sasl); a wrong password and an untrusted CA each give one clear line naming the broker and
 * the mechanism or the certificate problem.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { KafkaWindowProducer } from '../../../src/transport/kafka/producer.js';
import { KafkaWindowConsumer } from '../../../src/transport/kafka/consumer.js';
import { DEFAULT_TOPICS, ensureTopics } from '../../../src/transport/kafka/topics.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { DEFAULT_KAFKA, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { freshName, requireKafka } from '../../support/services.js';
import { makeWindows, windowKey } from '../../support/windows.js';
import { WardwatchError } from '../../../src/errors.js';

const OFFSET = 400;
const SECURE = {
  ...DEFAULT_KAFKA,
  instance: 'kafka-secure-test',
  port: DEFAULT_KAFKA.port + OFFSET,
  controller_port: DEFAULT_KAFKA.controller_port + OFFSET,
  heap: '384m',
};
const SASL_SSL_PORT = DEFAULT_KAFKA.port + OFFSET + 2;
const SASL_PLAINTEXT_PORT = DEFAULT_KAFKA.port + OFFSET + 3;
const SCRAM = { username: 'ww-sensor', password: 'scram-secret-1' };
const PLAIN = { username: 'ww-detector', password: 'plain-secret-2' };

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a broker certificate it signs (SAN 127.0.0.1 and localhost) in a PKCS#12 keystore, and a second, unrelated CA. */
function makeCertificates(dir: string): { ca: string; otherCa: string; keystore: string; password: string } {
  const password = 'keystore-pass';
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wardwatch test CA'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=some other CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.ext'], dir);
  openssl(['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-out', 'broker.p12', '-passout', `pass:${password}`, '-name', 'broker'], dir);
  return { ca: path.join(dir, 'ca.pem'), otherCa: path.join(dir, 'other-ca.pem'), keystore: path.join(dir, 'broker.p12'), password };
}

describe('Kafka security: TLS + SASL against a real secured broker', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;

  before(async function () {
    this.timeout(180_000);
    await requireKafka(); // the jars (and Java) are there
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-kafka-secure-'));
    certs = makeCertificates(dir);
    await startKafka({
      ...SECURE,
      security: {
        sasl_ssl_port: SASL_SSL_PORT,
        keystore_file: certs.keystore,
        keystore_password: certs.password,
        scram_users: [SCRAM],
        sasl_plaintext_port: SASL_PLAINTEXT_PORT,
        plain_users: [PLAIN],
      },
    });
  });

  after(async function () {
    this.timeout(60_000);
    await stopKafka(SECURE.instance);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(port: number, kafka: Record<string, unknown>) {
    return parseConfig(
      {
        transport: {
          kind: 'kafka',
          kafka: {
            brokers: [`127.0.0.1:${port}`],
            connection_timeout_ms: 3000,
            request_timeout_ms: 10_000,
            retry: { retries: 1, initial_retry_time_ms: 100, max_retry_time_ms: 500 },
            topics: { prefix: `${freshName('ww-sec')}.`, partitions: 2 },
            producer: { spool_dir: '' },
            ...kafka,
          },
        },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
  }

  async function roundTrip(cfg: ReturnType<typeof config>): Promise<void> {
    const k = cfg.transport.kafka!;
    const kafka = kafkaFromConfig(k);
    const topic = `${k.topics.prefix}features`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic, `${topic}-dlq`], { ...DEFAULT_TOPICS, partitions: 2 });
    await admin.disconnect();
    const sent = makeWindows(6, 20, 31);
    const producer = new KafkaWindowProducer(kafka, k.brokers, { topic, ...k.producer });
    producer.enqueue(sent);
    await producer.flush(30_000);
    await producer.close();
    const consumer = new KafkaWindowConsumer(kafka, { topic, group_id: freshName('ww-sec-group'), dead_letter_topic: `${topic}-dlq`, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 });
    const got: FeatureWindow[] = [];
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`consumed ${got.length}/${sent.length}`)), 45_000);
      void consumer.start((ws) => {
        got.push(...ws);
        if (got.length >= sent.length) {
          clearTimeout(t);
          resolve();
        }
        return Promise.resolve();
      });
    });
    await consumer.stop();
    const byKey = new Map(got.map((w) => [windowKey(w), w]));
    assert.equal(byKey.size, sent.length);
    for (const w of sent) assert.deepEqual(byKey.get(windowKey(w)), w);
  }

  it('round-trips windows over SASL_SSL (TLS with our CA, SCRAM-SHA-256)', async () => {
    await roundTrip(config(SASL_SSL_PORT, { ssl: { ca_file: certs.ca }, sasl: { mechanism: 'scram-sha-256', ...SCRAM } }));
  });

  it('round-trips windows over SASL_PLAINTEXT (PLAIN)', async () => {
    await roundTrip(config(SASL_PLAINTEXT_PORT, { sasl: { mechanism: 'plain', ...PLAIN } }));
  });

  async function sensorError(cfg: ReturnType<typeof config>): Promise<WardwatchError> {
    const sensor = new SensorService(cfg, { file: path.join(dir, 'never-read.pcap') });
    const err = await sensor.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    await sensor.stop(1000).catch(() => undefined);
    assert.ok(err instanceof WardwatchError, `expected a WardwatchError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err;
  }

  it('a wrong password fails with one line naming the broker, the mechanism and the user', async () => {
    const err = await sensorError(config(SASL_SSL_PORT, { ssl: { ca_file: certs.ca }, sasl: { mechanism: 'scram-sha-256', username: SCRAM.username, password: 'wrong' } }));
    assert.equal(err.code, 'WW_KAFKA_AUTH');
    assert.match(err.message, new RegExp(`^kafka 127\\.0\\.0\\.1:${SASL_SSL_PORT}: SASL SCRAM-SHA-256 authentication as '${SCRAM.username}' failed`));
    assert.equal(err.retriable, false);
  });

  it('an untrusted CA fails with one clear TLS line', async () => {
    const err = await sensorError(config(SASL_SSL_PORT, { ssl: { ca_file: certs.otherCa }, sasl: { mechanism: 'scram-sha-256', ...SCRAM } }));
    assert.equal(err.code, 'WW_KAFKA_TLS');
    assert.match(err.message, new RegExp(`^kafka 127\\.0\\.0\\.1:${SASL_SSL_PORT}: TLS: the broker's certificate is not trusted \\(.+\\); set transport\\.kafka\\.ssl\\.ca_file`));
  });

  /**
   * Issue 21: a start error no retry can fix ends the process at once, with one line and exit code 1 (before, `sensor`
   * with a wrong password printed its line and kept running for minutes, until a second SIGTERM).
   */
  async function processExit(command: 'sensor' | 'detect', kafka: Record<string, unknown>): Promise<{ code: number | null; took: number; lines: string[]; stderr: string }> {
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
    const cfg = path.join(dir, `${command}-${freshName('cfg')}.yaml`);
    // kafkajs retries a failed TLS handshake itself (8 times by default, ~1 min) before wardwatch sees the error.
    const raw = {
      transport: { kind: 'kafka', kafka: { brokers: [`127.0.0.1:${SASL_SSL_PORT}`], connection_timeout_ms: 3000, retry: { retries: 1, initial_retry_time_ms: 100, max_retry_time_ms: 500 }, request_timeout_ms: 10_000, topics: { prefix: `${freshName('ww-sec-p')}.`, partitions: 2 }, producer: { spool_dir: '' }, ...kafka } },
      detect: { models_dir: path.join(dir, 'models') },
      sinks: { files: { alerts_file: path.join(dir, 'alerts.jsonl') } },
      service: { metrics_listen: '' },
    };
    writeFileSync(cfg, stringify(raw));
    const args = command === 'sensor' ? ['sensor', '-c', cfg, '-r', path.join(repo, 'captures', 'demo.pcap')] : ['detect', '-c', cfg];
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(repo, 'dist', 'src', 'cli', 'main.js'), ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(timer);
    return { code, took: Date.now() - t0, stderr, lines: stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{')) };
  }

  it('`sensor` with a wrong password exits 1 at once with one WW_KAFKA_AUTH line', async () => {
    const r = await processExit('sensor', { ssl: { ca_file: certs.ca }, sasl: { mechanism: 'scram-sha-256', username: SCRAM.username, password: 'wrong' } });
    assert.equal(r.code, 1, r.lines.join('\n'));
    assert.equal(r.lines.length, 1, r.lines.join('\n'));
    assert.match(r.lines[0]!, /^wardwatch: WW_KAFKA_AUTH: kafka 127\.0\.0\.1:\d+: SASL SCRAM-SHA-256 authentication as 'ww-sensor' failed/);
    assert.ok(r.took < 20_000, `took ${r.took} ms`);
    console.log(`      [faults] sensor with a wrong password exited ${r.code} after ${r.took} ms`);
  });

  it('`detect` with an untrusted CA exits 1 at once with one WW_KAFKA_TLS line', async () => {
    const r = await processExit('detect', { ssl: { ca_file: certs.otherCa }, sasl: { mechanism: 'scram-sha-256', ...SCRAM } });
    assert.equal(r.code, 1, r.lines.join('\n') + r.stderr.slice(-3000));
    assert.equal(r.lines.length, 1, r.lines.join('\n'));
    assert.match(r.lines[0]!, /^wardwatch: WW_KAFKA_TLS: kafka 127\.0\.0\.1:\d+: TLS: the broker's certificate is not trusted/);
    assert.ok(r.took < 20_000, `took ${r.took} ms`);
    console.log(`      [faults] detect with an untrusted CA exited ${r.code} after ${r.took} ms`);
  });

  it('a producer refused by the broker (wrong password) stops for good at once: failure reported, flush fails fast, what it held spooled', async () => {
    const cfg = config(SASL_SSL_PORT, { ssl: { ca_file: certs.ca }, sasl: { mechanism: 'scram-sha-256', username: SCRAM.username, password: 'wrong' } });
    const k = cfg.transport.kafka!;
    const producer = new KafkaWindowProducer(kafkaFromConfig(k), k.brokers, { topic: `${k.topics.prefix}features`, ...k.producer, spool_dir: path.join(dir, 'spool-auth') });
    const failed = new Promise<WardwatchError>((r) => producer.onFailure(r));
    producer.enqueue(makeWindows(2, 5, 9));
    const err = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
    assert.ok(err, 'a failure was reported');
    assert.equal(err.code, 'WW_KAFKA_AUTH');
    const t0 = Date.now();
    await assert.rejects(producer.flush(60_000), (e: unknown) => e === err);
    assert.ok(Date.now() - t0 < 1000, 'flush does not wait for a broker that refuses us');
    await producer.close(2000);
    assert.equal(producer.stats().dropped, 0);
    assert.equal(producer.stats().spool_pending, 10, 'the windows it held are in the spool for the next start');
  });
});
