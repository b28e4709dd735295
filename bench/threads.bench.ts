/**
 * Issue 20 item 6: the sensor's analysis on a second core (`analysis.threads: 2`, src/pipeline/threaded.ts). The
 * sensor's frame loop without the broker (bench/threads-worker.ts: read → decode → analysis → windows encoded and
 * batched with the producer's codec), on two inputs:
 *  - **dense**: the 200-device hospital capture (bench/gen-hospital.ts) restamped to 100,000 packets/s and repeated
 *    4× (its packet times continue): what a busy SPAN port gives, one feature window per ~4,000 packets;
 *  - **sparse**: the same capture with its own packet times (6 h of a quiet network read in a second): one window
 *    per ~6 packets, the worst case for the hand-back of windows.
 * Each as one thread pinned to one core, one thread free on both cores (V8's helper threads may use the second), and
 * two threads on both cores; packets ÷ wall time, and each thread's CPU (/proc/self/task). Reference: tcpdump
 * `-r FILE -w /dev/null` pinned to one core, in the same run. Medians of WW_BENCH_RUNS runs (3).
 */
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensureHospitalCapture } from './gen-hospital.js';
import { fmt, repoRoot } from './decode.bench.js';
import { registerBenchmark, type BenchRow } from './registry.js';
import { pinned, pps, timedRun } from './timing.js';

const RUNS = Number(process.env['WW_BENCH_RUNS'] ?? 3);
const DENSE_PPS = 100_000;
const DENSE_REPEAT = 4;

interface WorkerResult {
  packets: number;
  seconds: number;
  cpu_seconds: number;
  windows: number;
  waits: number;
  /** [thread name, CPU seconds], the busiest first. */
  threads_cpu: [string, number][];
}

/**
 * The capture with its records restamped at `rate` packets/s from its first packet's second, `repeat` times in a row
 * (classic pcap, µs): the same frames, as a SPAN port at that rate would give them. Cached beside the capture.
 */
function ensureDense(file: string, rate: number, repeat: number): string {
  const out = file.replace(/\.pcap$/, `-${rate / 1000}kpps-x${repeat}.pcap`);
  if (existsSync(`${out}.done`)) return out;
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const t0 = b.readUInt32LE(24);
  const fd = openSync(out, 'w');
  try {
    writeSync(fd, b.subarray(0, 24));
    let i = 0;
    for (let r = 0; r < repeat; r++) {
      for (let o = 24; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8), i++) {
        const us = Math.round((i * 1e6) / rate);
        b.writeUInt32LE(t0 + Math.floor(us / 1e6), o);
        b.writeUInt32LE(us % 1e6, o + 4);
      }
      writeSync(fd, b.subarray(24));
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(`${out}.done`, '1');
  return out;
}

function measure(file: string, threads: number, cores: string): { wall: number[]; res: WorkerResult } {
  const worker = path.join(repoRoot, 'dist', 'bench', 'threads-worker.js');
  const wall: number[] = [];
  let res: WorkerResult | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t = timedRun(['taskset', '-c', cores, process.execPath, worker, file, String(threads)], { env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    res = JSON.parse(t.stdout) as WorkerResult;
    wall.push(res.seconds);
  }
  return { wall, res: res! };
}

registerBenchmark({
  name: 'threads',
  title: 'Two threads: the analysis on a second core',
  run() {
    if (!pinned) {
      return Promise.resolve({ description: ['Needs taskset and two cores: not measured on this machine.'], rows: [] });
    }
    const hospital = ensureHospitalCapture(repoRoot, 1_000_000);
    const dense = ensureDense(hospital.file, DENSE_PPS, DENSE_REPEAT);
    const rows: BenchRow[] = [];
    const table = ['| input | one thread, one core | one thread, two cores | two threads, two cores | speed-up (two threads ÷ one thread, one core) | CPU of the two busiest threads, two threads | tcpdump -r, one core |', '|---|---|---|---|---|---|---|'];
    for (const [label, file] of [
      [`dense: ${fmt(DENSE_PPS)} packets/s × ${DENSE_REPEAT}`, dense],
      ['sparse: 6 h as recorded', hospital.file],
    ] as const) {
      const one = measure(file, 1, '1');
      const oneFree = measure(file, 1, '0,1');
      const two = measure(file, 2, '0,1');
      const n = two.res.packets;
      const tcpdump = Array.from({ length: RUNS }, () => timedRun(['taskset', '-c', '1', 'tcpdump', '-r', file, '-w', '/dev/null'], { stdoutToNull: true }));
      const p1 = pps(n, one.wall);
      const p1f = pps(n, oneFree.wall);
      const p2 = pps(n, two.wall);
      const ref = pps(n, tcpdump.map((t) => t.wall));
      const [busiest, second] = two.res.threads_cpu;
      table.push(
        `| ${label} (${fmt(n)} packets, ${fmt(two.res.windows)} windows) | ${fmt(p1.median)} | ${fmt(p1f.median)} | ${fmt(p2.median)} | ${(p2.median / p1.median).toFixed(2)}× | ${busiest?.[1].toFixed(2)} s + ${second?.[1].toFixed(2)} s (one thread: ${one.res.threads_cpu[0]?.[1].toFixed(2)} s) | ${fmt(ref.median)} |`,
      );
      rows.push({
        what: `two threads, ${label}: read → decode → analysis on a worker → windows encoded, ${fmt(n)} packets`,
        ours: p2,
        oursInner: { label: 'one thread, one core', measurement: p1 },
        references: [{ tool: 'tcpdump -r -w /dev/null (one core)', measurement: ref, command: `taskset -c 1 tcpdump -r ${path.relative(repoRoot, file)} -w /dev/null` }],
        notes: [`runs (s): one thread ${one.wall.map((s) => s.toFixed(2)).join(', ')}; two threads ${two.wall.map((s) => s.toFixed(2)).join(', ')}; the frame loop waited for the worker ${two.res.waits} times`],
      });
    }
    return Promise.resolve({
      description: [
        'The sensor\'s frame loop without the broker (`bench/threads-worker.ts`: read → decode → `analysis.threads` 1 or 2 → each window encoded and batched with the producer\'s codec; gzip and the network left out, as the broker would share these two cores), packets ÷ wall time of the loop, medians of ' +
          `${RUNS} runs; each thread's CPU from /proc/self/task. Inputs, generated into \`.cache/bench/\`: **dense** is the 200-device hospital capture restamped to ${fmt(DENSE_PPS)} packets/s and repeated ${DENSE_REPEAT}× (a busy SPAN port: a window per device per 10 s, ~4,000 packets a window); **sparse** is the same capture with its own times (6 h of a quiet network read at once: a window per ~6 packets).`,
        'Two threads pay for the hand-off (each packet written to and read from a shared ring, ~0.1 µs on each side; each window and changed inventory entry copied back to the main thread), so they win where packets dominate (dense traffic: the case where one core is not enough) and lose where windows dominate (sparse replays: keep `threads: 1` for forensic replays). Live capture is not in this table: on this 2-core machine tcpreplay needs the other core (BENCHMARKS.md "Live capture" pins it there).',
      ],
      rows,
      table,
    });
  },
});
