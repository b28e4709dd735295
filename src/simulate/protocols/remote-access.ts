/**
 * Remote-access and file-sharing openings used by the attack injections: telnet login prompts, SSH identification
 * strings and KEXINIT, SMB2 NEGOTIATE request/response, RDP X.224 Connection Request/Confirm, WinRM (WS-Management
 * over HTTP) request/response, and the VNC (RFB 3.8) handshake.
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

const NTLM_FLAGS = 0xe2088297; // 56-bit, key exchange, 128-bit, version, target info, extended session security, NTLM, sign, seal, OEM, unicode, request target

/** NTLMSSP security-buffer fields: length, maximum length, offset. */
function secBuf(b: Buffer, at: number, len: number, offset: number): void {
  b.writeUInt16LE(len, at);
  b.writeUInt16LE(len, at + 2);
  b.writeUInt32LE(offset, at + 4);
}

function ntlmHeader(type: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.write('NTLMSSP\0', 0, 'ascii');
  b.writeUInt32LE(type, 8);
  return b;
}

/** Version field: Windows 10.0 build 19041, NTLM revision 15. */
function ntlmVersion(b: Buffer, at: number): void {
  b[at] = 10;
  b[at + 1] = 0;
  b.writeUInt16LE(19041, at + 2);
  b[at + 7] = 15;
}

/** AV_PAIR list (MS-NLMP 2.2.2.1): NetBIOS domain and computer names, then MsvAvEOL. */
function avPairs(domain: string, computer: string): Buffer {
  const pair = (id: number, text: string): Buffer => {
    const v = Buffer.from(text, 'utf16le');
    const h = Buffer.alloc(4);
    h.writeUInt16LE(id, 0);
    h.writeUInt16LE(v.length, 2);
    return Buffer.concat([h, v]);
  };
  return Buffer.concat([pair(2, domain), pair(1, computer), Buffer.alloc(4)]);
}

/** NTLMSSP NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), no domain or workstation supplied. */
export function ntlmNegotiate(): Buffer {
  const b = ntlmHeader(1, 40);
  b.writeUInt32LE(NTLM_FLAGS, 12);
  secBuf(b, 16, 0, 40);
  secBuf(b, 24, 0, 40);
  ntlmVersion(b, 32);
  return b;
}

/** NTLMSSP CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) from `computer` in `domain`. */
export function ntlmChallenge(rng: Prng, domain: string, computer: string): Buffer {
  const target = Buffer.from(domain, 'utf16le');
  const info = avPairs(domain, computer);
  const b = ntlmHeader(2, 56);
  secBuf(b, 12, target.length, 56);
  b.writeUInt32LE(NTLM_FLAGS, 20);
  rng.bytes(8).copy(b, 24); // server challenge
  secBuf(b, 40, info.length, 56 + target.length);
  ntlmVersion(b, 48);
  return Buffer.concat([b, target, info]);
}

/** NTLMSSP AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) with an NTLMv2 response; `tUs` is the client's clock. */
export function ntlmAuthenticate(rng: Prng, domain: string, user: string, workstation: string, server: string, tUs: number): Buffer {
  const blob = Buffer.alloc(28);
  blob[0] = 1;
  blob[1] = 1;
  blob.writeBigUInt64LE(BigInt(Math.floor(tUs)) * 10n + 116444736000000000n, 8);
  rng.bytes(8).copy(blob, 16); // client challenge
  const nt = Buffer.concat([rng.bytes(16), blob, avPairs(domain, server), Buffer.alloc(4)]);
  const lm = Buffer.alloc(24);
  const dom = Buffer.from(domain, 'utf16le');
  const usr = Buffer.from(user, 'utf16le');
  const ws = Buffer.from(workstation, 'utf16le');
  const key = rng.bytes(16);
  const b = ntlmHeader(3, 88);
  let off = 88;
  for (const [at, part] of [
    [12, lm],
    [20, nt],
    [28, dom],
    [36, usr],
    [44, ws],
    [52, key],
  ] as const) {
    secBuf(b, at, part.length, off);
    off += part.length;
  }
  b.writeUInt32LE(NTLM_FLAGS, 60);
  ntlmVersion(b, 64);
  rng.bytes(16).copy(b, 72); // MIC
  return Buffer.concat([b, lm, nt, dom, usr, ws, key]);
}

/**
 * WinRM (WS-Management over HTTP, 5985): a POST to /wsman authenticating with Negotiate. Without `encrypted` it is
 * the first leg (empty body); with it, the message is sent SPNEGO-encrypted as WinRM does over plain HTTP.
 */
export function winrmRequest(host: string, token: Buffer, encrypted?: Buffer): Buffer {
  const head = [
    'POST /wsman HTTP/1.1',
    'Connection: Keep-Alive',
    ...(encrypted ? ['Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'] : []),
    `Authorization: Negotiate ${token.toString('base64')}`,
    'User-Agent: Microsoft WinRM Client',
    `Content-Length: ${encrypted?.length ?? 0}`,
    `Host: ${host}:5985`,
    '',
    '',
  ].join('\r\n');
  return encrypted ? Buffer.concat([Buffer.from(head, 'ascii'), encrypted]) : Buffer.from(head, 'ascii');
}

/** WinRM's answer: 401 with the server's Negotiate challenge, or 200 with an encrypted body. */
export function winrmResponse(challenge: Buffer | undefined, encrypted?: Buffer): Buffer {
  const head = challenge
    ? ['HTTP/1.1 401 ', `WWW-Authenticate: Negotiate ${challenge.toString('base64')}`, 'Server: Microsoft-HTTPAPI/2.0', 'Content-Length: 0', '', '']
    : [
        'HTTP/1.1 200 ',
        'Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"',
        'Server: Microsoft-HTTPAPI/2.0',
        `Content-Length: ${encrypted?.length ?? 0}`,
        '',
        '',
      ];
  return Buffer.concat([Buffer.from(head.join('\r\n'), 'ascii'), encrypted ?? Buffer.alloc(0)]);
}

/** RFB protocol version string, sent by the server first, then echoed by the client. */
export const RFB_VERSION = Buffer.from('RFB 003.008\n', 'ascii');

/** RFB 3.8 security types offered by the server: VNC authentication (2). */
export const RFB_SECURITY_TYPES = Buffer.from([1, 2]);

/** The client's choice of security type (VNC authentication). */
export const RFB_SECURITY_CHOICE = Buffer.from([2]);

/** SecurityResult OK. */
export const RFB_SECURITY_OK = Buffer.from([0, 0, 0, 0]);

/** ClientInit with the shared-desktop flag set. */
export const RFB_CLIENT_INIT = Buffer.from([1]);

/** ServerInit: framebuffer size, a 32-bit true-colour pixel format, and the desktop name. */
export function rfbServerInit(width: number, height: number, name: string): Buffer {
  const n = Buffer.from(name, 'ascii');
  const b = Buffer.alloc(24 + n.length);
  b.writeUInt16BE(width, 0);
  b.writeUInt16BE(height, 2);
  // PIXEL_FORMAT: 32 bpp, depth 24, little-endian, true colour, max 255 per channel, shifts 16/8/0.
  b[4] = 32;
  b[5] = 24;
  b[6] = 0;
  b[7] = 1;
  b.writeUInt16BE(255, 8);
  b.writeUInt16BE(255, 10);
  b.writeUInt16BE(255, 12);
  b[14] = 16;
  b[15] = 8;
  b[16] = 0;
  b.writeUInt32BE(n.length, 20);
  n.copy(b, 24);
  return b;
}
