import assert from 'node:assert/strict';
import { NumberMap, OwnedKeySet, splitHi, splitLo } from '../../src/numeric-hash.js';

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

describe('OwnedKeySet', () => {
  it('holds (owner, key) pairs like a Set of pairs through growth, and forgets a generation at once', () => {
    const s = new OwnedKeySet(4);
    const ref = new Set<string>();
    let x = 11;
    for (let i = 0; i < 6000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const owner = x % 50;
      const key = (x % 512) * 16777216 + (x >>> 8); // up to 2^33, as peer keys
      const added = s.add(owner, splitHi(key), splitLo(key));
      assert.equal(added, !ref.has(`${owner}/${key}`));
      ref.add(`${owner}/${key}`);
    }
    assert.equal(s.size, ref.size);
    for (const pair of ref) {
      const [o, k] = pair.split('/').map(Number) as [number, number];
      assert.ok(s.has(o, splitHi(k), splitLo(k)));
      // The same key under another owner is another pair.
      if (!ref.has(`${o + 50}/${k}`)) assert.equal(s.has(o + 50, splitHi(k), splitLo(k)), false);
    }
    let n = 0;
    s.forEach((o, k) => {
      assert.ok(ref.has(`${o}/${k}`));
      n++;
    });
    assert.equal(n, ref.size);

    s.nextGeneration();
    assert.equal(s.size, 0);
    for (const pair of [...ref].slice(0, 200)) {
      const [o, k] = pair.split('/').map(Number) as [number, number];
      assert.equal(s.has(o, splitHi(k), splitLo(k)), false);
    }
    // Stale slots are reused; new pairs are found, old ones stay forgotten.
    assert.equal(s.add(3, 1, 2), true);
    assert.equal(s.add(3, 1, 2), false);
    assert.equal(s.size, 1);
    assert.ok(s.has(3, 1, 2));
    n = 0;
    s.forEach(() => n++);
    assert.equal(n, 1);
  });
});
