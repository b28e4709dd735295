/**
 * The detector on REAL devices: the labelled real-device sets of ../shared/dev-eval (a smart-lock hub and a quiet
 * camera, a week each, real attacks spliced in after `train_end`; format in src/records/labels.ts), evaluated as a user
 * would with `wardwatch evaluate <set>.pcap --labels <set>.labels.json`: train on the packets before `train_end` into a
 * temporary model store, evaluate the rest with the generic rules (an attack is detected by any detection alert on its
 * device within [start − 10 s, end + 20 s]; false alerts per listed device-day). The floors of the simulator test hold
 * here too: every attack detected within 3 windows, ≤ 1 false alert per device-day. No setting was chosen on these
 * sets alone (src/detect/README.md); the README's real-device table is this evaluation (scripts/gen-evaluation-readme.ts).
 * Skipped with a message in a user's clone without ../shared; fails in CI (CI=true) when the folder is missing.
 */
import assert from 'node:assert/strict';
import { formatEvaluation, type CaptureEvaluation } from '../../src/evaluate.js';
import { requireDevEval } from '../support/fixtures.js';
import { DEV_EVAL_SETS, evaluateDevSet } from './scenario.js';

for (const set of DEV_EVAL_SETS) {
  describe(`detect: evaluation floors on the real-device set ${set} (../shared/dev-eval)`, function () {
    this.timeout(300_000);
    let evaluation: CaptureEvaluation;

    before(async function () {
      requireDevEval(this);
      const t0 = Date.now();
      const r = await evaluateDevSet(set);
      evaluation = r.evaluation;
      process.stdout.write(`      (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatEvaluation(evaluation, r.names).replace(/^/gm, '      ')}`);
    });

    it('trains on the part before train_end and evaluates every labelled attack after it', () => {
      assert.ok(evaluation.training, 'trained before train_end');
      assert.ok(evaluation.attacks.length >= 3);
      assert.equal(evaluation.report.device_days, 'listed');
      assert.ok(evaluation.report.benign_device_days > 5, `benign device-days ${evaluation.report.benign_device_days}`);
    });

    it('meets the floors: every attack detected within 3 windows, ≤ 1 false alert per device-day', () => {
      for (const a of evaluation.attacks) assert.ok(a.detected && (a.delay_windows ?? 99) <= 3, `${a.id} ${a.kind}: ${a.detected ? `after ${a.delay_windows} windows` : 'not detected'}`);
      assert.ok(evaluation.report.false_alerts_per_device_day <= 1, `false alerts per device-day ${evaluation.report.false_alerts_per_device_day}`);
      assert.deepEqual(evaluation.floors.failures, []);
    });
  });
}
