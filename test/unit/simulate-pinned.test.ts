/**
 * Captures made before the slow and periodic attack kinds and quiet devices existed (issue 19) are unchanged byte
 * for byte: the evaluation scenario's training day and held-out capture (the floors test's input, test/eval) and a
 * capture holding one attack of each of the 12 older kinds (as test/unit/simulate-capture.test.ts makes it). The
 * hashes were taken on commit c6cc2ca, before those changes. A change that alters them on purpose (benign traffic or
 * an older kind) updates them here and says so in its commit; the shipped captures are compared byte for byte too
 * (simulate-shipped.test.ts). The held-out capture is made with the 12 original attacks (`ATTACKS_12`): the
 * evaluation's list has gained identity_spoof attacks since (issue 23), appended so that the 12 are unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, DEFAULT_DEVICES, parseAttack } from '../../src/simulate/index.js';
import { ATTACKS_12, HELD_OUT_SEED, simulateEvaluation, simulateTrainingDay } from '../eval/scenario.js';
import { ALL_12_KINDS } from '../support/attacks.js';

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** [capture, frames, pcap sha256, labels sha256] measured on c6cc2ca. */
const PINNED = {
  train: [233_742, '741d544e5ed1b2c7d09f9189475dbcc733280920675f37e4e6b5ed1163c42184', 'de3596d5d25ae1b334037f83e1cab51c3bc2807cc7c92cf8559c346de5465382'],
  eval: [61_286, 'af2490655dd027ebed12d7ca144ffd2a27b6a5bec20deea71d27b650336ac5a8', 'fb42345f87e5a27acfee090bf96ceb29418e2dfbfc7199d017ee70754da94e2c'],
  all12: [15_562, 'd5e81e02749904f47bbb860cbe62cca5c60e2024f3c72fc25d4b013246d9b90e', '3c8438c1da35cceda73772f088aacd7b87bedff88376a08b295fec36625799d9'],
} as const;

describe('simulate: captures of the older kinds are unchanged (pinned hashes)', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simpin-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = (name: keyof typeof PINNED, frames: number): void => {
    const [n, pcap, labels] = PINNED[name];
    assert.equal(frames, n, `${name}: frames`);
    assert.equal(sha256(join(dir, `${name}.pcap`)), pcap, `${name}.pcap changed`);
    assert.equal(sha256(join(dir, `${name}.labels.json`)), labels, `${name}.labels.json changed`);
  };

  it('the evaluation scenario: training day and held-out capture (test/eval/scenario.ts)', async () => {
    check('train', (await simulateTrainingDay(join(dir, 'train.pcap'))).frames);
    check('eval', (await simulateEvaluation(join(dir, 'eval.pcap'), HELD_OUT_SEED, ATTACKS_12)).frames);
  });

  it('one attack of each of the 12 older kinds (simulate-capture.test.ts options)', async () => {
    const attacks = ALL_12_KINDS.map(parseAttack);
    const s = await simulate({ seed: 77, start: Date.parse('2026-01-05T10:00:00Z') / 1000, duration_s: 1200, devices: DEFAULT_DEVICES, attacks, out: join(dir, 'all12.pcap'), dicom_image_bytes: 2048 });
    check('all12', s.frames);
  });
});
