/**
 * Issue 22 item 1: `train` never writes into the shipped demo models, and a command reads the user's store as soon as
 * it holds a model. The store a command scores with comes from one place (`Topology.scoringStore`).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Topology } from '../../src/compose/topology.js';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_MODELS_DIR, SHIPPED_MODELS_DIR } from '../../src/detect/config.js';

describe('model stores: the shipped demo models and the user store', () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-stores-'));
    cwd = process.cwd();
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('train writes to out/models by default, never into the shipped store', () => {
    const t = new Topology(parseConfig({}, 'test', {}));
    assert.equal(t.config.detect.models_dir, DEFAULT_MODELS_DIR);
    assert.equal(DEFAULT_MODELS_DIR, 'out/models');
    assert.notEqual(path.resolve(t.config.detect.models_dir), SHIPPED_MODELS_DIR);
  });

  it('while the default store holds no model, run/replay/evaluate score with the shipped demo models; detect does not', async () => {
    const t = new Topology(parseConfig({}, 'test', {}));
    assert.deepEqual(await t.scoringStore(true), { models_dir: SHIPPED_MODELS_DIR, shipped_demo: true });
    assert.deepEqual(await t.scoringStore(false), { models_dir: path.join(dir, 'out', 'models'), shipped_demo: false });
  });

  it("once the user's default store holds a model, it is used", async () => {
    mkdirSync(path.join(dir, 'out', 'models', 'class'), { recursive: true });
    cpSync(path.join(SHIPPED_MODELS_DIR, 'class', 'infusion_pump'), path.join(dir, 'out', 'models', 'class', 'infusion_pump'), { recursive: true });
    const t = new Topology(parseConfig({}, 'test', {}));
    assert.deepEqual(await t.scoringStore(true), { models_dir: path.join(dir, 'out', 'models'), shipped_demo: false });
  });

  it('a store the user named is never replaced, even when empty', async () => {
    const t = new Topology(parseConfig({ detect: { models_dir: 'site-models' } }, 'test', {}));
    assert.deepEqual(await t.scoringStore(true), { models_dir: path.join(dir, 'site-models'), shipped_demo: false });
  });
});
