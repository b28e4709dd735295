/**
 * A real Apache Kafka broker (KRaft, one broker+controller) on loopback for tests and the quick start.
 * Jars come from Maven Central through scripts/kafka/pom.xml into .cache/kafka/libs (re-fetched only when the pom
 * changes); storage is formatted in a fresh temp dir at every start; the JVM is the machine's Java 17.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  CACHE_DIR,
  REPO_ROOT,
  instanceDir,
  isAlive,
  launchService,
  logPath,
  onPath,
  pauseService,
  portOpen,
  readState,
  resumeFromState,
  run,
  stopService,
  type ServiceState,
} from './common.js';

export interface KafkaInstanceOptions {
  /** Name of the instance (state and log folder). */
  instance: string;
  host: string;
  /** PLAINTEXT listener for clients. */
  port: number;
  /** CONTROLLER listener (KRaft quorum). */
  controller_port: number;
  /** JVM max heap, e.g. '1g'. */
  heap: string;
  /** Secured listeners besides PLAINTEXT (which stays for readiness checks and inter-broker traffic). */
  security?: KafkaSecurityOptions;
}

/**
 * A SASL_SSL listener (TLS with the given PKCS#12 keystore; SCRAM-SHA-256 users added at storage format with
 * `--add-scram`) and optionally a SASL_PLAINTEXT listener with PLAIN users (from the listener's JAAS config).
 */
export interface KafkaSecurityOptions {
  sasl_ssl_port: number;
  /** PKCS#12 keystore holding the broker's key and certificate chain. */
  keystore_file: string;
  keystore_password: string;
  scram_users: { username: string; password: string }[];
  sasl_plaintext_port?: number;
  plain_users?: { username: string; password: string }[];
}

export const DEFAULT_KAFKA: KafkaInstanceOptions = {
  instance: 'kafka',
  host: '127.0.0.1',
  port: Number(process.env['WARDWATCH_TEST_KAFKA_PORT'] ?? 19092),
  controller_port: Number(process.env['WARDWATCH_TEST_KAFKA_CONTROLLER_PORT'] ?? 19093),
  heap: '768m',
};

const POM = path.join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml');
const LOG4J = path.join(REPO_ROOT, 'scripts', 'kafka', 'log4j2.properties');
export const KAFKA_LIBS = path.join(CACHE_DIR, 'kafka', 'libs');
export const LOG4J_CONFIG = LOG4J;

export const KAFKA_TOOLS_LIBS = path.join(CACHE_DIR, 'kafka', 'tools-libs');
const TOOLS_POM = path.join(REPO_ROOT, 'scripts', 'kafka', 'tools-pom.xml');

/** Fetches the broker's jars with Maven unless the cache already matches the pom. Returns the libs folder. */
export function ensureKafkaJars(log: (msg: string) => void = () => {}): Promise<string> {
  return fetchJars(POM, KAFKA_LIBS, 'kafka_2.13-', log);
}

/** Kafka's perf tools (the benchmark's reference), fetched on demand. */
export function ensureKafkaToolsJars(log: (msg: string) => void = () => {}): Promise<string> {
  return fetchJars(TOOLS_POM, KAFKA_TOOLS_LIBS, 'kafka-tools-', log);
}

async function fetchJars(pom: string, dir: string, expect: string, log: (msg: string) => void): Promise<string> {
  const pomHash = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const stamp = path.join(dir, '.pom-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === pomHash) return dir;
  if (!(await onPath('mvn'))) throw new Error('Maven (mvn) is not installed: it fetches the Kafka jars (apt-get install maven)');
  if (!(await onPath('java'))) throw new Error('Java is not installed: Kafka needs Java 17 (apt-get install openjdk-17-jre-headless)');
  log(`fetching ${path.basename(pom)} jars with Maven into ${path.relative(REPO_ROOT, dir)} ...`);
  rmSync(dir, { recursive: true, force: true });
  await run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${dir}`]);
  const jars = readdirSync(dir).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(expect))) throw new Error(`Maven ran but no ${expect}*.jar is in ${dir}`);
  writeFileSync(stamp, pomHash);
  return dir;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid format). Like Kafka's own
 * Uuid.randomUuid(), ids starting with '-' are drawn again: kafka-storage's argument parser reads one as an option
 * (1 format in 64 failed with "argument --cluster-id/-t: expected one argument").
 */
export function clusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function securityProperties(o: KafkaInstanceOptions): { listeners: string[]; advertised: string[]; map: string[]; props: string[] } {
  const sec = o.security;
  if (!sec) return { listeners: [], advertised: [], map: [], props: [] };
  const jaasQuote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const listeners = [`SASL_SSL://${o.host}:${sec.sasl_ssl_port}`];
  const map = ['SASL_SSL:SASL_SSL'];
  const props = [
    'sasl.enabled.mechanisms=SCRAM-SHA-256',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256',
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${sec.keystore_file}`,
    `ssl.keystore.password=${sec.keystore_password}`,
    `ssl.key.password=${sec.keystore_password}`,
    'ssl.client.auth=none',
  ];
  if (sec.sasl_plaintext_port) {
    listeners.push(`SASL_PLAINTEXT://${o.host}:${sec.sasl_plaintext_port}`);
    map.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
    const users = (sec.plain_users ?? []).map((u) => `user_${u.username}=${jaasQuote(u.password)}`).join(' ');
    props.push(
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN',
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
    );
  }
  return { listeners, advertised: listeners, map, props };
}

/** `kafka-storage format` arguments that create the SCRAM users of `security` (KRaft stores them in the metadata log). */
function scramFormatArgs(o: KafkaInstanceOptions): string[] {
  return (o.security?.scram_users ?? []).flatMap((u) => ['--add-scram', `SCRAM-SHA-256=[name=${u.username},password=${u.password}]`]);
}

function serverProperties(o: KafkaInstanceOptions, dataDir: string): string {
  const sec = securityProperties(o);
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `listeners=${[`PLAINTEXT://${o.host}:${o.port}`, `CONTROLLER://${o.host}:${o.controller_port}`, ...sec.listeners].join(',')}`,
    `advertised.listeners=${[`PLAINTEXT://${o.host}:${o.port}`, ...sec.advertised].join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT', ...sec.map].join(',')}`,
    ...sec.props,
    `controller.quorum.bootstrap.servers=${o.host}:${o.controller_port}`,
    `log.dirs=${dataDir}/logs`,
    'num.partitions=3',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.flush.interval.messages=9223372036854775807',
    '',
  ].join('\n');
}

