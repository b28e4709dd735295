import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloodResult } from '../../bench/flows-bench.js';

const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('hostile input: 1 million spoofed-source SYN flood', function () {
  this.timeout(120_000);

  it('keeps the sensor bounded: peak RSS ≤ 1 GB and flat, flows capped, overflow counted', () => {
    // A child process so that the RSS is the pipeline's alone.
    const out = execFileSync(process.execPath, [resolve(distRoot, 'bench', 'flows-bench.js'), 'flood', '1000000'], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as FloodResult;
    assert.equal(r.distinct_sources, 1_000_000);
    assert.ok(r.peak_rss_mb <= 1024, `peak RSS ${r.peak_rss_mb} MB`);
    // Flat: no growth over the second half of the flood (allow 16 MB of allocator noise).
    assert.ok(r.rss_growth_last_half_mb <= 16, `RSS grew ${r.rss_growth_last_half_mb} MB over the second half: ${r.rss_mb_samples.join(',')}`);
    assert.equal(r.flows_active, 262_144); // the default cap
    assert.equal(r.flows_evicted, 1_000_000 - 262_144);
    assert.equal(r.devices, 1); // the victim; spoofed external sources are never devices
  });
});
