/**
 * The capture-facing training and evaluation helpers (src/train.ts, src/evaluate.ts) and the simulator's layout_seed
 * they rely on. The end-to-end run (train a day, evaluate every attack kind) is test/eval/floors.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type SimulationLabels } from '../../src/simulate/index.js';
import { windowsInRange } from '../../src/train.js';
import { parseTime } from '../../src/cli/options.js';
import { checkFloors, readLabels, resolveLabelDevices } from '../../src/evaluate.js';
import type { InventoryEntry } from '../../src/records/device.js';
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
    assert.equal(checkFloors({ report: { false_alerts_per_device_day: 1 }, attacks: [] }).passed, true);
  });

  it('readLabels refuses a file that is neither format, naming the field that is wrong', () => {
    const f = join(dir, 'not-labels.json');
    writeFileSync(f, JSON.stringify({ attacks: [] }));
    assert.throws(() => readLabels(f), (e: unknown) => e instanceof ConfigError && e.field === '--labels');
    writeFileSync(f, JSON.stringify({ devices: [{ name: 'cam', ip: '10.0.0.5' }], attacks: [{ kind: 'scan', device: 'lock', start: 1, end: 2 }] }));
    assert.throws(() => readLabels(f), (e: unknown) => e instanceof ConfigError && e.field === '--labels.attacks.0.device' && /"lock" is not a devices\[\]\.name \(cam\)/.test(e.message));
    writeFileSync(f, JSON.stringify({ devices: [{ name: 'cam' }], attacks: [] }));
    assert.throws(() => readLabels(f), (e: unknown) => e instanceof ConfigError && e.field === '--labels.devices.0' && /mac or an ip/.test(e.message));
    writeFileSync(f, JSON.stringify({ devices: [{ name: 'cam', ip: '10.0.0.5' }], attacks: [{ kind: 'scan', device: 'cam', start: 5, end: 2 }] }));
    assert.throws(() => readLabels(f), (e: unknown) => e instanceof ConfigError && e.field === '--labels.attacks.0' && /end must not be before start/.test(e.message));
  });

  it('readLabels reads the generic format (devices by MAC or IP, attacks by device name, train_end) and keeps extra fields out', () => {
    const f = join(dir, 'generic.json');
    writeFileSync(
      f,
      JSON.stringify({
        train_end: 1000,
        end: 5000,
        devices: [{ name: 'lock', kind: 'iot', ip: '192.168.1.128', mac: '24:6F:28:D9:A7:64' }, { name: 'router', ip: '192.168.1.1' }],
        attacks: [{ kind: 'port_scan', device: 'lock', start: 2000, end: 2010, note: 'x', tool: 'nmap' }, { kind: 'sweep', ip: '192.168.1.1', start: 3000, end: 3001 }],
      }),
    );
    const l = readLabels(f);
    assert.equal(l.format, 'generic');
    assert.equal(l.train_end, 1000);
    assert.equal(l.end, 5000);
    assert.deepEqual(l.devices.map((d) => d.device_id), ['mac:24:6f:28:d9:a7:64', 'ip:192.168.1.1']);
    assert.deepEqual(l.attacks.map((a) => [a.id, a.kind, a.device_id, a.start, a.end]), [['a1', 'port_scan', 'mac:24:6f:28:d9:a7:64', 2000, 2010], ['a2', 'sweep', 'ip:192.168.1.1', 3000, 3001]]);
    assert.deepEqual(l.slack, { before_s: 10, after_s: 20 });
    assert.equal(l.device_days, 'listed');
    // The router is keyed by MAC on the segment: its IP label resolves to that device; the lock keyed behind a
    // router (by IP) resolves the other way.
    const inv = [
      { device_id: 'mac:00:1c:7f:53:d0:28', key_kind: 'mac', ips: ['192.168.1.1'] },
      { device_id: 'ip:192.168.1.128', key_kind: 'ip', ips: ['192.168.1.128'] },
    ] as InventoryEntry[];
    const r = resolveLabelDevices(l, inv);
    assert.deepEqual(r.devices.map((d) => d.device_id), ['ip:192.168.1.128', 'mac:00:1c:7f:53:d0:28']);
    assert.deepEqual(r.attacks.map((a) => a.device_id), ['ip:192.168.1.128', 'mac:00:1c:7f:53:d0:28']);
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
