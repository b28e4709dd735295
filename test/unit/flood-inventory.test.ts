import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InternalFloodResult } from '../../bench/flows-bench.js';

const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('hostile input: 1 million SYNs from random internal source MACs and addresses against one device', function () {
  this.timeout(180_000);

  it('lists only the real devices, announces only them, keeps the victim in its windows, and stays bounded', () => {
    // bench/flows-bench.ts `flood-internal`, in a child process so that the RSS is the run's alone: 1 M spoofed SYNs
    // (random unicast MAC, random 10.x.y.z), each answered by the victim, beside 10 real devices (the victim, 8 clients
    // with TCP sessions to it, a DNS server), through the pipeline and the detector (no models) with default options.
    const out = execFileSync(process.execPath, [resolve(distRoot, 'bench', 'flows-bench.js'), 'flood-internal', '1000000'], { encoding: 'utf8' });
    const r = JSON.parse(out) as InternalFloodResult;
    assert.equal(r.packets, 1_000_000);
    // Inventory: the 10 real devices, the victim among them, and nothing else (before the evidence rule: 16,384).
    assert.equal(r.inventory_entries, 10);
    assert.equal(r.real_devices_listed, 10);
    // Notices: one per real device (≤ new_device_notices_max, so no summary); before: 16,384.
    assert.equal(r.new_device_notices, 10);
    assert.ok(r.alerts_file_bytes < 16 * 1024, `alerts.jsonl ${r.alerts_file_bytes} bytes`);
    // The flood itself is one incident on the victim (the behavioural flood rule), naming the rate and the segment.
    assert.deepEqual(r.detections.map((d) => [d.kind, d.device_id]), [['flood', r.victim]]);
    assert.match(r.detections[0]!.summary, /flood against the device: [\d,]+ connections accepted in one window \([\d,]+\/s\).*sources in 10\.0\.0\.0\/8/);
    assert.ok(r.inventory_file_bytes < 256 * 1024, `inventory ${r.inventory_file_bytes} bytes`);
    // The victim keeps its feature windows through the flood (the 22 s of packet time span 3 windows).
    assert.equal(r.victim_windows, 3);
    // Candidates bounded: the pool of handles without evidence (4096) and the fixed candidate table (65,536).
    const c = r.inventory_counters;
    assert.equal(r.device_handles, 10 + 4096);
    assert.equal(c['devices_unconfirmed'], 4096);
    assert.equal(c['candidates'], 65_536);
    assert.equal(c['sources_unconfirmed'], 1_000_000);
    assert.ok(r.peak_rss_mb <= 512, `peak RSS ${r.peak_rss_mb} MB`);
    const half = r.rss_mb_samples.slice(Math.floor(r.rss_mb_samples.length / 2));
    assert.ok(half[half.length - 1]! - half[0]! <= 16, `RSS grew over the second half: ${r.rss_mb_samples.join(',')}`);
  });
});
