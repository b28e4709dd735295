/**
 * Benchmark registry. A benchmark module calls `registerBenchmark` at import time; `bench/run.ts` imports every
 * module listed in `bench/index.ts`, runs them in order and regenerates BENCHMARKS.md from their results.
 * Later stages (flows, Kafka, model) add a module and one import line.
 */
export interface Measurement {
  /** Median over `runs` runs. */
  median: number;
  runs: number[];
  unit: string;
}

export interface BenchRow {
  /** What is measured, e.g. "decode L2–L4, 1,000,000 packets". */
  what: string;
  /** The figure compared with the references (same method as theirs). */
  ours: Measurement;
  /** Optional second figure for wardwatch alone (e.g. the steady-state loop without process start-up). */
  oursInner?: { label: string; measurement: Measurement };
  /** Reference tools measured on the same input in the same command, by tool name. */
  references: { tool: string; measurement: Measurement; command: string; note?: string }[];
  /** Extra facts (peak RSS, bytes, notes). */
  notes?: string[];
}

export interface BenchSection {
  title: string;
  /** Free text shown above the table: input, method, pinning, caveats. */
  description: string[];
  rows: BenchRow[];
  /** A table of its own (markdown lines) for results that are not rates against a reference (e.g. loss %). */
  table?: string[];
}

export interface Benchmark {
  name: string;
  /** Section heading in BENCHMARKS.md (`## <title>`). */
  title: string;
  run(): Promise<Omit<BenchSection, 'title'>>;
}

const registered: Benchmark[] = [];

export function registerBenchmark(b: Benchmark): void {
  registered.push(b);
}

export function benchmarks(): readonly Benchmark[] {
  return registered;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
