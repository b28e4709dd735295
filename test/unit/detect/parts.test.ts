import assert from 'node:assert/strict';
import { parseDetectConfig } from '../../../src/detect/config.js';
import { describeFeature, FEATURE_PHRASES, topContributions } from '../../../src/detect/explain.js';
import { alertId, KOfN } from '../../../src/detect/incident.js';
import { RobustScaler, quantileSorted } from '../../../src/detect/scaler.js';
import { severityFor } from '../../../src/detect/severity.js';
import { fitThreshold, MIN_THRESHOLD } from '../../../src/detect/threshold.js';
import { ConfigError } from '../../../src/errors.js';
import { FEATURE_NAMES, FEATURE_SCHEMA, type FeatureSpec } from '../../../src/records/index.js';

const spec = (name: string): FeatureSpec => {
  const s = FEATURE_SCHEMA.find((f) => f.name === name);
  assert.ok(s, name);
  return s;
};

describe('detect: scaler', () => {
  it('log1p + median/IQR per feature, floor on the scale, inverse gives back the unit', () => {
    // column 0: 0..100 (log1p spread), column 1: constant 5 (IQR 0 → min_scale)
    const rows = Array.from({ length: 101 }, (_, i) => [i, 5]);
    const s = RobustScaler.fit(rows, { min_scale: 0.05, clip: 20 });
    assert.equal(s.state.median[0], Math.log1p(50));
    assert.equal(s.state.scale[0], (Math.log1p(75) - Math.log1p(25)) / 1.349);
    assert.equal(s.state.scale[1], 0.05);
    const z = s.transform([[50, 5], [0, 6]]);
    assert.ok(Math.abs(z[0] as number) < 1e-6);
    assert.ok(Math.abs(z[1] as number) < 1e-6);
    assert.ok(Math.abs((z[3] as number) - (Math.log1p(6) - Math.log1p(5)) / 0.05) < 1e-4);
    assert.ok(Math.abs(s.inverse(0, z[2] as number) - 0) < 1e-3);
    assert.ok(Math.abs(s.inverse(1, z[3] as number) - 6) < 1e-3);
  });

  it('clips extreme values only for training rows (never when scoring) and treats negatives as 0', () => {
    const s = RobustScaler.fit([[0], [1], [2], [3]], { min_scale: 0.05, clip: 3 });
    const train = s.transform([[1e9], [-5]], true);
    assert.equal(train[0], 3);
    assert.equal(train[1], s.transform([[0]])[0]);
    // Scoring: a value 1e9 is as far out as it is — nothing caps how anomalous a window can look.
    const scored = s.transform([[1e9], [1e12]]);
    assert.ok((scored[0] as number) > 3 && (scored[1] as number) > (scored[0] as number));
  });

  it('quantile interpolates linearly', () => {
    assert.equal(quantileSorted([0, 10], 0.25), 2.5);
    assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
  });
});

describe('detect: threshold rules', () => {
  it('quantile × margin', () => {
    const errs = Array.from({ length: 101 }, (_, i) => i / 100); // 0.00 .. 1.00
    const t = fitThreshold(errs, { rule: 'quantile', quantile: 0.9, margin: 2 });
    assert.ok(Math.abs(t.value - 1.8) < 1e-12);
    assert.equal(t.heldout_windows, 101);
    assert.equal(t.heldout_error.max, 1);
  });

  it('log-normal fit: exp(mean + z·sd) of ln(error)', () => {
    const errs = [Math.E ** -1, Math.E ** 1]; // ln: -1, 1 → mean 0, sample sd √2
    const t = fitThreshold(errs, { rule: 'lognormal', z: 2 });
    assert.ok(Math.abs(t.value - Math.exp(2 * Math.SQRT2)) < 1e-9);
  });

  it('never below the floor', () => {
    assert.equal(fitThreshold([0, 0, 0], { rule: 'quantile', quantile: 0.99, margin: 1.5 }).value, MIN_THRESHOLD);
  });
});

describe('detect: K-of-N', () => {
  it('a single over-threshold window does not fire with K=2, two in three do', () => {
    const k = new KOfN(2, 3);
    assert.equal(k.push(0, true).firing, false);
    assert.equal(k.push(10, false).firing, false);
    assert.equal(k.push(20, false).firing, false);
    assert.equal(k.push(30, true).firing, false);
    const s = k.push(40, true);
    assert.equal(s.firing, true);
    assert.equal(s.opened, true);
    assert.equal(s.since, 30);
    assert.equal(s.over, 2);
    const s2 = k.push(50, true);
    assert.equal(s2.opened, false);
    assert.equal(s2.since, 30);
    assert.equal(k.push(60, false).firing, true); // 2 of last 3
    assert.equal(k.push(70, false).firing, false);
    assert.equal(k.open, false);
  });

  it('alert ids are stable per device, kind and incident start', () => {
    assert.equal(alertId('mac:00:11:22:33:44:55', 'anomaly', 100), alertId('mac:00:11:22:33:44:55', 'anomaly', 100));
    assert.notEqual(alertId('mac:00:11:22:33:44:55', 'anomaly', 100), alertId('mac:00:11:22:33:44:55', 'anomaly', 110));
    assert.notEqual(alertId('mac:00:11:22:33:44:55', 'anomaly', 100), alertId('mac:00:11:22:33:44:55', 'new_device', 100));
    assert.match(alertId('x', 'anomaly', 1), /^[0-9a-f]{32}$/);
  });
});

