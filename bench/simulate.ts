#!/usr/bin/env node
/**
 * Simulator throughput: a 24-hour capture of 200 devices (the benchmark workload of issue 4), written to a temporary
 * directory and deleted afterwards.
 *
 *   node dist/bench/simulate.js [--hours 24] [--keep DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../src/simulate/index.js';

import { BENCH_DEVICES } from './gen-hospital.js';

export { BENCH_DEVICES };

async function main(): Promise<void> {
  const hi = process.argv.indexOf('--hours');
  const hours = hi > 0 ? Number(process.argv[hi + 1]) : 24;
  const ki = process.argv.indexOf('--keep');
  const dir = ki > 0 ? (process.argv[ki + 1] ?? '.') : mkdtempSync(join(tmpdir(), 'ww-simbench-'));
  try {
    const s = await simulate({
      seed: 1,
      start: Date.parse('2026-01-05T00:00:00Z') / 1000,
      duration_s: hours * 3600,
      devices: BENCH_DEVICES,
      attacks: [],
      out: join(dir, 'bench.pcap'),
    });
    const secs = s.elapsed_ms / 1000;
    const rssMb = process.memoryUsage().rss / 1048576;
    process.stdout.write(
      `${hours} h, ${Object.values(BENCH_DEVICES).reduce((a, b) => a + b, 0)} devices: ${s.frames} frames, ` +
        `${(s.bytes / 1048576).toFixed(0)} MiB in ${secs.toFixed(1)} s ` +
        `(${Math.round(s.frames / secs)} frames/s, ${(s.bytes / 1048576 / secs).toFixed(1)} MiB/s), ` +
        `max ${s.max_pending_frames} frames pending, ${s.clamped_frames} clamped, RSS ${rssMb.toFixed(0)} MiB\n`,
    );
  } finally {
    if (ki < 0) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
