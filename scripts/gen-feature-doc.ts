/** Writes docs/features.md from FEATURE_SCHEMA. Run: `npm run build && node dist/scripts/gen-feature-doc.js`. */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderFeatureDoc } from '../src/features/schema-doc.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(repoRoot, 'docs', 'features.md');
writeFileSync(out, renderFeatureDoc());
process.stdout.write(`wrote ${out}\n`);
