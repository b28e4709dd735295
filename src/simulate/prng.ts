/**
 * Seeded pseudo-random number generator for the simulator.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna, 2018), 128 bits of state, 32-bit outputs, period 2^128 − 1. The state
 * is seeded with four successive outputs of splitmix32 started from `seed XOR fnv1a32(stream)`, so that each named
 * stream (`device:pump-01`, `attack:a1`, ...) is independent of the others: adding a device or an attack does not
 * change what the other devices do. Floats are `u32 / 2^32` (32 bits of randomness), normals use Box–Muller with
 * `Math.log`/`Math.cos` (V8 implements them with fdlibm, so the results are the same on every platform Node runs on).
 *
 * Not cryptographic; only for reproducible synthetic traffic.
 */

/** FNV-1a 32-bit hash of a string (UTF-16 code units folded to bytes). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h ^= c & 0xff;
    h = Math.imul(h, 0x01000193);
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = '') {
    const st = { s: ((seed >>> 0) ^ fnv1a32(stream)) | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A generator with an explicit state (for tests against the algorithm's reference). */
  static fromState(a: number, b: number, c: number, d: number): Prng {
    const p = new Prng(0);
    p.a = a >>> 0;
    p.b = b >>> 0;
    p.c = c >>> 0;
    p.d = d >>> 0;
    return p;
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** `base` scaled by a uniform factor in [1 − frac, 1 + frac]. */
  jitter(base: number, frac: number): number {
    return base * (1 - frac + 2 * frac * this.float());
  }

  /** Exponentially distributed value with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Normal (Gaussian) value, Box–Muller. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    if (i < n) {
      const last = this.u32();
      for (let k = 0; i < n; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /**
   * `n` opaque high-entropy bytes for bulk payloads (ciphertext, pixel data): a view into a fixed 1 MiB random pool
   * (itself generated once by this algorithm) at a random offset. Much cheaper than `bytes(n)`; never write into it.
   */
  opaque(n: number): Buffer {
    const pool = opaquePool();
    if (n <= pool.length) {
      const off = Math.floor(this.float() * (pool.length - n + 1));
      return pool.subarray(off, off + n);
    }
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= pool.length) parts.push(this.opaque(Math.min(left, pool.length)));
    return Buffer.concat(parts);
  }

  /** Random string of `n` characters from `alphabet`. */
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.float() * alphabet.length)];
    return s;
  }
}

let pool: Buffer | undefined;

function opaquePool(): Buffer {
  pool ??= new Prng(0x5eed, 'opaque-pool').bytes(1 << 20);
  return pool;
}
