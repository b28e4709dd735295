/**
 * Shared plumbing for the local services the tests and the quick start run (Kafka, InfluxDB): where their files go,
 * how a detached process is started with its output in a log file, how readiness is awaited, how it is stopped.
 *
 * Layout (all git-ignored):
 *   .cache/services/<instance>/state.json   pid, ports, data dir of the running instance
 *   .cache/services/<instance>/service.log  the process' stdout+stderr
 *   $TMPDIR/wardwatch-<instance>-XXXX/      data dir, fresh for every start, removed on stop
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to dist/scripts/services/common.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CACHE_DIR = path.join(REPO_ROOT, '.cache');

export interface ServiceState {
  instance: string;
  pid: number;
  host: string;
  ports: Record<string, number>;
  data_dir: string;
  started_at: string;
}

export function instanceDir(instance: string): string {
  const dir = path.join(CACHE_DIR, 'services', instance);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function logPath(instance: string): string {
  return path.join(instanceDir(instance), 'service.log');
}

export function readState(instance: string): ServiceState | undefined {
  const file = path.join(instanceDir(instance), 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServiceState;
  } catch {
    return undefined;
  }
}

export function writeState(state: ServiceState): void {
  writeFileSync(path.join(instanceDir(state.instance), 'state.json'), JSON.stringify(state, null, 2));
}

export function clearState(instance: string): void {
  rmSync(path.join(instanceDir(instance), 'state.json'), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Last `lines` lines of a service's log, for failure messages. */
export function logTail(instance: string, lines = 40): string {
  const file = logPath(instance);
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/** Resolves true when something accepts TCP connections on host:port within `timeoutMs`. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Starts `command` detached in its own process group, stdout+stderr appended to the instance's log,
 * so that it outlives the starting process (the test run or `services up`) until `stopProcess`.
 */
export function startDetached(instance: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const fd = openSync(logPath(instance), 'a');
  try {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `ready` until it resolves true; fails when the process dies or `timeoutMs` passes, with the log's tail.
 */
export async function waitReady(
  l: Pick<ServiceLaunch, 'instance' | 'label' | 'ready' | 'ready_timeout_ms'>,
  pid: number,
): Promise<void> {
  const deadline = Date.now() + l.ready_timeout_ms;
  const tail = (): string => `Log ${logPath(l.instance)}, tail:\n${logTail(l.instance)}`;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`${l.label} exited during start-up (pid ${pid}). ${tail()}`);
    if (await l.ready()) return;
    await sleep(200);
  }
  throw new Error(`${l.label} not ready after ${l.ready_timeout_ms} ms (pid ${pid}). ${tail()}`);
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopProcess(pid: number, graceMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  signal('SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out.slice(-4000)}`));
    });
  });
}

/** True when `command` is on PATH. */
export async function onPath(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** What it takes to (re)start one service process. */
export interface ServiceLaunch {
  instance: string;
  /** For messages: "kafka broker 127.0.0.1:19092". */
  label: string;
  host: string;
  ports: Record<string, number>;
  data_dir: string;
  command: string;
  args: string[];
  ready: () => Promise<boolean>;
  ready_timeout_ms: number;
}

/** Starts the process detached, records its state, waits until ready; on failure stops it and removes its data. */
export async function launchService(l: ServiceLaunch): Promise<ServiceState> {
  const pid = startDetached(l.instance, l.command, l.args);
  const state: ServiceState = { instance: l.instance, pid, host: l.host, ports: l.ports, data_dir: l.data_dir, started_at: new Date().toISOString() };
  writeState(state);
  try {
    await waitReady(l, pid);
  } catch (err) {
    await stopService(l.instance);
    throw err;
  }
  return state;
}

/** Stops the process but keeps its data dir, as an operator's restart would (outage tests). */
export async function pauseService(instance: string): Promise<void> {
  const state = readState(instance);
  if (!state) throw new Error(`${instance} is not running`);
  await stopProcess(state.pid);
}

/** Resumes a paused instance whose launch is rebuilt from its recorded data dir (`launchFor(data_dir)`). */
export function resumeFromState(instance: string, what: string, launchFor: (dataDir: string) => Omit<ServiceLaunch, 'host' | 'ports' | 'data_dir'>): Promise<ServiceState> {
  const state = readState(instance);
  if (!state) return Promise.reject(new Error(`${what} ${instance} was never started`));
  return resumeService(launchFor(state.data_dir));
}

/** Starts a paused instance again on the same data dir. */
export async function resumeService(l: Omit<ServiceLaunch, 'host' | 'ports' | 'data_dir'>): Promise<ServiceState> {
  const state = readState(l.instance);
  if (!state) throw new Error(`${l.instance} was never started`);
  if (isAlive(state.pid)) return state;
  const pid = startDetached(l.instance, l.command, l.args);
  const next = { ...state, pid, started_at: new Date().toISOString() };
  writeState(next);
  await waitReady(l, pid);
  return next;
}

/** Stops the instance (if running) and removes its temp data dir. */
export async function stopService(instance: string): Promise<boolean> {
  const state = readState(instance);
  if (!state) return false;
  await stopProcess(state.pid);
  if (state.data_dir.includes('wardwatch-')) rmSync(state.data_dir, { recursive: true, force: true });
  clearState(instance);
  return true;
}
