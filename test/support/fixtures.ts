/**
 * Where test inputs live. Public third-party captures are used IN PLACE from ../shared/public-captures (relative to
 * the repo root) and never copied into the repo. When that folder is missing a test skips with a message, except in
 * CI (CI=true), where it fails.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is compiled to dist/test/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const publicCapturesDir = path.resolve(repoRoot, '../shared/public-captures');

export function publicCapture(name: string): string {
  return path.join(publicCapturesDir, name);
}

/** The labelled real-device sets (../shared/dev-eval/D1, D2: `<set>.pcap` + `<set>.labels.json`), used in place. */
export const devEvalDir = path.resolve(repoRoot, '../shared/dev-eval');

/** Call in a `before` hook: skips the suite (or fails in CI) when the public captures are not there. */
export function requirePublicCaptures(ctx: Mocha.Context): void {
  requireSharedDir(ctx, publicCapturesDir, 'public captures');
}

/** Call in a `before` hook: skips the suite (or fails in CI) when the real-device sets are not there. */
export function requireDevEval(ctx: Mocha.Context): void {
  requireSharedDir(ctx, devEvalDir, 'real-device evaluation sets');
}

function requireSharedDir(ctx: Mocha.Context, dir: string, what: string): void {
  if (existsSync(dir)) return;
  const msg = `${what} folder not found at ${dir}`;
  if (process.env['CI'] === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}
