/**
 * DNS (RFC 1035) header and first question: name (lower-case, no trailing dot; `""` for the root), QTYPE, RCODE,
 * QR bit and ANCOUNT. Compression pointers are followed (at most 16 jumps, so a pointer loop ends). Over TCP the
 * message is preceded by a 2-byte length.
 */
import { AppProto, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_NAME, internText } from './text.js';

const MAX_POINTER_JUMPS = 16;
const scratch = Buffer.allocUnsafe(MAX_NAME + 64);

/** Ports where DNS is expected: 53 (DNS), 5353 (mDNS), 5355 (LLMNR). */
export function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}

/**
 * Tries to read a DNS message at [off, off+len) (len = header-claimed length; reads stop at `end`, the captured
 * end). `strict` (used off the DNS ports) demands exactly one question of class IN that parses completely.
 * Returns true and fills `p.app`/`p.app_meta` when it is DNS.
 */
export function decodeDns(b: Buffer, off: number, end: number, p: DecodedPacket, strict: boolean): boolean {
  if (end - off < 12) return false;
  const flags = b.readUInt16BE(off + 2);
  const qd = b.readUInt16BE(off + 4);
  const an = b.readUInt16BE(off + 6);
  const opcode = (flags >> 11) & 0x0f;
  if (opcode > 6 || opcode === 3) return false;
  if (strict && (qd !== 1 || opcode !== 0 || (flags & 0x0040) !== 0)) return false;
  let name: string | undefined;
  let qtype: number | undefined;
  if (qd > 0) {
    const after = readName(b, off, off + 12, end);
    if (after < 0) {
      if (strict) return false;
    } else {
      name = internText(scratch, 0, nameLen, true);
      if (after + 4 <= end) {
        qtype = b.readUInt16BE(after);
        if (strict) {
          const qclass = b.readUInt16BE(after + 2) & 0x7fff;
          if (qclass !== 1 && qclass !== 255) return false;
        }
      } else if (strict) return false;
    }
  } else if (strict) return false;
  const meta: AppMeta = {
    dns_rcode: flags & 0x0f,
    dns_response: (flags & 0x8000) !== 0,
    dns_answers: an,
  };
  if (name !== undefined) meta.dns_qname = name;
  if (qtype !== undefined) meta.dns_qtype = qtype;
  p.app = AppProto.DNS;
  p.app_meta = meta;
  return true;
}

let nameLen = 0;

/**
 * Reads a (possibly compressed) name starting at `o` into `scratch` (length in `nameLen`). Returns the offset just
 * after the name in the message (after the first pointer if compressed), or -1 when malformed or cut off.
 */
function readName(b: Buffer, msg: number, o: number, end: number): number {
  let n = 0;
  let after = -1;
  let jumps = 0;
  for (;;) {
    if (o >= end) return -1;
    const len = b[o] ?? 0;
    if (len === 0) {
      if (after < 0) after = o + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (o + 1 >= end || ++jumps > MAX_POINTER_JUMPS) return -1;
      if (after < 0) after = o + 2;
      o = msg + (((len & 0x3f) << 8) | (b[o + 1] ?? 0));
      continue;
    }
    if (kind !== 0) return -1;
    if (o + 1 + len > end || n + len + 1 > MAX_NAME) return -1;
    if (n > 0) scratch[n++] = 0x2e;
    for (let i = 1; i <= len; i++) {
      const ch = b[o + i] ?? 0;
      scratch[n++] = ch >= 0x41 && ch <= 0x5a ? ch + 32 : ch;
    }
    o += 1 + len;
  }
  nameLen = n;
  return after;
}
