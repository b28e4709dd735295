/** DNS (RFC 1035) queries and responses over UDP 53: A, AAAA and TXT questions; A/TXT answers or NXDOMAIN. */
export const QTYPE_A = 1;
export const QTYPE_TXT = 16;
export const QTYPE_AAAA = 28;

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.')) {
    if (label.length === 0) continue;
    const b = Buffer.from(label, 'ascii');
    if (b.length > 63) throw new RangeError(`DNS label longer than 63: ${label}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function dnsQuery(id: number, name: string, qtype: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

export interface DnsAnswer {
  /** IPv4 for A answers. */
  a?: number;
  /** Text for TXT answers (≤ 255 bytes). */
  txt?: string;
  ttl: number;
}

/** Response to `dnsQuery(id, name, qtype)`: answers (pointer to the question name) or NXDOMAIN when none. */
export function dnsResponse(id: number, name: string, qtype: number, answers: DnsAnswer[], nxdomain = false): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(0x8180 | (nxdomain ? 3 : 0), 2); // QR RD RA
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(nxdomain ? 0 : answers.length, 6);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  const parts = [h, encodeName(name), q];
  if (!nxdomain) {
    for (const a of answers) {
      let rdata: Buffer;
      let type: number;
      if (a.txt !== undefined) {
        const t = Buffer.from(a.txt, 'ascii');
        rdata = Buffer.concat([Buffer.from([t.length]), t]);
        type = QTYPE_TXT;
      } else {
        rdata = Buffer.alloc(4);
        rdata.writeUInt32BE((a.a ?? 0) >>> 0, 0);
        type = QTYPE_A;
      }
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(a.ttl, 6);
      rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
  }
  return Buffer.concat(parts);
}
