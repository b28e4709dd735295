/**
 * The detector against fresh traffic: models trained on one simulated day of a hospital, evaluated on a capture of the
 * SAME hospital (same `layout_seed`: devices, MACs, device configuration) with a traffic seed that no capture used to
 * choose settings had (test/eval/scenario.ts: settings were chosen on tuning seeds 7201–7208 with bench/model-tune.ts,
 * which refuses this seed), holding one attack of each of the 12 original kinds and two identity spoofs (issue 23).
 * Issue 7's floors, always on: every labelled attack detected within 3 windows, ≤ 1 false alert per device-day (wall
 * clock; src/detect/evaluate.ts) on the benign part. Measured numbers: src/detect/README.md, "Evaluation on simulator captures".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDetectConfig } from '../../src/detect/index.js';
import { trainFromCapture, type TrainFromCaptureResult } from '../../src/train.js';
import { evaluateCapture, formatEvaluation, readLabels, type CaptureEvaluation } from '../../src/evaluate.js';
import { ATTACKS, HELD_OUT_SEED, MEASURE_FROM, SLOW_HELD_OUT_SEED, SLOW_MEASURE_FROM, simulateEvaluation, simulateSlowEvaluation, simulateSlowTrainingDay, simulateTrainingDay } from './scenario.js';

describe('detect: evaluation floors on a fresh-seed simulator capture', function () {
  this.timeout(300_000);
  let dir: string;
  let trained: TrainFromCaptureResult;
  let evaluation: CaptureEvaluation;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-floors-'));
    const t0 = Date.now();
    await simulateTrainingDay(join(dir, 'train.pcap'));
    const config = parseDetectConfig({ models_dir: join(dir, 'models') });
    trained = await trainFromCapture(join(dir, 'train.pcap'), config);
    await simulateEvaluation(join(dir, 'eval.pcap'), HELD_OUT_SEED);
    const labels = readLabels(join(dir, 'eval.labels.json'));
    // Steady state: the first hour (every device booting at once, as the simulator starts) is replayed, not measured.
    evaluation = await evaluateCapture(join(dir, 'eval.pcap'), labels, config, { from: MEASURE_FROM });
    process.stdout.write(`      (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatEvaluation(evaluation, new Map(labels.devices.map((d) => [d.device_id, d.name]))).replace(/^/gm, '      ')}`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains every model from the day and scores every attacked device', () => {
    assert.ok(trained.models.length >= 10 && trained.models.every((m) => m.model), JSON.stringify(trained.models.map((m) => m.model ?? m.error)));
    assert.deepEqual(evaluation.unscored_attacks, []);
    assert.equal(Object.keys(evaluation.report.per_kind).length, new Set(ATTACKS.map(([kind]) => kind)).size);
    assert.equal(evaluation.attacks.length, ATTACKS.length);
    assert.ok(evaluation.report.overall.roc_auc > 0.75, `overall AUC ${evaluation.report.overall.roc_auc}`);
    // The benign part is a real sample: > 2 device-days of wall-clock monitoring, > 0.5 of windows with traffic.
    assert.ok(evaluation.report.benign_device_days > 2, `benign device-days ${evaluation.report.benign_device_days}`);
    assert.ok(evaluation.report.benign_active_device_days > 0.5, `active benign device-days ${evaluation.report.benign_active_device_days}`);
  });

  it('meets the floors: every attack detected within 3 windows, ≤ 1 false alert per device-day', () => {
    for (const a of evaluation.attacks) assert.ok(a.detected && (a.delay_windows ?? 99) <= 3, `${a.id} ${a.kind}: ${a.detected ? `after ${a.delay_windows} windows` : 'not detected'}`);
    assert.ok(evaluation.report.false_alerts_per_device_day <= 1, `false alerts per device-day ${evaluation.report.false_alerts_per_device_day}`);
    assert.deepEqual(evaluation.floors.failures, []);
  });
});

describe('detect: evaluation floors on the slow-attack simulator scenario (held-out seed)', function () {
  // test/eval/scenario.ts "slow": the same hospital with three quiet devices (traffic in ≤ 5 % of windows); beacons
  // every 30 s, 2 min and 10 min (±20 % jitter), 25 MB exfiltrated over 30 min, one lateral-movement connection, a
  // port scan from a quiet device. Settings were chosen on tuning seeds 7401–7408 (bench/model-tune.ts --scenario
  // slow, which refuses this seed). Floors: beacons and slow exfiltration within 10 minutes of their start, everything
  // else within 3 windows; ≤ 1 false alert per device-day.
  this.timeout(300_000);
  let dir: string;
  let evaluation: CaptureEvaluation;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-floors-slow-'));
    const t0 = Date.now();
    await simulateSlowTrainingDay(join(dir, 'train.pcap'));
    const config = parseDetectConfig({ models_dir: join(dir, 'models') });
    await trainFromCapture(join(dir, 'train.pcap'), config);
    await simulateSlowEvaluation(join(dir, 'eval.pcap'), SLOW_HELD_OUT_SEED);
    const labels = readLabels(join(dir, 'eval.labels.json'));
    evaluation = await evaluateCapture(join(dir, 'eval.pcap'), labels, config, { from: SLOW_MEASURE_FROM });
    process.stdout.write(`      (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatEvaluation(evaluation, new Map(labels.devices.map((d) => [d.device_id, d.name]))).replace(/^/gm, '      ')}`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scores the quiet devices (a model of their own or the population model) and evaluates every slow attack', () => {
    assert.deepEqual(evaluation.unscored_attacks, []);
    assert.ok(evaluation.attacks.length >= 6);
  });

  it('meets the floors: beacons and slow exfiltration within 10 min, the rest within 3 windows, ≤ 1 false alert per device-day', () => {
    for (const a of evaluation.attacks) assert.ok(a.detected, `${a.id} ${a.kind}: not detected`);
    assert.ok(evaluation.report.false_alerts_per_device_day <= 1, `false alerts per device-day ${evaluation.report.false_alerts_per_device_day}`);
    assert.deepEqual(evaluation.floors.failures, []);
  });
});
