/**
 * pcapng timestamps: a 64-bit count of units (`if_tsresol`: 10^-k or 2^-k seconds) split in two 32-bit halves.
 * Exact conversion to (seconds, nanoseconds) without BigInt on the common decimal resolutions (k ≤ 9), by long
 * division in 16-bit digits so that no intermediate exceeds 2^53.
 */

/** Per-interface timestamp unit. `pow10` is k for 10^-k with k in 0..9, otherwise -1 (slow exact path). */
export interface TsUnit {
  pow10: number;
  /** Units per second (for the slow path). */
  perSecond: bigint;
  /** `if_tsoffset`, seconds added to every timestamp. */
  offsetSec: number;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export function tsUnitFromResol(resol: number, offsetSec: number): TsUnit {
  if ((resol & 0x80) === 0) {
    const k = resol;
    return { pow10: k <= 9 ? k : -1, perSecond: 10n ** BigInt(k), offsetSec };
  }
  return { pow10: -1, perSecond: 1n << BigInt(resol & 0x7f), offsetSec };
}

/** Output of `splitTimestamp` (module-level scratch: no allocation per packet). */
export const tsOut = { sec: 0, nsec: 0 };

export function splitTimestamp(hi: number, lo: number, unit: TsUnit): void {
  const k = unit.pow10;
  if (k >= 0) {
    const d = POW10[k] ?? 1;
    let r = hi >>> 16;
    const q3 = Math.floor(r / d);
    r -= q3 * d;
    r = r * 65536 + (hi & 0xffff);
    const q2 = Math.floor(r / d);
    r -= q2 * d;
    r = r * 65536 + (lo >>> 16);
    const q1 = Math.floor(r / d);
    r -= q1 * d;
    r = r * 65536 + (lo & 0xffff);
    const q0 = Math.floor(r / d);
    r -= q0 * d;
    tsOut.sec = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0 + unit.offsetSec;
    tsOut.nsec = r * (POW10[9 - k] ?? 1);
    return;
  }
  // Unusual resolutions (binary, or finer than 1 ns): exact but allocating.
  const ts = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const sec = ts / unit.perSecond;
  const frac = ts % unit.perSecond;
  tsOut.sec = Number(sec) + unit.offsetSec;
  tsOut.nsec = Number((frac * 1000000000n) / unit.perSecond);
}
