/**
 * Dashboards as code: the committed dashboards/*.json and provisioning files are exactly what src/dashboards
 * generates (run `node dist/scripts/gen-dashboards.js` after a change), and every query is built from the sink's
 * measurement names.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generatedFiles } from '../../scripts/gen-dashboards.js';
import { buildDashboards, INFLUX_DATASOURCE_UID, MEASUREMENT } from '../../src/dashboards/index.js';
import { REPLAY_RETENTION_POLICY } from '../../src/sinks/influx/points.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('dashboards as code', () => {
  it('committed dashboards/ files equal what the generator writes (run `node dist/scripts/gen-dashboards.js`)', () => {
    const files = generatedFiles();
    assert.ok(files.size >= 5);
    for (const [rel, text] of files) {
      const file = path.join(root, rel);
      assert.ok(existsSync(file), `${rel} is missing: run node dist/scripts/gen-dashboards.js`);
      const committed = readFileSync(file, 'utf8');
      if (committed !== text) {
        const a = committed.split('\n');
        const b = text.split('\n');
        const line = a.findIndex((l, i) => l !== b[i]);
        assert.fail(`${rel} is stale (first difference at line ${line + 1}: committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])}): run node dist/scripts/gen-dashboards.js`);
      }
    }
    // No stray dashboard JSON that the code no longer generates.
    const committed = readdirSync(path.join(root, 'dashboards')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(committed.sort(), [...files.keys()].filter((k) => k.endsWith('.json')).map((k) => path.basename(k)).sort());
  });

  it('generation is deterministic', () => {
    assert.deepEqual([...generatedFiles()], [...generatedFiles()]);
  });

  it('the provisioned datasource has the uid every panel, variable and annotation references', () => {
    const ds = parse(generatedFiles().get(path.join('dashboards', 'provisioning', 'datasources', 'wardwatch-influxdb.yaml'))!) as {
      datasources: { uid: string; type: string; jsonData: { version: string; dbName: string } }[];
    };
    assert.equal(ds.datasources[0]?.uid, INFLUX_DATASOURCE_UID);
    assert.equal(ds.datasources[0]?.type, 'influxdb');
    assert.equal(ds.datasources[0]?.jsonData.version, 'InfluxQL');
    const uids = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        const d = o['datasource'] as { uid?: string } | undefined;
        if (d?.uid) uids.add(d.uid);
        Object.values(o).forEach(walk);
      }
    };
    for (const d of buildDashboards()) walk(JSON.parse(JSON.stringify(d.dashboard)));
    assert.deepEqual([...uids], [INFLUX_DATASOURCE_UID]);
  });

  it('every query reads one of the sink measurements', () => {
    const names = new Set<string>(Object.values(MEASUREMENT));
    for (const d of buildDashboards()) {
      const text = JSON.stringify(d.dashboard);
      // FROM "measurement" (the default retention policy: live data) or FROM "wardwatch_replay"."measurement" (the
      // replays' policy): the forensic replay view reads the replays' policy only, the others never do.
      const froms = [...text.matchAll(/FROM (?:\\"([a-z_]+)\\"\.)?\\"([a-z_]+)\\"/g)].map((m) => ({ rp: m[1], m: m[2]! }));
      assert.ok(froms.length > 10, d.file);
      for (const { m } of froms) assert.ok(names.has(m), `${d.file}: FROM "${m}" is not a sink measurement`);
      const policies = new Set(froms.map((f) => f.rp ?? 'default'));
      assert.deepEqual([...policies], [d.file === 'forensic-replay.json' ? REPLAY_RETENTION_POLICY : 'default'], d.file);
    }
  });
});
