/**
 * The capture-facing training and evaluation helpers (src/train.ts, src/evaluate.ts) and the simulator's layout_seed
 * they rely on. The end-to-end run (train a day, evaluate every attack kind) is test/eval/floors.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type SimulationLabels } from '../../src/simulate/index.js';
import { parseTime, windowsInRange } from '../../src/train.js';
import { checkFloors, readLabels } from '../../src/evaluate.js';
import { ConfigError } from '../../src/errors.js';
import type { FeatureWindow } from '../../src/records/features.js';
import type { EvaluationReport } from '../../src/detect/index.js';

describe('train/evaluate wiring helpers', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-train-eval-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parseTime takes ISO-8601 and epoch seconds, and rejects the rest naming the option', () => {
    assert.equal(parseTime('2026-01-05T09:00:00Z', '--from'), 1767603600);
    assert.equal(parseTime('1767603600.5', '--from'), 1767603600.5);
    assert.throws(() => parseTime('yesterday', '--to'), (e: unknown) => e instanceof ConfigError && e.field === '--to');
  });

  it('windowsInRange keeps windows wholly inside [from, to]', () => {
    const w = (start: number) => ({ window_start: start, window_end: start + 10 }) as FeatureWindow;
    const kept = windowsInRange([w(0), w(10), w(20), w(25), w(30)], 10, 35);
    assert.deepEqual(kept.map((x) => x.window_start), [10, 20, 25]);
  });

  it('checkFloors names each failure: missed, late, too many false alerts', () => {
    const report = { false_alerts_per_device_day: 2.5 } as EvaluationReport;
    const r = checkFloors({
      report,
      attacks: [
        { id: 'a1', kind: 'port_scan', device_id: 'mac:x', detected: true, delay_windows: 2 },
        { id: 'a2', kind: 'slow_scan', device_id: 'mac:y', detected: true, delay_windows: 4 },
        { id: 'a3', kind: 'c2_beacon', device_id: 'mac:z', detected: false, delay_windows: null },
      ],
    });
    assert.equal(r.passed, false);
    assert.deepEqual(r.failures.map((f) => f.split(':')[0]), ['a2 slow_scan on mac', 'a3 c2_beacon on mac', '2.50 false alerts per device-day on benign traffic (floor 1)']);
    assert.equal(checkFloors({ report: { false_alerts_per_device_day: 1 } as EvaluationReport, attacks: [] }).passed, true);
  });

  it('readLabels refuses a file that is not simulator labels', () => {
    const f = join(dir, 'not-labels.json');
    writeFileSync(f, JSON.stringify({ attacks: [] }));
    assert.throws(() => readLabels(f), (e: unknown) => e instanceof ConfigError && e.field === '--labels');
  });

  it('simulator layout_seed: same devices (MACs, vendors) with another traffic seed; without it the labels carry none', async () => {
    const common = { start: 1767596400, duration_s: 300, devices: { pump: 2, monitor: 1, telemetry: 1, bacnet: 1 }, attacks: [] };
    const a = await simulate({ ...common, seed: 11, layout_seed: 500, out: join(dir, 'a.pcap') });
    const b = await simulate({ ...common, seed: 12, layout_seed: 500, out: join(dir, 'b.pcap') });
    const c = await simulate({ ...common, seed: 500, out: join(dir, 'c.pcap') });
    const la = JSON.parse(readFileSync(a.labels, 'utf8')) as SimulationLabels;
    const lb = JSON.parse(readFileSync(b.labels, 'utf8')) as SimulationLabels;
    const lc = JSON.parse(readFileSync(c.labels, 'utf8')) as SimulationLabels;
    assert.deepEqual(la.devices, lb.devices);
    assert.equal(la.layout_seed, 500);
    assert.equal(lc.layout_seed, undefined);
    assert.notDeepEqual(readFileSync(join(dir, 'a.pcap')), readFileSync(join(dir, 'b.pcap')));
    // The MACs come from the layout's stream alone: layout_seed 500 gives the MACs that seed 500 gives without it.
    assert.deepEqual(la.devices.map((d) => d.mac), lc.devices.map((d) => d.mac));
  });
});
