/**
 * Golden feature files: each named capture in captures/golden/ (written by the simulator) replayed through
 * read → decode → flows → inventory → features, diffed against test/golden/features/<name>.features.jsonl (a
 * reviewed baseline; regenerate with `node dist/scripts/gen-golden-features.js` and review the diff). Plus checks
 * against the simulator's ground truth (<name>.labels.json): device classes, and each attack's signature in its
 * device's windows.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { FEATURE_NAMES, FEATURE_SCHEMA } from '../../src/records/features.js';
import type { FeatureName, FeatureWindow } from '../../src/records/features.js';
import { analyseFile, goldenText } from '../support/analyse-file.js';
import { repoRoot } from '../support/fixtures.js';

const capturesDir = resolve(repoRoot, 'captures', 'golden');
const goldenDir = resolve(repoRoot, 'test', 'golden', 'features');

interface Labels {
  devices: { device_id: string; device_class: string; name: string }[];
  attacks: { kind: string; device_id: string; start: number; end: number }[];
}

/** Largest value of each feature over the device's windows that overlap [start, end). */
function maxDuring(windows: readonly FeatureWindow[], deviceId: string, start: number, end: number): Record<FeatureName, number> {
  const out = Object.fromEntries(FEATURE_NAMES.map((n) => [n, 0])) as Record<FeatureName, number>;
  for (const w of windows) {
    if (w.device_id !== deviceId || w.window_end <= start || w.window_start >= end) continue;
    w.values.forEach((v, i) => {
      const n = FEATURE_SCHEMA[i]!.name;
      if (v > out[n]) out[n] = v;
    });
  }
  return out;
}

/** What each attack kind must show in its device's windows (the simulator's description of the attack). */
const SIGNATURES: Record<string, (m: Record<FeatureName, number>) => boolean> = {
  port_scan: (m) => m.new_dst_ports >= 10 && m.tcp_rejected >= 10,
  syn_flood: (m) => m.tcp_syn >= 100 && m.tcp_half_open >= 100,
  arp_spoof: (m) => m.arp_spoof_replies >= 1,
  dns_tunnel: (m) => m.dns_unique_names >= 10 && m.dns_name_len_chars >= 50 && m.dns_name_entropy_bits >= 3.5,
  brute_force_telnet: (m) => m.flows_started >= 5 || m.flows_accepted >= 5 || m.tcp_fin >= 4,
};

describe('golden feature files for the named captures', function () {
  this.timeout(120_000);
  const names = existsSync(capturesDir) ? readdirSync(capturesDir).filter((f) => f.endsWith('.pcap')).sort() : [];

  it('the named captures exist', () => {
    assert.ok(names.length >= 8, `captures/golden has ${names.length} captures`);
  });

  for (const name of names) {
    describe(name, () => {
      let windows: FeatureWindow[] = [];
      let classes = new Map<string, string>();
      before(async () => {
        const r = await analyseFile(resolve(capturesDir, name));
        windows = r.windows;
        classes = new Map(r.inventory.map((e) => [e.device_id, e.device_class]));
      });

      it('matches its golden feature file', () => {
        const golden = readFileSync(resolve(goldenDir, name.replace(/\.pcap$/, '.features.jsonl')), 'utf8');
        assert.equal(goldenText(windows), golden);
      });

      it("guesses the simulator's class for every device it saw", () => {
        const labels = JSON.parse(readFileSync(resolve(capturesDir, name.replace(/\.pcap$/, '.labels.json')), 'utf8')) as Labels;
        const wrong = labels.devices
          .filter((d) => classes.has(d.device_id) && classes.get(d.device_id) !== d.device_class)
          .map((d) => `${d.name}: ${classes.get(d.device_id)} ≠ ${d.device_class}`);
        assert.deepEqual(wrong, []);
      });

      it("shows each labelled attack's signature in the attacker's windows", () => {
        const labels = JSON.parse(readFileSync(resolve(capturesDir, name.replace(/\.pcap$/, '.labels.json')), 'utf8')) as Labels;
        for (const a of labels.attacks) {
          const sig = SIGNATURES[a.kind];
          assert.ok(sig, `no signature for ${a.kind}`);
          const m = maxDuring(windows, a.device_id, a.start, a.end);
          assert.ok(sig(m), `${a.kind} by ${a.device_id}: ${JSON.stringify(m)}`);
        }
      });
    });
  }
});
