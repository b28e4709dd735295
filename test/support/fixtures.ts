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

/** Call in a `before` hook: skips the suite (or fails in CI) when the public captures are not there. */
export function requirePublicCaptures(ctx: Mocha.Context): void {
  if (existsSync(publicCapturesDir)) return;
  const msg = `public captures folder not found at ${publicCapturesDir}`;
  if (process.env['CI'] === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}
