/**
 * Regenerates the golden feature files test/golden/features/<capture>.features.jsonl from captures/golden/*.pcap.
 * Run after `npm run build`: `node dist/scripts/gen-golden-features.js`. Review the diff before committing: a golden
 * file is a reviewed baseline (as Zeek's btest baselines), not something to refresh blindly.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyseFile, goldenText } from '../test/support/analyse-file.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const inDir = resolve(repoRoot, 'captures', 'golden');
const outDir = resolve(repoRoot, 'test', 'golden', 'features');
mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(inDir).filter((x) => x.endsWith('.pcap')).sort()) {
  const r = await analyseFile(resolve(inDir, f));
  const out = resolve(outDir, f.replace(/\.pcap$/, '.features.jsonl'));
  writeFileSync(out, goldenText(r.windows));
  process.stdout.write(`${f}: ${r.packets} packets, ${r.windows.length} windows → ${out.slice(repoRoot.length + 1)}\n`);
}
