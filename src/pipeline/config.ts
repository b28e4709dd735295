/**
 * Options of the analysis stage's threading (`analysis:` in the config file), with their defaults written once, here.
 * The top-level schema (src/config/schema.ts) composes this; `wardwatch sensor --threads N` overrides `threads`.
 *
 * `threads: 2` splits the sensor's work in two stages on two cores (src/pipeline/threaded.ts): capture, decoding and
 * sending to Kafka on the main thread; device identity, flows and feature windows on a worker thread, fed in order
 * with batches of decoded packets. The windows are those of one thread, in the same order (the same code sees the same
 * packets in the same order); measured speed-up in BENCHMARKS.md ("Two threads").
 */
import { z } from 'zod';

export const AnalysisThreadsOptionsSchema = z.strictObject({
  /**
   * 1: everything on one thread (default: the lowest CPU per packet). 2: the analysis on a worker thread, for a
   * sensor whose one core is not enough (the capture-loss warning says so when it drops packets).
   */
  threads: z.number().int().min(1).max(2).default(1),
  /** Decoded packets per batch handed to the worker (a partly filled batch is handed over as soon as the frame loop yields). */
  batch_packets: z.number().int().min(16).max(65_536).default(1024),
  /**
   * Batches handed over and not yet analysed before the frame loop waits (file: back-pressure; live: the capture's own
   * buffers absorb the wait). 16 × 1024 packets: ~10 ms of analysis at the worker's pace.
   */
  max_batches_in_flight: z.number().int().min(1).max(1024).default(16),
});

export type AnalysisThreadsOptions = z.infer<typeof AnalysisThreadsOptionsSchema>;

/** The defaults, as the schema gives them. */
export const DEFAULT_ANALYSIS_THREADS: AnalysisThreadsOptions = AnalysisThreadsOptionsSchema.parse({});
