/**
 * Options of the analysis stage's threading (`analysis:` in the config file), with their defaults written once, here.
 * The top-level schema (src/config/schema.ts) composes this; `wardwatch sensor --threads N` overrides `threads`.
 *
 * `threads: 2` splits the sensor's work in two stages on two cores (src/pipeline/threaded.ts): capture, decoding and
 * sending to Kafka on the main thread; device identity, flows and feature windows on a worker thread, fed in order
 * through a ring of decoded packets in shared memory. The windows are those of one thread, in the same order (the same code sees the same
 * packets in the same order); measured speed-up in BENCHMARKS.md ("Two threads").
 */
import { z } from 'zod';

export const AnalysisThreadsOptionsSchema = z.strictObject({
  /**
   * 1: everything on one thread (default: the lowest CPU per packet). 2: the analysis on a worker thread, for a
   * sensor whose one core is not enough (the capture-loss warning says so when it drops packets).
   */
  threads: z.number().int().min(1).max(2).default(1),
  /**
   * Decoded packets the shared ring between the two threads holds (a power of two): when it is full the frame loop
   * waits for the worker (a file pauses reading; a live capture fills its own pool). 16,384 records of 344 bytes:
   * 5.6 MB, ~10 ms of analysis.
   */
  ring_packets: z
    .number()
    .int()
    .min(128)
    .max(1 << 22)
    .refine((n) => (n & (n - 1)) === 0, 'a power of two')
    .default(16_384),
});

export type AnalysisThreadsOptions = z.infer<typeof AnalysisThreadsOptionsSchema>;

/** The defaults, as the schema gives them. */
export const DEFAULT_ANALYSIS_THREADS: AnalysisThreadsOptions = AnalysisThreadsOptionsSchema.parse({});
