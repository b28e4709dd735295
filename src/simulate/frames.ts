/**
 * Frame builder: Ethernet II (optional 802.1Q tag), IPv4, TCP, UDP, ICMP and ARP, with correct IPv4 header, TCP and
 * UDP checksums (so tshark's checksum validation, when enabled, finds nothing wrong). Frames shorter than 60 bytes are
 * padded with zeros as they appear on a mirrored switch port.
 *
 * Every byte of every frame is written explicitly (buffers are zero-filled), so output is deterministic.
 */

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC = Buffer.alloc(6);

/** A station as seen on the mirrored segment. */
export interface Station {
  /** MAC the station's frames carry on this segment (the gateway's MAC for hosts beyond the gateway). */
  mac: Buffer;
  /** IPv4 address as an unsigned 32-bit integer. */
  ip: number;
  /** Initial TTL of its packets as seen here (64 Linux/embedded, 128 Windows, lower for hosts beyond the router). */
  ttl: number;
  /** Next IPv4 identification value. */
  ipId: number;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${text}`);
  }
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export function macFromText(text: string): Buffer {
  const hex = text.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new RangeError(`not a MAC address: ${text}`);
  return Buffer.from(hex, 'hex');
}

export function macText(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Internet checksum (RFC 1071) partial sum over buf[start, end), starting from `sum`. */
function sum16(buf: Buffer, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function ethHeader(frame: Buffer, dst: Buffer, src: Buffer, vlan: number, ethertype: number): number {
  dst.copy(frame, 0);
  src.copy(frame, 6);
  if (vlan >= 0) {
    frame.writeUInt16BE(0x8100, 12);
    frame.writeUInt16BE(vlan & 0x0fff, 14);
    frame.writeUInt16BE(ethertype, 16);
    return 18;
  }
  frame.writeUInt16BE(ethertype, 12);
  return 14;
}

/**
 * Builds an Ethernet + IPv4 frame around an L4 segment whose bytes `fill` writes at `l4Off` (length `l4Len`); the
 * L4 checksum at `l4Off + csumOff` is computed when `csumOff >= 0` (TCP/UDP use the pseudo-header).
 */
function ipv4Frame(
  vlan: number,
  src: Station,
  dst: Station,
  proto: number,
  l4Len: number,
  write: (frame: Buffer, l4Off: number) => void,
  csumOff: number,
  ttlOverride = -1,
): Buffer {
  const l2 = vlan >= 0 ? 18 : 14;
  const total = l2 + 20 + l4Len;
  const frame = Buffer.alloc(Math.max(total, vlan >= 0 ? 64 : 60));
  ethHeader(frame, dst.mac, src.mac, vlan, ETH_IPV4);
  const ip = l2;
  frame[ip] = 0x45;
  frame[ip + 1] = 0;
  frame.writeUInt16BE(20 + l4Len, ip + 2);
  frame.writeUInt16BE(src.ipId & 0xffff, ip + 4);
  src.ipId = (src.ipId + 1) & 0xffff;
  frame.writeUInt16BE(proto === IPPROTO_TCP ? 0x4000 : 0, ip + 6); // DF on TCP
  frame[ip + 8] = ttlOverride >= 0 ? ttlOverride : src.ttl;
  frame[ip + 9] = proto;
  frame.writeUInt32BE(src.ip >>> 0, ip + 12);
  frame.writeUInt32BE(dst.ip >>> 0, ip + 16);
  frame.writeUInt16BE(fold(sum16(frame, ip, ip + 20, 0)), ip + 10);
  const l4 = ip + 20;
  write(frame, l4);
  if (csumOff >= 0) {
    let s = sum16(frame, ip + 12, ip + 20, 0) + proto + l4Len;
    s = sum16(frame, l4, l4 + l4Len, s);
    let c = fold(s);
    if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
    frame.writeUInt16BE(c, l4 + csumOff);
  }
  return total < frame.length ? frame : frame.subarray(0, total);
}

/** TCP options of a SYN / SYN-ACK: MSS 1460, NOP, window scale 7, SACK permitted, NOP, NOP. */
const SYN_OPTIONS = Buffer.from([0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x01, 0x01]);

export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
}

export function tcpFrame(vlan: number, src: Station, dst: Station, f: TcpFields, payload?: Buffer): Buffer {
  const opts = f.flags & TCP_SYN ? SYN_OPTIONS : undefined;
  const hdr = 20 + (opts ? opts.length : 0);
  const plen = payload ? payload.length : 0;
  return ipv4Frame(
    vlan,
    src,
    dst,
    IPPROTO_TCP,
    hdr + plen,
    (b, o) => {
      b.writeUInt16BE(f.sport, o);
      b.writeUInt16BE(f.dport, o + 2);
      b.writeUInt32BE(f.seq >>> 0, o + 4);
      b.writeUInt32BE(f.flags & TCP_ACK ? f.ack >>> 0 : 0, o + 8);
      b[o + 12] = (hdr / 4) << 4;
      b[o + 13] = f.flags;
      b.writeUInt16BE(f.window, o + 14);
      if (opts) opts.copy(b, o + 20);
      if (payload) payload.copy(b, o + hdr);
    },
    16,
  );
}

export function udpFrame(vlan: number, src: Station, dst: Station, sport: number, dport: number, payload: Buffer, dstMac?: Buffer): Buffer {
  const to = dstMac ? { ...dst, mac: dstMac } : dst;
  return ipv4Frame(
    vlan,
    src,
    to,
    IPPROTO_UDP,
    8 + payload.length,
    (b, o) => {
      b.writeUInt16BE(sport, o);
      b.writeUInt16BE(dport, o + 2);
      b.writeUInt16BE(8 + payload.length, o + 4);
      payload.copy(b, o + 8);
    },
    6,
  );
}

/** ICMP message: type, code, 4 bytes rest-of-header, body. */
export function icmpFrame(vlan: number, src: Station, dst: Station, type: number, code: number, rest: number, body: Buffer): Buffer {
  return ipv4Frame(
    vlan,
    src,
    dst,
    IPPROTO_ICMP,
    8 + body.length,
    (b, o) => {
      b[o] = type;
      b[o + 1] = code;
      b.writeUInt32BE(rest >>> 0, o + 4);
      body.copy(b, o + 8);
      b.writeUInt16BE(fold(sum16(b, o, o + 8 + body.length, 0)), o + 2);
    },
    -1,
  );
}

/** ARP request (op 1) or reply (op 2). `ethDst` defaults to broadcast for requests, to `tha` for replies. */
export function arpFrame(
  vlan: number,
  op: 1 | 2,
  sha: Buffer,
  spa: number,
  tha: Buffer,
  tpa: number,
  ethDst?: Buffer,
): Buffer {
  const frame = Buffer.alloc(vlan >= 0 ? 64 : 60);
  const o = ethHeader(frame, ethDst ?? (op === 1 ? BROADCAST_MAC : tha), sha, vlan, ETH_ARP);
  frame.writeUInt16BE(1, o);
  frame.writeUInt16BE(ETH_IPV4, o + 2);
  frame[o + 4] = 6;
  frame[o + 5] = 4;
  frame.writeUInt16BE(op, o + 6);
  sha.copy(frame, o + 8);
  frame.writeUInt32BE(spa >>> 0, o + 14);
  tha.copy(frame, o + 18);
  frame.writeUInt32BE(tpa >>> 0, o + 24);
  return frame;
}