describe('detect: severity', () => {
  it('score bands shifted by criticality', () => {
    assert.equal(severityFor(1.5, 'medium'), 'low');
    assert.equal(severityFor(3, 'medium'), 'medium');
    assert.equal(severityFor(10, 'medium'), 'high');
    assert.equal(severityFor(50, 'medium'), 'critical');
    assert.equal(severityFor(1.5, 'life_critical'), 'medium');
    assert.equal(severityFor(10, 'life_critical'), 'critical');
    assert.equal(severityFor(10, 'low'), 'medium');
    assert.equal(severityFor(1.5, 'low'), 'low');
    assert.equal(severityFor(3, 'high'), 'high');
  });
});

describe('detect: explanations', () => {
  it('has words for every feature of the schema', () => {
    for (const n of FEATURE_NAMES) assert.ok(FEATURE_PHRASES[n], `no phrase for ${n}`);
  });

  it('counts say the bound, measures say ≈ in their unit', () => {
    assert.equal(describeFeature(spec('new_dst_ports'), 12, 0.3), '12 new destination ports; expected ≤ 1');
    assert.equal(describeFeature(spec('new_peers'), 1, 0.001), '1 new peer; expected ≤ 0');
    assert.equal(describeFeature(spec('tcp_synack_in'), 0, 6.7), '0 TCP SYN-ACKs received; expected ≥ 6');
    assert.equal(describeFeature(spec('dns_name_entropy_bits'), 4.62, 2.81), 'DNS name entropy 4.6 bits/char; expected ≈ 2.8 bits/char');
    assert.equal(describeFeature(spec('bytes_out'), 4_200_000, 120_000), 'bytes sent 4.2 MB; expected ≈ 120 kB');
    assert.equal(describeFeature(spec('frac_tcp'), 0.12, 0.951), 'TCP share of packets 12 %; expected ≈ 95 %');
  });

  it('top contributions: largest share first, shares of the squared error, negligible ones dropped', () => {
    const d = FEATURE_NAMES.length;
    const sq = new Array<number>(d).fill(0.001);
    const iPorts = FEATURE_NAMES.indexOf('new_dst_ports');
    const iSyn = FEATURE_NAMES.indexOf('tcp_syn');
    sq[iPorts] = 6;
    sq[iSyn] = 2;
    const observed = new Array<number>(d).fill(0);
    observed[iPorts] = 12;
    observed[iSyn] = 40;
    const expected = new Array<number>(d).fill(0);
    expected[iSyn] = 3;
    const deviation = new Array<number>(d).fill(0.5);
    deviation[iPorts] = 40;
    deviation[iSyn] = 3;
    const top = topContributions(sq, observed, expected, deviation);
    assert.deepEqual(top.map((c) => c.feature), ['new_dst_ports', 'tcp_syn']);
    const total = 8 + 0.001 * (d - 2);
    assert.ok(Math.abs((top[0]?.share ?? 0) - 6 / total) < 1e-3);
    assert.equal(top[0]?.text, '12 new destination ports; expected ≤ 0');
    assert.equal(top[1]?.text, '40 TCP SYNs sent; expected ≤ 3');
  });

  it('features whose observed value is usual are not blamed while an unusual one explains enough', () => {
    const d = FEATURE_NAMES.length;
    const iDns = FEATURE_NAMES.indexOf('dns_queries');
    const iPorts = FEATURE_NAMES.indexOf('dst_ports');
    const sq = new Array<number>(d).fill(0);
    sq[iPorts] = 9; // collateral: mis-reconstructed, but its observed value is ordinary
    sq[iDns] = 4;
    const deviation = new Array<number>(d).fill(0);
    deviation[iDns] = 30;
    deviation[iPorts] = 0.4;
    const top = topContributions(sq, new Array<number>(d).fill(1), new Array<number>(d).fill(1), deviation);
    assert.deepEqual(top.map((c) => c.feature), ['dns_queries']);
    assert.ok(Math.abs((top[0]?.share ?? 0) - 4 / 13) < 1e-3);
    // No unusual feature at all: fall back to the squared error ranking.
    deviation[iDns] = 0.1;
    assert.deepEqual(topContributions(sq, new Array<number>(d).fill(1), new Array<number>(d).fill(1), deviation).map((c) => c.feature), ['dst_ports', 'dns_queries']);
  });
});

