/**
 * Big-endian reads at offsets, for the hot path. Callers check lengths first, so every index is in bounds (the
 * `as number` casts only silence `noUncheckedIndexedAccess`; an out-of-bounds read would give 0, never throw).
 * Plain indexed loads are faster than Buffer's read methods, which validate their arguments on every call.
 */
export function u8(b: Uint8Array, o: number): number {
  return b[o] as number;
}

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** 48-bit MAC address as an integer (exact: < 2^53). */
export function mac48(b: Uint8Array, o: number): number {
  return u16(b, o) * 4294967296 + u32(b, o + 2);
}
