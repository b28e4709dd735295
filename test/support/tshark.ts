/**
 * tshark helpers for tests. tshark is a required tool (installed by the project's test script): when it is missing
 * the calling suite is skipped with a message, except in CI (`CI=true`), where that is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';

let available: boolean | undefined;

export function tsharkAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
    available = r.status === 0;
  }
  return available;
}

/** Call from a `before` hook: skips the suite without tshark, fails in CI. */
export function requireTshark(ctx: Mocha.Context): void {
  if (tsharkAvailable()) return;
  if (process.env['CI'] === 'true') throw new Error('tshark is not installed (required in CI)');
  console.warn('    tshark not found: skipping (install the tshark package)');
  ctx.skip();
}

/** Runs tshark with the given arguments and returns stdout (stderr ignored: tshark prints a root warning there). */
export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** `-T fields` extraction: one array of columns per packet. */
export function tsharkFields(file: string, fields: string[], filter?: string, extra: string[] = []): string[][] {
  const args = ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  const out = tshark(args);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/**
 * Problems tshark reports at error level or as malformed packets, with IP/TCP/UDP checksum validation on.
 * Returns the text of the `Errors` section of `-z expert,error` (empty when there are none) and the malformed count.
 */
export function tsharkProblems(file: string, extra: string[] = []): { errors: string; malformed: number } {
  const checks = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
  const expert = tshark(['-r', file, ...checks, ...extra, '-q', '-z', 'expert,error']);
  const i = expert.indexOf('Errors (');
  const errors = i >= 0 ? expert.slice(i).trim() : '';
  const malformed = tshark(['-r', file, ...checks, ...extra, '-Y', '_ws.malformed || _ws.expert.severity == "Error"'])
    .split('\n')
    .filter((l) => l.trim().length > 0).length;
  return { errors, malformed };
}

/** One-line packet summaries (the Info column included), version-independent unlike the `_ws.col.*` field names. */
export function tsharkSummary(file: string, filter: string, extra: string[] = []): string[] {
  return tshark(['-r', file, ...extra, '-Y', filter])
    .split('\n')
    .filter((l) => l.trim().length > 0);
}
