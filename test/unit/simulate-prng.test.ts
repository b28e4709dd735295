import assert from 'node:assert/strict';
import { fnv1a32, Prng } from '../../src/simulate/prng.js';

describe('simulate/prng (xoshiro128**, splitmix32 seeding)', () => {
  it('xoshiro128** matches the algorithm worked by hand from state (1, 2, 3, 4)', () => {
    // Reference: Blackman & Vigna. Output 1 = rotl(2*5, 7)*9 = 1280*9 = 11520. Then the state becomes
    // (7, 0, 1026, 12288) and output 2 = rotl(0*5, 7)*9 = 0.
    const p = Prng.fromState(1, 2, 3, 4);
    assert.equal(p.u32(), 11520);
    assert.equal(p.u32(), 0);
  });

  it('FNV-1a 32 matches the published test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('is deterministic per seed and stream, and streams differ', () => {
    const a = new Prng(42, 'device:pump-01');
    const b = new Prng(42, 'device:pump-01');
    const c = new Prng(42, 'device:pump-02');
    const d = new Prng(43, 'device:pump-01');
    const sa = Array.from({ length: 8 }, () => a.u32());
    assert.deepEqual(sa, Array.from({ length: 8 }, () => b.u32()));
    assert.notDeepEqual(sa, Array.from({ length: 8 }, () => c.u32()));
    assert.notDeepEqual(sa, Array.from({ length: 8 }, () => d.u32()));
  });

  it('floats are uniform in [0, 1) and ints cover their inclusive range', () => {
    const p = new Prng(7);
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const f = p.float();
      assert.ok(f >= 0 && f < 1);
      bins[Math.floor(f * 10)]! += 1;
    }
    for (const b of bins) assert.ok(Math.abs(b - n / 10) < n / 100, `bin count ${b} too far from ${n / 10}`);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(p.int(3, 6));
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  });

  it('opaque() gives deterministic high-entropy bytes of any length', () => {
    const a = new Prng(3, 's');
    const b = new Prng(3, 's');
    for (const n of [1, 17, 4096, (1 << 20) + 5]) {
      const x = a.opaque(n);
      assert.equal(x.length, n);
      assert.ok(x.equals(b.opaque(n)));
    }
    const big = new Prng(4).opaque(65536);
    const counts = new Array<number>(256).fill(0);
    for (const byte of big) counts[byte]! += 1;
    let h = 0;
    for (const c of counts) if (c > 0) h -= (c / big.length) * Math.log2(c / big.length);
    assert.ok(h > 7.99, `entropy ${h} bits/byte`);
  });

  it('normal() has the requested mean and spread', () => {
    const p = new Prng(9);
    const xs = Array.from({ length: 20_000 }, () => p.normal(10, 2));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean - 10) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(sd - 2) < 0.1, `sd ${sd}`);
  });
});
