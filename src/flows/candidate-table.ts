/**
 * The candidate table: senders without evidence of being real hosts that hold no device handle (see
 * `DeviceInventory`, "Evidence"), so that a flood of a million spoofed sources costs a fixed amount of memory.
 *
 * Preallocated typed arrays, 4-way set-associative on a numeric key (hi: up to 26 bits, lo: 24 bits; the inventory
 * puts the key kind — MAC, IPv4, IPv6 fold — in the high bits of `hi`). Per entry: packets sent, first and last seen
 * (packet time, seconds) and flag bits; 33 bytes. When a set is full, a new candidate evicts the entry of the set that
 * is idle for `IDLE_S` or more, else the one that has sent the fewest packets, ties broken by the oldest last packet:
 * a flood of one-packet sources recycles its own entries and leaves a real host that has sent twice alone. Nothing is
 * allocated per call.
 */

/** The candidate sent a DHCP DISCOVER or REQUEST (the DHCP lease evidence waits for the server's ACK). */
export const CANDIDATE_DHCP = 1;

/** An entry idle this long (packet time) is evicted before any active one. */
const IDLE_S = 60;
const WAYS = 4;

export class CandidateTable {
  readonly slots: number;
  private readonly bucketMask: number;
  private readonly kHi: Int32Array;
  private readonly kLo: Int32Array;
  /** Packets the candidate sent (saturates at 2^32 - 1). */
  readonly count: Uint32Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
  readonly flags: Uint8Array;
  private n = 0;
  private nInserted = 0;
  private nEvicted = 0;

  constructor(slots: number) {
    let s = WAYS;
    while (s < slots) s *= 2;
    this.slots = s;
    this.bucketMask = s / WAYS - 1;
    this.kHi = new Int32Array(s).fill(-1);
    this.kLo = new Int32Array(s);
    this.count = new Uint32Array(s);
    this.first = new Float64Array(s);
    this.last = new Float64Array(s);
    this.flags = new Uint8Array(s);
  }

  /** Candidates in the table now. */
  get size(): number {
    return this.n;
  }

  /** Candidates ever inserted (a source evicted and seen again counts twice). */
  get inserted(): number {
    return this.nInserted;
  }

  /** Candidates evicted to make room for another: sources that left without evidence (or were forgotten). */
  get evicted(): number {
    return this.nEvicted;
  }

  /** Slot of the candidate, -1 when absent. */
  find(hi: number, lo: number): number {
    const b = this.bucket(hi, lo);
    for (let i = b; i < b + WAYS; i++) if (this.kHi[i] === hi && this.kLo[i] === lo) return i;
    return -1;
  }

  /** Counts one packet sent by the candidate at `ts`, inserting it (evicting another if its set is full); its slot. */
  note(hi: number, lo: number, ts: number): number {
    const b = this.bucket(hi, lo);
    let victim = -1;
    let vScore = Infinity;
    let vLast = Infinity;
    for (let i = b; i < b + WAYS; i++) {
      const k = this.kHi[i]!;
      if (k === hi && this.kLo[i] === lo) {
        if (this.count[i]! < 0xffffffff) this.count[i]!++;
        if (ts > this.last[i]!) this.last[i] = ts;
        return i;
      }
      const last = this.last[i]!;
      const score = k === -1 ? -1 : ts - last >= IDLE_S ? 0 : this.count[i]!;
      if (score < vScore || (score === vScore && last < vLast)) {
        victim = i;
        vScore = score;
        vLast = last;
      }
    }
    if (this.kHi[victim] === -1) this.n++;
    else this.nEvicted++;
    this.nInserted++;
    this.kHi[victim] = hi;
    this.kLo[victim] = lo;
    this.count[victim] = 1;
    this.first[victim] = ts;
    this.last[victim] = ts;
    this.flags[victim] = 0;
    return victim;
  }

  /** Removes the entry in `slot` (the candidate got a device handle). */
  remove(slot: number): void {
    if (this.kHi[slot] === -1) return;
    this.kHi[slot] = -1;
    this.n--;
  }

  private bucket(hi: number, lo: number): number {
    let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return (h & this.bucketMask) * WAYS;
  }
}
