/**
 * Remote-access and file-sharing openings used by the attack injections: telnet login prompts, SSH identification
 * strings and KEXINIT, SMB2 NEGOTIATE request/response, RDP X.224 Connection Request/Confirm.
 */
import type { Prng } from '../prng.js';

export function sshBanner(software: string): Buffer {
  return Buffer.from(`SSH-2.0-${software}\r\n`, 'ascii');
}

function nameList(text: string): Buffer {
  const b = Buffer.from(text, 'ascii');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]);
}

/** SSH_MSG_KEXINIT in the binary packet format (unencrypted, before NEWKEYS), padded to a multiple of 8. */
export function sshKexinit(rng: Prng): Buffer {
  const payload = Buffer.concat([
    Buffer.from([20]),
    rng.bytes(16),
    nameList('curve25519-sha256,diffie-hellman-group14-sha256'),
    nameList('ssh-ed25519,rsa-sha2-256'),
    nameList('aes128-ctr,aes256-ctr'),
    nameList('aes128-ctr,aes256-ctr'),
    nameList('hmac-sha2-256'),
    nameList('hmac-sha2-256'),
    nameList('none'),
    nameList('none'),
    nameList(''),
    nameList(''),
    Buffer.from([0, 0, 0, 0, 0]),
  ]);
  let padLen = 8 - ((payload.length + 5) % 8);
  if (padLen < 4) padLen += 8;
  const h = Buffer.alloc(5);
  h.writeUInt32BE(payload.length + padLen + 1, 0);
  h[4] = padLen;
  return Buffer.concat([h, payload, rng.bytes(padLen)]);
}

/** SMB2 header (64 bytes) for a NEGOTIATE (command 0) request or response. */
function smb2Header(response: boolean, messageId: number): Buffer {
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0xfe534d42, 0);
  h.writeUInt16LE(64, 4);
  h.writeUInt16LE(0, 12); // NEGOTIATE
  h.writeUInt16LE(1, 14); // credits
  h.writeUInt32LE(response ? 1 : 0, 16); // flags: server-to-redir
  h.writeUInt32LE(messageId, 24);
  return h;
}

function netbios(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length, 0);
  return Buffer.concat([h, body]);
}

export function smb2NegotiateRq(rng: Prng): Buffer {
  const dialects = [0x0202, 0x0210, 0x0300, 0x0302];
  const b = Buffer.alloc(36 + 2 * dialects.length);
  b.writeUInt16LE(36, 0);
  b.writeUInt16LE(dialects.length, 2);
  b.writeUInt16LE(1, 4); // signing enabled
  rng.bytes(16).copy(b, 12); // client GUID
  dialects.forEach((d, i) => b.writeUInt16LE(d, 36 + 2 * i));
  return netbios(Buffer.concat([smb2Header(false, 0), b]));
}

export function smb2NegotiateRsp(rng: Prng, nowUs: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt16LE(65, 0);
  b.writeUInt16LE(1, 2); // signing enabled
  b.writeUInt16LE(0x0302, 4);
  rng.bytes(16).copy(b, 8); // server GUID
  b.writeUInt32LE(0x7, 24); // capabilities
  b.writeUInt32LE(65536, 28);
  b.writeUInt32LE(65536, 32);
  b.writeUInt32LE(65536, 36);
  const filetime = BigInt(Math.floor(nowUs)) * 10n + 116444736000000000n;
  b.writeBigUInt64LE(filetime, 40);
  b.writeUInt16LE(128, 56); // security buffer offset (64 + 64)
  b.writeUInt16LE(0, 58);
  return netbios(Buffer.concat([smb2Header(true, 0), b]));
}

/** TPKT + X.224 Connection Request with an RDP cookie and RDP_NEG_REQ (TLS | CredSSP). */
export function rdpConnectionRequest(user: string): Buffer {
  const cookie = Buffer.from(`Cookie: mstshash=${user}\r\n`, 'ascii');
  const neg = Buffer.from([0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
  const x224 = Buffer.concat([Buffer.from([6 + cookie.length + neg.length, 0xe0, 0, 0, 0, 0, 0]), cookie, neg]);
  const tpkt = Buffer.from([3, 0, 0, 0]);
  tpkt.writeUInt16BE(4 + x224.length, 2);
  return Buffer.concat([tpkt, x224]);
}

/** TPKT + X.224 Connection Confirm with RDP_NEG_RSP selecting CredSSP. */
export function rdpConnectionConfirm(): Buffer {
  const neg = Buffer.from([0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00]);
  const x224 = Buffer.concat([Buffer.from([6 + neg.length, 0xd0, 0, 0, 0x12, 0x34, 0]), neg]);
  const tpkt = Buffer.from([3, 0, 0, 0]);
  tpkt.writeUInt16BE(4 + x224.length, 2);
  return Buffer.concat([tpkt, x224]);
}
