/**
 * The committed dashboards fit Grafana's dashboard schema as the foundation SDK types it (test/support/sdk-schema.ts):
 * no unknown field at any level, required fields present, values of the declared types and enum members. The
 * validator itself is shown to fail on each kind of mistake.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards } from '../../src/dashboards/index.js';
import { SdkSchema } from '../support/sdk-schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Json {
  [k: string]: unknown;
}

describe('dashboards fit the foundation SDK schema', function () {
  this.timeout(60_000);
  let schema: SdkSchema;
  before(() => {
    schema = new SdkSchema();
  });

  for (const { file } of buildDashboards()) {
    it(`dashboards/${file} has no unknown field and no value of the wrong type`, () => {
      const json = JSON.parse(readFileSync(path.join(root, 'dashboards', file), 'utf8')) as unknown;
      assert.deepEqual(schema.validateDashboard(json), []);
    });
  }

  it('rejects unknown fields, wrong types, bad enum values and unknown override ids at every level', () => {
    const original = JSON.parse(readFileSync(path.join(root, 'dashboards', 'soc-overview.json'), 'utf8')) as Json;
    const panels = original['panels'] as Json[];
    const ts = panels.findIndex((p) => p['type'] === 'timeseries');
    const stat = panels.findIndex((p) => p['type'] === 'stat');
    const cases: [string, (d: Json) => void, RegExp][] = [
      ['root field', (d) => (d['bogus'] = 1), /^\$\.bogus: unknown field/],
      ['enum value', (d) => (d['graphTooltip'] = 7), /^\$\.graphTooltip: 7 is not/],
      ['panel options field', (d) => (((d['panels'] as Json[])[stat]!['options'] as Json)['bogus'] = true), new RegExp(`panels\\[${stat}\\]\\.options\\.bogus: unknown field`)],
      ['panel options type', (d) => (((d['panels'] as Json[])[stat]!['options'] as Json)['colorMode'] = 'rainbow'), /options\.colorMode: "rainbow" is not/],
      [
        'custom field config',
        (d) => ((((d['panels'] as Json[])[ts]!['fieldConfig'] as Json)['defaults'] as Json)['custom'] as Json)['nope'] = 1,
        /defaults\.custom\.nope: unknown field/,
      ],
      ['override id', (d) => ((((d['panels'] as Json[])[stat]!['fieldConfig'] as Json)['overrides'] as Json[])[0]!['properties'] as Json[]).push({ id: 'custom.nope', value: 1 }), /override id "custom\.nope"/],
      ['query target field', (d) => {
          ((d['panels'] as Json[])[stat]!['targets'] as Json[])[0]!['expr'] = 'up';
        }, /targets\[0\]\.expr: unknown field/],
      ['query target type', (d) => {
          ((d['panels'] as Json[])[stat]!['targets'] as Json[])[0]!['resultFormat'] = 'csv';
        }, /targets\[0\]\.resultFormat/],
      ['required field', (d) => {
          delete d['schemaVersion'];
        }, /schemaVersion: required/],
      ['variable field', (d) => {
          ((d['templating'] as Json)['list'] as Json[])[0]!['regexp'] = 'x';
        }, /templating\.list\[0\]\.regexp: unknown field/],
      ['annotation field', (d) => {
          ((d['annotations'] as Json)['list'] as Json[])[0]!['textColumn'] = 'summary';
        }, /annotations\.list\[0\]\.textColumn: unknown field/],
    ];
    for (const [name, mutate, expected] of cases) {
      const copy = structuredClone(original);
      mutate(copy);
      const errors = schema.validateDashboard(copy);
      assert.ok(errors.some((e) => expected.test(e)), `${name}: expected an error matching ${String(expected)}, got ${JSON.stringify(errors)}`);
    }
  });
});
