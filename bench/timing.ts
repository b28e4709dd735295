/**
 * How the benchmarks time a program: one process pinned to CPU 1 (when taskset exists and there are 2+ cores), under
 * bash's `time`, so that both its wall time and its CPU time are known. On a shared machine the CPU time is the fairer
 * measure of work done on one core.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { median, type Measurement } from './registry.js';

export const pinned = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && cpus().length > 1;
export const pinPrefix = pinned ? ['taskset', '-c', '1'] : [];

export interface Timed {
  /** Wall-clock seconds of the whole process. */
  wall: number;
  /** CPU seconds (user + system) of the whole process, as bash's `time` reports them. */
  cpu: number;
  stdout: string;
}

export interface TimedRunOptions {
  /** Discard the program's stdout (else it is returned). */
  stdoutToNull?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function timedRun(argv: string[], o: TimedRunOptions = {}): Timed {
  const script = 'TIMEFORMAT="@@time %3R %3U %3S"; time "$@"';
  const r = spawnSync('bash', ['-c', script, 'bench', ...pinPrefix, ...argv], {
    stdio: ['ignore', o.stdoutToNull ? 'ignore' : 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    encoding: 'utf8',
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    ...(o.env !== undefined ? { env: o.env } : {}),
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (m === null) throw new Error(`no timing from ${argv.join(' ')}: ${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), stdout: o.stdoutToNull ? '' : r.stdout };
}

/** Packets per second from the seconds of several runs: their median and the runs. */
export function pps(packets: number, seconds: number[]): Measurement {
  const runs = seconds.map((s) => packets / s);
  return { median: median(runs), runs, unit: 'packets/s' };
}
