import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { probeTfjsNode, selectBackend, wasmBinaryDir } from '../../../src/detect/backend.js';
import { ModelError } from '../../../src/errors.js';

describe('detect: TF.js backend selection', () => {
  it('finds the wasm binaries in the installed package (no network)', () => {
    assert.ok(existsSync(path.join(wasmBinaryDir(), 'tfjs-backend-wasm-simd.wasm')));
  });

  it('explicit cpu and wasm activate and compute the same product', async () => {
    const products: number[][] = [];
    for (const b of ['cpu', 'wasm'] as const) {
      const s = await selectBackend(b, 'score');
      assert.equal(s.active, b);
      assert.equal(tf.getBackend(), b);
      const a = tf.tensor2d([[1, 2], [3, 4]]);
      products.push(Array.from(a.matMul(a).dataSync()));
    }
    assert.deepEqual(products[0], [7, 10, 15, 22]);
    assert.deepEqual(products[1], products[0]);
  });

  it('auto prefers tfjs-node, else the configured per-job fallback, and reports why', async () => {
    const node = await probeTfjsNode();
    const s = await selectBackend('auto', 'train', { train: 'cpu', score: 'wasm' });
    assert.equal(s.tfjs_node.available, node.available);
    assert.equal(s.active, node.available ? 'tensorflow' : 'cpu');
    const s2 = await selectBackend('auto', 'score', { train: 'cpu', score: 'wasm' });
    assert.equal(s2.active, node.available ? 'tensorflow' : 'wasm');
    if (!node.available) assert.match(s.tfjs_node.reason, /not installed|failed to load/);
  });

  it('an explicit tfjs-node request fails clearly when it is not installed', async () => {
    const node = await probeTfjsNode();
    if (node.available) {
      assert.equal((await selectBackend('tfjs-node', 'score')).active, 'tensorflow');
    } else {
      await assert.rejects(selectBackend('tfjs-node', 'score'), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_BACKEND' && /tfjs-node/.test(e.message));
    }
  });
});
