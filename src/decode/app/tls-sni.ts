/**
 * TLS record layer, identified by content on any port: a record header (type 20–23, version 3.0–3.4, plausible
 * length) marks the packet TLS; a ClientHello in it yields the server_name (SNI, RFC 6066) when it lies within the
 * captured segment.
 */
import { AppProto, type DecodedPacket } from '../../records/packet.js';
import { MAX_NAME, boundedText } from './text.js';

export function looksLikeTls(b: Buffer, off: number, end: number): boolean {
  if (end - off < 5) return false;
  const type = b[off] ?? 0;
  if (type < 20 || type > 23 || b[off + 1] !== 3 || (b[off + 2] ?? 9) > 4) return false;
  const len = b.readUInt16BE(off + 3);
  return len > 0 && len <= 18432;
}

/** Call after `looksLikeTls`. Always identifies TLS; returns false when a ClientHello is malformed. */
export function decodeTls(b: Buffer, off: number, end: number, p: DecodedPacket): boolean {
  p.app = AppProto.TLS;
  if (b[off] !== 22 || end - off < 9 || b[off + 5] !== 1) return true;
  const recEnd = off + 5 + b.readUInt16BE(off + 3);
  const hsEnd = off + 9 + b.readUIntBE(off + 6, 3);
  // The ClientHello may continue in the next record or segment: read only what is here.
  let limit = end;
  if (hsEnd < limit) limit = hsEnd;
  if (recEnd < limit && hsEnd <= recEnd) limit = recEnd;
  let o = off + 9 + 2 + 32; // client_version, random
  if (o + 1 > limit) return true;
  o += 1 + (b[o] ?? 0); // session_id
  if (o + 2 > limit) return true;
  o += 2 + b.readUInt16BE(o); // cipher_suites
  if (o + 1 > limit) return true;
  o += 1 + (b[o] ?? 0); // compression_methods
  if (o + 2 > limit) return true;
  const extEnd = o + 2 + b.readUInt16BE(o);
  o += 2;
  while (o + 4 <= limit && o + 4 <= extEnd) {
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    const v = o + 4;
    if (type === 0) {
      // server_name: list length, then entries of type (0 = host_name), length, name.
      if (v + 5 > limit || len < 5) return v + len <= limit ? false : true;
      const nameType = b[v + 2] ?? 0;
      const nameLen = b.readUInt16BE(v + 3);
      if (nameType !== 0) return true;
      if (v + 5 + nameLen > limit) return true;
      if (5 + nameLen > len) return false;
      p.app_meta = { tls_sni: boundedText(b, v + 5, v + 5 + nameLen, MAX_NAME) };
      return true;
    }
    o = v + len;
  }
  return true;
}
