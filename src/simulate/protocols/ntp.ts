/** NTPv4 (RFC 5905) client request (mode 3) and server response (mode 4), 48 bytes each. */
const NTP_EPOCH_OFFSET = 2208988800;

function writeTimestamp(b: Buffer, off: number, tUs: number): void {
  const sec = Math.floor(tUs / 1e6);
  const frac = Math.floor(((tUs - sec * 1e6) / 1e6) * 4294967296);
  b.writeUInt32BE((sec + NTP_EPOCH_OFFSET) >>> 0, off);
  b.writeUInt32BE(frac >>> 0, off + 4);
}

export function ntpRequest(tUs: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (4 << 3) | 3; // LI 0, VN 4, mode 3
  b[2] = 6; // poll 2^6
  b[3] = 0xe9; // precision
  writeTimestamp(b, 40, tUs); // transmit
  return b;
}

export function ntpResponse(requestTxUs: number, rxUs: number, txUs: number, refId: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (4 << 3) | 4;
  b[1] = 2; // stratum 2
  b[2] = 6;
  b[3] = 0xe9;
  b.writeUInt32BE(0x00000200, 4); // root delay
  b.writeUInt32BE(0x00000400, 8); // root dispersion
  b.writeUInt32BE(refId >>> 0, 12);
  writeTimestamp(b, 16, rxUs - 30_000_000); // reference
  writeTimestamp(b, 24, requestTxUs); // origin
  writeTimestamp(b, 32, rxUs); // receive
  writeTimestamp(b, 40, txUs); // transmit
  return b;
}
