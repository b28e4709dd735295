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

/**
 * A set of (owner, key) pairs — owner a small integer (a device handle), key as for `NumberMap` given in (hi, lo)
 * halves — in one open-addressing table of typed arrays shared by all owners: no per-owner objects, no per-owner
 * growth. Entries carry a generation stamp: `nextGeneration()` forgets every entry at once in O(1) (stale slots read
 * as empty; no deletion within a generation, so linear probing stays correct). Per-owner counts are the caller's.
 * Growth by doubling when live entries exceed half the slots (the only allocation; stale entries are dropped then).
 */
export class OwnedKeySet {
  private owners: Int32Array;
  private keys: Float64Array;
  private stamps: Int32Array;
  private mask: number;
  private live = 0;
  private stamp = 1;

  constructor(initialCapacity = 64) {
    let cap = 8;
    while (cap < initialCapacity * 2) cap *= 2;
    this.owners = new Int32Array(cap);
    this.keys = new Float64Array(cap);
    this.stamps = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Entries of the current generation. */
  get size(): number {
    return this.live;
  }

  /** Forgets every entry (O(1)). */
  nextGeneration(): void {
    this.live = 0;
    if (this.stamp === 0x7ffffffe) {
      this.stamps.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
  }

  has(owner: number, hi: number, lo: number): boolean {
    const key = hi * 16777216 + lo;
    const stamps = this.stamps;
    const st = this.stamp;
    const mask = this.mask;
    let i = pairSlot(owner, hi, lo) & mask;
    for (;;) {
      if (stamps[i] !== st) return false;
      if (this.keys[i] === key && this.owners[i] === owner) return true;
      i = (i + 1) & mask;
    }
  }

  /** Adds the pair; returns false when it was already there. */
  add(owner: number, hi: number, lo: number): boolean {
    const key = hi * 16777216 + lo;
    const stamps = this.stamps;
    const st = this.stamp;
    const mask = this.mask;
    let i = pairSlot(owner, hi, lo) & mask;
    for (;;) {
      if (stamps[i] !== st) break;
      if (this.keys[i] === key && this.owners[i] === owner) return false;
      i = (i + 1) & mask;
    }
    stamps[i] = st;
    this.keys[i] = key;
    this.owners[i] = owner;
    this.live++;
    if (this.live * 2 > stamps.length) this.grow();
    return true;
  }

  /** Calls `fn` for every entry of the current generation, in table order (not for the hot path). */
  forEach(fn: (owner: number, key: number) => void): void {
    const st = this.stamp;
    for (let i = 0; i < this.stamps.length; i++) if (this.stamps[i] === st) fn(this.owners[i]!, this.keys[i]!);
  }

  private grow(): void {
    const oldOwners = this.owners;
    const oldKeys = this.keys;
    const oldStamps = this.stamps;
    const st = this.stamp;
    const cap = oldStamps.length * 2;
    this.owners = new Int32Array(cap);
    this.keys = new Float64Array(cap);
    this.stamps = new Int32Array(cap);
    this.mask = cap - 1;
    this.live = 0;
    for (let i = 0; i < oldStamps.length; i++) {
      if (oldStamps[i] !== st) continue;
      const k = oldKeys[i]!;
      this.add(oldOwners[i]!, splitHi(k), splitLo(k));
    }
  }
}

function pairSlot(owner: number, hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(owner + 0x3c6ef372, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
