import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { macVendor, vendorRegistryForm } from '../../src/flows/oui.js';

/** Reference: the registry parsed whole, longest prefix first, first line of the entry (how the lookup is specified). */
function reference(table: Record<string, string>, mac: number): string {
  if (Math.floor(mac / 0x10000000000) % 4 !== 0) return ''; // group or locally administered
  const hex = mac.toString(16).toUpperCase().padStart(12, '0');
  const entry = table[hex.slice(0, 9)] ?? table[hex.slice(0, 7)] ?? table[hex.slice(0, 6)];
  if (entry === undefined) return '';
  return entry.split('\n')[0]!.trim();
}

describe('MAC vendor registry (oui-data)', () => {
  it('answers as the whole registry parsed with JSON.parse, for every registered prefix', function () {
    this.timeout(20_000);
    const require = createRequire(import.meta.url);
    const table = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
    const keys = Object.keys(table);
    assert.ok(keys.length > 30_000, `registry has ${keys.length} entries`);
    let named = 0;
    for (const key of keys) {
      const prefix = parseInt(key, 16);
      const shift = 2 ** (4 * (12 - key.length));
      // First and last address of the block, and one in the middle.
      for (const mac of [prefix * shift, prefix * shift + shift - 1, prefix * shift + Math.floor(shift / 3)]) {
        const want = reference(table, mac);
        assert.equal(macVendor(mac), want, `MAC ${mac.toString(16)} (key ${key})`);
        if (want !== '') named++;
      }
    }
    assert.ok(named > keys.length, 'most lookups find a vendor');
    // Unassigned, group and locally administered addresses.
    assert.equal(macVendor(0x020000000001), '');
    assert.equal(macVendor(0x010203040506), '');
    assert.equal(macVendor(-1), '');
    // The installed package's layout is the sorted one-entry-per-line form (the fast path); if a new version changes
    // it, the lookup falls back to parsing the file whole and this line says so.
    assert.equal(vendorRegistryForm(), 'searched');
  });
});
