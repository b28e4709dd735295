import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ARCHETYPES, INTRUDER_OUI, ROUTER_OUI, SERVER_OUIS } from '../../src/simulate/hospital.js';

const require = createRequire(import.meta.url);
const ouiData = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;

describe('simulate: vendor OUIs are real IEEE assignments (oui-data)', () => {
  const all = [
    ...Object.values(ARCHETYPES).flatMap((a) => a.vendors.map((v) => ({ ...v, who: a.archetype }))),
    { ...ROUTER_OUI, who: 'router' },
    ...SERVER_OUIS.map((v) => ({ ...v, who: 'server' })),
    { ...INTRUDER_OUI, who: 'intruder' },
  ];
  for (const v of all) {
    it(`${v.who}: ${v.oui} is registered to ${v.vendor}`, () => {
      const key = v.oui.replace(/:/g, '').toUpperCase();
      const org = ouiData[key];
      assert.ok(org, `${key} not in oui-data`);
      assert.equal(org.split('\n')[0], v.vendor);
    });
  }

  it('medical archetypes use medical vendors, not generic IT', () => {
    const medical = ['pump', 'monitor', 'imaging', 'telemetry', 'lab'] as const;
    for (const a of medical) {
      for (const v of ARCHETYPES[a].vendors) assert.doesNotMatch(v.vendor, /^(Dell|Lenovo|Hewlett|Cisco)/, `${a}: ${v.vendor}`);
    }
  });
});
