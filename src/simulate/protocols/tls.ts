/**
 * TLS 1.3 as seen on the wire (RFC 8446): ClientHello with SNI, supported_versions, key_share; ServerHello, the
 * compatibility ChangeCipherSpec, then opaque application-data records (the encrypted handshake and the data).
 * Random fields and ciphertext come from the simulator's PRNG.
 */
import type { Prng } from '../prng.js';

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}

function handshake(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([h, body]);
}

function record(type: number, body: Buffer, version = 0x0303): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}

export function clientHello(rng: Prng, sni: string): { bytes: Buffer; sessionId: Buffer } {
  const sessionId = rng.bytes(32);
  const name = Buffer.from(sni, 'ascii');
  const sniBody = Buffer.concat([u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const exts = Buffer.concat([
    ext(0x0000, sniBody),
    ext(0x000a, Buffer.from([0x00, 0x04, 0x00, 0x1d, 0x00, 0x17])),
    ext(0x000d, Buffer.from([0x00, 0x08, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x01])),
    ext(0x002b, Buffer.from([0x04, 0x03, 0x04, 0x03, 0x03])),
    ext(0x002d, Buffer.from([0x01, 0x01])),
    ext(0x0033, Buffer.concat([u16(36), u16(0x001d), u16(32), rng.bytes(32)])),
  ]);
  const body = Buffer.concat([
    u16(0x0303),
    rng.bytes(32),
    Buffer.from([32]),
    sessionId,
    Buffer.from([0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03]),
    Buffer.from([0x01, 0x00]),
    u16(exts.length),
    exts,
  ]);
  return { bytes: record(0x16, handshake(1, body), 0x0301), sessionId };
}

/** ServerHello + ChangeCipherSpec + encrypted handshake (one application-data record of `encryptedBytes`). */
export function serverFlight(rng: Prng, sessionId: Buffer, encryptedBytes: number): Buffer {
  const exts = Buffer.concat([ext(0x002b, u16(0x0304)), ext(0x0033, Buffer.concat([u16(0x001d), u16(32), rng.bytes(32)]))]);
  const body = Buffer.concat([
    u16(0x0303),
    rng.bytes(32),
    Buffer.from([32]),
    sessionId,
    u16(0x1301),
    Buffer.from([0]),
    u16(exts.length),
    exts,
  ]);
  return Buffer.concat([
    record(0x16, handshake(2, body)),
    record(0x14, Buffer.from([1])),
    record(0x17, rng.opaque(encryptedBytes)),
  ]);
}

/** Client's ChangeCipherSpec + encrypted Finished. */
export function clientFinished(rng: Prng): Buffer {
  return Buffer.concat([record(0x14, Buffer.from([1])), record(0x17, rng.bytes(53))]);
}

/** Application data of `n` plaintext bytes, split into records of ≤ 16 KiB (+ 17 bytes AEAD overhead each). */
export function appData(rng: Prng, n: number): Buffer {
  const parts: Buffer[] = [];
  let left = Math.max(1, n);
  while (left > 0) {
    const chunk = Math.min(left, 16384);
    parts.push(record(0x17, rng.opaque(chunk + 17)));
    left -= chunk;
  }
  return Buffer.concat(parts);
}
