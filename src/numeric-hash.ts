/**
 * Open-addressing hash map from non-negative integer keys (< 2^53: MAC addresses, IPv4 addresses, folded IPv6
 * keys) to non-negative numbers, stored in typed arrays.
 *
 * Why not `Map<number, …>`: keys above 2^30 (most MACs, IPv4 addresses from 64.0.0.0 up) are not small integers in
 * V8, so each `Map.get`/`Set.has` with such a key boxes it into a heap number — an allocation per packet on the hot
 * path. Here keys stay unboxed doubles in a Float64Array. Linear probing, load ≤ 1/2, growth by doubling (the only
 * allocation), no deletion (clear() empties it wholesale).
 *
 * Keys are passed as two small integers, `hi` (< 2^29) and `lo` (< 2^24), key = hi · 2^24 + lo: a double argument
 * to a call that V8 does not inline is boxed, small integers never are. `splitHi`/`splitLo` show the split; hot
 * callers write it inline: `const hi = (k / 16777216) | 0; const lo = k - hi * 16777216;`.
 */
const EMPTY = -1;

export class NumberMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 16) {
    let cap = 8;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.vals = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Value for key (hi, lo), or -1 when absent. */
  get(hi: number, lo: number): number {
    const key = hi * 16777216 + lo;
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(hi, lo) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  has(hi: number, lo: number): boolean {
    return this.get(hi, lo) >= 0;
  }

  /** Sets key (hi, lo) to `value` (≥ 0). */
  set(hi: number, lo: number, value: number): void {
    const key = hi * 16777216 + lo;
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(hi, lo) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        this.vals[i] = value;
        return;
      }
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    keys[i] = key;
    this.vals[i] = value;
    this.count++;
    if (this.count * 2 > keys.length) this.grow();
  }

  /** Adds key (hi, lo) with value 0 when absent; returns true if it was added. */
  add(hi: number, lo: number): boolean {
    if (this.get(hi, lo) >= 0) return false;
    this.set(hi, lo, 0);
    return true;
  }

  /** Convenience for cold paths: the same operations with a whole key (< 2^53). */
  getKey(key: number): number {
    return this.get(splitHi(key), splitLo(key));
  }

  setKey(key: number, value: number): void {
    this.set(splitHi(key), splitLo(key), value);
  }

  clear(): void {
    if (this.count === 0) return;
    this.keys.fill(EMPTY);
    this.count = 0;
  }

  /** Calls `fn` for every entry (not for the hot path). */
  forEach(fn: (value: number, key: number) => void): void {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k !== EMPTY) fn(this.vals[i]!, k);
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.vals = new Float64Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== EMPTY) this.set(splitHi(k), splitLo(k), oldVals[i]!);
    }
  }
}

export function splitHi(key: number): number {
  return (key / 16777216) | 0;
}

export function splitLo(key: number): number {
  return key - splitHi(key) * 16777216;
}

function slotOf(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
