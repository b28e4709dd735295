/**
 * Address helpers for configuration and inventory files (not the hot path): parse IPv4/IPv6 text and CIDR
 * prefixes into the numeric forms `DecodedPacket` uses (IPv4 as an unsigned 32-bit integer, IPv6 as four
 * big-endian 32-bit words).
 */

/** Parses a dotted quad into an unsigned 32-bit integer; -1 when malformed. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return -1;
    const n = Number(part);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

/** Parses an IPv6 address (with `::` compression, optional trailing dotted quad) into four words; undefined when malformed. */
export function parseIpv6(text: string): Uint32Array | undefined {
  let s = text;
  const groups: number[] = [];
  // Trailing embedded IPv4 (::ffff:1.2.3.4).
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > 0) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 < 0) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) {
    if (head.length !== 8) return undefined;
    groups.push(...head);
  } else {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return words;
}

/** A parsed CIDR prefix. IPv4 uses `words[0]` only. */
export interface Cidr {
  version: 4 | 6;
  words: Uint32Array;
  prefix: number;
  text: string;
}

/** Parses `a.b.c.d/n` or `x::/n`; undefined when malformed. Host bits are cleared. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (addr.includes(':')) {
    const words = parseIpv6(addr);
    if (!words || prefix > 128) return undefined;
    for (let i = 0; i < 4; i++) words[i] = ((words[i] ?? 0) & maskWord(prefix - 32 * i)) >>> 0;
    return { version: 6, words, prefix, text };
  }
  const v4 = parseIpv4(addr);
  if (v4 < 0 || prefix > 32) return undefined;
  const words = new Uint32Array(4);
  words[0] = (v4 & maskWord(prefix)) >>> 0;
  return { version: 4, words, prefix, text };
}

/** Mask for one 32-bit word given the prefix bits that remain for it (≤ 0: none, ≥ 32: all). */
export function maskWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Whether the MAC is a group (multicast/broadcast) address: I/G bit of the first octet. */
export function isGroupMac(mac: number): boolean {
  return mac >= 0 && Math.floor(mac / 0x10000000000) % 2 === 1;
}

/** Whether the MAC is locally administered (U/L bit): randomised or virtual, no IEEE vendor. */
export function isLocalMac(mac: number): boolean {
  return mac >= 0 && (Math.floor(mac / 0x10000000000) & 2) === 2;
}
