/**
 * Writes dashboards/*.json and dashboards/provisioning/** from src/dashboards (the committed copies are checked
 * against this output by test/unit/dashboards.test.ts). Usage: node dist/scripts/gen-dashboards.js [repo-root]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard, provisioningFiles } from '../src/dashboards/index.js';

/** Every generated file, path relative to the repo root → content. */
export function generatedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of buildDashboards()) out.set(path.join('dashboards', d.file), renderDashboard(d.dashboard));
  for (const p of provisioningFiles()) out.set(path.join('dashboards', 'provisioning', p.file), p.text);
  return out;
}

function main(): void {
  // dist/scripts/gen-dashboards.js → repo root is two levels up.
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
  for (const [rel, text] of generatedFiles()) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    process.stdout.write(`wrote ${rel}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