export function kafkaBrokers(o: KafkaInstanceOptions = DEFAULT_KAFKA): string[] {
  return [`${o.host}:${o.port}`];
}

/** True when a broker answers a metadata request on the instance's port. */
export async function kafkaReady(o: KafkaInstanceOptions = DEFAULT_KAFKA): Promise<boolean> {
  if (!(await portOpen(o.host, o.port))) return false;
  const admin = new Kafka({
    clientId: 'wardwatch-services',
    brokers: kafkaBrokers(o),
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Starts the instance unless it is already running (then it is reused). Waits until a client gets metadata.
 * Fails with the tail of the broker log when it cannot start.
 */
export async function startKafka(
  options: Partial<KafkaInstanceOptions> = {},
  log: (msg: string) => void = () => {},
): Promise<ServiceState> {
  const o = { ...DEFAULT_KAFKA, ...options };
  const existing = readState(o.instance);
  if (existing && isAlive(existing.pid) && (await kafkaReady(o))) return existing;
  if (existing) await stopKafka(o.instance);
  for (const port of [o.port, o.security?.sasl_ssl_port, o.security?.sasl_plaintext_port]) {
    if (port && (await portOpen(o.host, port))) {
      throw new Error(`kafka: port ${o.host}:${port} is taken by a process this script did not start; stop it or set WARDWATCH_TEST_KAFKA_PORT`);
    }
  }
  const libs = await ensureKafkaJars(log);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `wardwatch-${o.instance}-`));
  const props = path.join(dataDir, 'server.properties');
  writeFileSync(props, serverProperties(o, dataDir));
  writeFileSync(logPath(o.instance), `--- ${new Date().toISOString()} starting ${o.instance} in ${dataDir}\n`);
  await run('java', [...jvmArgs(o), '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '--standalone', `--cluster-id=${clusterId()}`, '-c', props, ...scramFormatArgs(o)]);
  log(`starting Kafka ${o.instance} on ${o.host}:${o.port} (data ${dataDir})`);
  return launchService({ ...brokerLaunch(o, props), host: o.host, ports: { kafka: o.port, controller: o.controller_port }, data_dir: dataDir });
}

function jvmArgs(o: KafkaInstanceOptions): string[] {
  return ['-Xms128m', `-Xmx${o.heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${LOG4J}`];
}

function brokerLaunch(o: KafkaInstanceOptions, props: string) {
  return {
    instance: o.instance,
    label: `kafka broker ${o.host}:${o.port}`,
    command: 'java',
    args: [...jvmArgs(o), '-cp', `${KAFKA_LIBS}/*`, 'kafka.Kafka', props],
    ready: () => kafkaReady(o),
    ready_timeout_ms: 60_000,
  };
}

/**
 * Stops the broker process but keeps its data dir, as an operator's restart would; `resumeKafka` starts it again
 * on the same storage. For outage tests.
 */
export function pauseKafka(instance = DEFAULT_KAFKA.instance): Promise<void> {
  return pauseService(instance);
}

export function resumeKafka(options: Partial<KafkaInstanceOptions> = {}): Promise<ServiceState> {
  const o = { ...DEFAULT_KAFKA, ...options };
  return resumeFromState(o.instance, 'kafka', (dataDir) => brokerLaunch(o, path.join(dataDir, 'server.properties')));
}

/** Stops the instance (if running) and removes its data dir. */
export function stopKafka(instance = DEFAULT_KAFKA.instance): Promise<boolean> {
  return stopService(instance);
}

export { instanceDir };
