import assert from 'node:assert/strict';
import { NumberMap, splitHi, splitLo } from '../../src/numeric-hash.js';

describe('NumberMap', () => {
  it('maps 48-bit keys through growth, like a Map, and clears', () => {
    const m = new NumberMap(4);
    const ref = new Map<number, number>();
    let x = 7;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const key = (x % 65536) * 4294967296 + x; // up to 2^48
      m.setKey(key, i);
      ref.set(key, i);
    }
    assert.equal(m.size, ref.size);
    for (const [k, v] of ref) {
      assert.equal(m.getKey(k), v);
      assert.equal(m.get(splitHi(k), splitLo(k)), v);
    }
    assert.equal(m.getKey(2 ** 47 + 3), -1);
    let n = 0;
    m.forEach((v, k) => {
      assert.equal(ref.get(k), v);
      n++;
    });
    assert.equal(n, ref.size);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.getKey([...ref.keys()][0]!), -1);
    assert.equal(m.add(1, 2), true);
    assert.equal(m.add(1, 2), false);
    assert.equal(m.getKey(16777216 + 2), 0);
  });
});
