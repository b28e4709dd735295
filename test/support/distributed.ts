/**
 * Test helpers for the distributed deployment run as real processes (`wardwatch sensor`, `wardwatch detect`): start
 * one with a config file and a /metrics port, read its metrics and /healthz, its JSON log lines and its plain
 * (`wardwatch: WW_…`) lines; signal a service instance's process (SIGSTOP/SIGCONT/SIGKILL); count the windows a
 * feature topic holds; read alerts files.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { stringify } from 'yaml';
import { isAlive, readState } from '../../scripts/services/common.js';
import type { Alert } from '../../src/records/alert.js';
import { decodeWindows, FORMAT_HEADER } from '../../src/transport/codec.js';
import { freshName } from './services.js';
import { freePort } from './veth.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until true; throws `what` (a string or a function giving it) after `ms`. */
export async function until(what: string | (() => string), ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
  return Date.now() - t0;
}

/** A `wardwatch` process of the test: `sensor` or `detect` with its own config file and /metrics port. */
export class WardwatchProcess {
  readonly child: ChildProcessByStdio<null, null, Readable>;
  stderr = '';
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly stage: 'sensor' | 'detector',
    readonly port: number,
    args: string[],
    logLevel: string,
  ) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: logLevel } });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) =>
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        r(code);
      }),
    );
  }

  /** Writes `config` (with `service.metrics_listen` on a free port) to `dir/<name>.yaml` and starts the command. */
  static async start(dir: string, name: string, command: 'sensor' | 'detect', config: Record<string, unknown>, extraArgs: string[] = [], logLevel = 'info'): Promise<WardwatchProcess> {
    const port = await freePort();
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ ...config, service: { metrics_listen: `127.0.0.1:${port}` } }));
    return new WardwatchProcess(name, command === 'sensor' ? 'sensor' : 'detector', port, [command, '-c', file, ...extraArgs], logLevel);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The process' metrics by name (counters without `_total`), unlabelled series only; {} when it does not answer. */
  async metrics(): Promise<Record<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.text().catch(() => undefined);
    const out: Record<string, number> = {};
    const re = new RegExp(`^wardwatch_${this.stage}_(\\w+?)(?:_total)? (\\S+)$`, 'gm');
    for (const m of (text ?? '').matchAll(re)) out[m[1]!] = Number(m[2]);
    return out;
  }

  /** /healthz: its status (0 when it does not answer) and body. */
  async health(): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    return { status: res?.status ?? 0, body: (await res?.text().catch(() => '')) ?? '' };
  }

  /** The JSON log lines (pino). */
  logs(): Record<string, unknown>[] {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Log lines whose message is `msg` (or matches it). */
  logged(msg: string | RegExp): Record<string, unknown>[] {
    return this.logs().filter((l) => (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg']))));
  }

  /** Lines that are not JSON: the one `wardwatch: WW_…` line of a process that failed. */
  plainLines(): string[] {
    return this.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  }

  tail(n = 3000): string {
    return `--- ${this.name} stderr tail ---\n${this.stderr.slice(-n)}`;
  }

  /** SIGTERM, then the exit code (SIGKILL and -1 after `ms`). */
  async stop(ms = 30_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill('SIGTERM');
    const code = await Promise.race([this.exited, sleep(ms).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      return -1;
    }
    return code;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** Sends `signal` to a service instance's process (scripts/services state), e.g. SIGSTOP/SIGCONT/SIGKILL to a broker. */
export async function signalService(instance: string, signal: NodeJS.Signals): Promise<void> {
  const state = readState(instance);
  if (!state) throw new Error(`${instance} is not running`);
  process.kill(state.pid, signal);
  if (signal === 'SIGKILL') await until(`${instance} (pid ${state.pid}) gone after SIGKILL`, 10_000, () => !isAlive(state.pid));
}

/** Windows a feature topic holds (every message decoded), and how many distinct (sensor, device, window start) they are. */
export async function topicWindows(kafka: Kafka, topic: string): Promise<{ windows: number; distinct: number; messages: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const messages = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: freshName('ww-count'), allowAutoTopicCreation: false });
  const keys = new Set<string>();
  let windows = 0;
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${seen} of ${messages} messages of ${topic} read`)), 60_000);
      if (messages === 0) {
        clearTimeout(t);
        resolve();
      }
      void consumer.run({
        eachMessage: ({ message }) => {
          const h = message.headers?.[FORMAT_HEADER];
          for (const w of decodeWindows(message.value, (Array.isArray(h) ? h[0] : h)?.toString())) {
            windows++;
            keys.add(`${w.sensor_id}|${w.device_id}|${w.window_start}`);
          }
          if (++seen >= messages) {
            clearTimeout(t);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return { windows, distinct: keys.size, messages };
}

export function readAlerts(file: string): Alert[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Alert);
}

/**
 * The alerts of several detectors' files, de-duplicated as the sinks do (`alert_id` and `ts`: a redelivered alert),
 * and the number of duplicates removed (a partition that moved: its new owner wrote an alert the old one had written).
 */
export function mergedAlerts(files: string[]): { records: string[]; duplicates: number } {
  const byKey = new Map<string, string>();
  let total = 0;
  for (const f of files) {
    for (const a of readAlerts(f)) {
      total++;
      byKey.set(`${a.alert_id}@${a.ts}`, JSON.stringify(a));
    }
  }
  return { records: [...byKey.values()].sort(), duplicates: total - byKey.size };
}