describe('detect: config', () => {
  it('fills defaults and accepts partial nested options', () => {
    const c = parseDetectConfig({ training: { max_epochs: 5 } });
    assert.equal(c.training.max_epochs, 5);
    assert.equal(c.training.batch_size, 512);
    assert.equal(c.threshold.rule, 'quantile');
    assert.equal(c.alert_k, 2);
    assert.equal(c.models_dir, 'out/models');
  });

  it('rejects unknown keys and conflicting options, naming the field', () => {
    assert.throws(() => parseDetectConfig({ modelsdir: 'x' }), (e: unknown) => e instanceof ConfigError && e.field === 'detect');
    assert.throws(() => parseDetectConfig({ alert_k: 4, alert_n: 3 }), (e: unknown) => e instanceof ConfigError && e.field === 'detect.alert_k' && /alert_n/.test(e.message));
    assert.throws(() => parseDetectConfig({ threshold: { rule: 'quantile', quantile: 2 } }), (e: unknown) => e instanceof ConfigError && e.field === 'detect.threshold.quantile');
  });
});

describe('detect: training plan', () => {
  it('device models for devices with enough windows, class models over all devices of a class', async () => {
    const { planTraining } = await import('../../../src/detect/trainer.js');
    const { benignWindows } = await import('../../support/synthetic-windows.js');
    const windows = [
      ...benignWindows({ device_id: 'mac:a', count: 30, seed: 1 }),
      ...benignWindows({ device_id: 'mac:b', count: 8, seed: 2 }),
      ...benignWindows({ device_id: 'mac:c', count: 8, seed: 3 }),
      ...benignWindows({ device_id: 'mac:d', count: 5, seed: 4 }),
    ];
    const classes: Record<string, 'infusion_pump' | 'imaging'> = { 'mac:a': 'infusion_pump', 'mac:b': 'infusion_pump', 'mac:c': 'imaging' };
    const quietOff = { learning_min_span_s: 0, quiet_device_min_windows: 100 };
    const jobs = planTraining(windows, (id) => classes[id], { device_model_min_windows: 20, class_model_min_windows: 10, ...quietOff });
    assert.deepEqual(
      jobs.map((j) => [j.scope.kind, j.scope.id, j.windows.length]),
      [
        ['device', 'mac:a', 30],
        ['class', 'infusion_pump', 38],
      ],
    );
    // imaging (8) and unknown (mac:d, 5) are below class_model_min_windows: no class model yet.
    // A lower class_model_min_windows gives the lone imaging device a class model; still no device model for mac:b.
    const lone = planTraining(windows, (id) => classes[id], { device_model_min_windows: 20, class_model_min_windows: 8, ...quietOff });
    assert.deepEqual(
      lone.map((j) => [j.scope.kind, j.scope.id, j.windows.length]),
      [
        ['device', 'mac:a', 30],
        ['class', 'imaging', 8],
        ['class', 'infusion_pump', 38],
      ],
    );
  });

  it('learning also ends by observed time: a quiet device seen across the span gets its own model; uncovered devices get the population model', async () => {
    const { planTraining } = await import('../../../src/detect/trainer.js');
    const { benignWindows } = await import('../../support/synthetic-windows.js');
    // A quiet camera: 40 windows spread over two days (one every ~72 min); a busy pump; a router alone in its class.
    const quiet = benignWindows({ device_id: 'mac:cam', count: 40, seed: 5 }).map((w, i) => ({ ...w, window_start: w.window_start + i * 4320, window_end: w.window_end + i * 4320 }));
    const windows = [...quiet, ...benignWindows({ device_id: 'mac:pump', count: 300, seed: 6 }), ...benignWindows({ device_id: 'mac:rtr', count: 12, seed: 7 })];
    const classes: Record<string, 'infusion_pump' | 'workstation' | 'network'> = { 'mac:cam': 'workstation', 'mac:pump': 'infusion_pump', 'mac:rtr': 'network' };
    const cfg = { device_model_min_windows: 2160, class_model_min_windows: 90, learning_min_span_s: 86_400, quiet_device_min_windows: 30 };
    const jobs = planTraining(windows, (id) => classes[id], cfg);
    assert.deepEqual(
      jobs.map((j) => [j.scope.kind, j.scope.id, j.windows.length, j.min_windows]),
      [
        ['device', 'mac:cam', 40, 30],
        ['class', 'infusion_pump', 300, undefined],
        ['population', 'all', 352, 30],
      ],
    );
    // The same 40 windows within one hour are not a quiet device seen across days: no model of its own.
    const busy = planTraining(benignWindows({ device_id: 'mac:cam', count: 40, seed: 5 }), (id) => classes[id], cfg);
    assert.deepEqual(busy.map((j) => [j.scope.kind, j.scope.id]), [['population', 'all']]);
  });
});
