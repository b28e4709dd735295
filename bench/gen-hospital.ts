/**
 * Realistic benchmark input: a hospital capture made by the simulator (src/simulate) — the 200-device workload of
 * issue 4 (`BENCH_DEVICES`), a Monday from 07:00 UTC, no attacks, seed 1 — long enough to hold at least `packets`
 * frames. Deterministic (same options → same bytes); written to .cache/bench/ (git-ignored) beside the decode
 * benchmark's capture and regenerated only when missing or made for another packet count.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simulateSync } from '../src/simulate/index.js';

/** The simulator benchmark's workload (bench/simulate.ts): 200 devices of every archetype. */
export const BENCH_DEVICES = { pump: 50, monitor: 50, imaging: 10, pacs: 2, reading_ws: 10, nurse_pc: 40, telemetry: 15, lab: 8, bacnet: 15 };

/** Frames per simulated hour of the workload (measured: 142,000 in the first hour, 183,000 per hour over the first 8); hours are rounded up. */
const FRAMES_PER_HOUR_LOW = 170_000;

export function hospitalCapturePath(repoRoot: string, hours: number): string {
  return path.join(repoRoot, '.cache', 'bench', `hospital-200dev-${hours}h.pcap`);
}

export interface HospitalCapture {
  file: string;
  /** Frames in the file (≥ the requested count). */
  frames: number;
  hours: number;
}

/** Writes the capture unless it is already there for this packet count; returns its path and size. */
export function ensureHospitalCapture(repoRoot: string, packets: number): HospitalCapture {
  let hours = Math.max(1, Math.ceil(packets / FRAMES_PER_HOUR_LOW));
  for (;;) {
    const file = hospitalCapturePath(repoRoot, hours);
    const stamp = `${file}.done`;
    if (existsSync(file) && existsSync(stamp)) {
      const frames = Number(readFileSync(stamp, 'utf8'));
      if (frames >= packets) return { file, frames, hours };
      hours++;
      continue;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    const s = simulateSync({
      seed: 1,
      start: Date.parse('2026-01-05T07:00:00Z') / 1000,
      duration_s: hours * 3600,
      devices: BENCH_DEVICES,
      attacks: [],
      out: file,
      labels: `${file}.labels.json`,
    });
    writeFileSync(stamp, String(s.frames));
    if (s.frames >= packets) return { file, frames: s.frames, hours };
    hours++;
  }
}
