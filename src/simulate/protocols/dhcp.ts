/**
 * DHCP (RFC 2131/2132) messages as a client and a server exchange them: DISCOVER/OFFER/REQUEST/ACK at start-up,
 * REQUEST/ACK on renewal. The client sends option 12 (host name), 60 (vendor class) and, in REQUEST, 50 (requested
 * address) and 54 (server identifier).
 */
export const DHCP_DISCOVER = 1;
export const DHCP_OFFER = 2;
export const DHCP_REQUEST = 3;
export const DHCP_ACK = 5;
/** Option 55 (parameter request list) of every simulated client: subnet mask, router, DNS, domain, NTP, lease time. */
export const DHCP_PARAMETER_REQUEST_LIST: readonly number[] = [1, 3, 6, 15, 42, 51];

export interface DhcpMessage {
  op: 1 | 2;
  xid: number;
  /** Client hardware address. */
  chaddr: Buffer;
  ciaddr?: number;
  yiaddr?: number;
  siaddr?: number;
  broadcast?: boolean;
  secs?: number;
  msgType: number;
  hostname?: string;
  vendorClass?: string;
  requestedIp?: number;
  serverId?: number;
  leaseSecs?: number;
  subnetMask?: number;
  router?: number;
  dns?: number;
  ntp?: number;
  domain?: string;
}

function ipOpt(code: number, ip: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = code;
  b[1] = 4;
  b.writeUInt32BE(ip >>> 0, 2);
  return b;
}

function textOpt(code: number, text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from([code, body.length]), body]);
}

export function dhcpMessage(m: DhcpMessage): Buffer {
  const fixed = Buffer.alloc(240);
  fixed[0] = m.op;
  fixed[1] = 1; // Ethernet
  fixed[2] = 6;
  fixed[3] = 0;
  fixed.writeUInt32BE(m.xid >>> 0, 4);
  fixed.writeUInt16BE(m.secs ?? 0, 8);
  fixed.writeUInt16BE(m.broadcast ? 0x8000 : 0, 10);
  fixed.writeUInt32BE((m.ciaddr ?? 0) >>> 0, 12);
  fixed.writeUInt32BE((m.yiaddr ?? 0) >>> 0, 16);
  fixed.writeUInt32BE((m.siaddr ?? 0) >>> 0, 20);
  m.chaddr.copy(fixed, 28);
  fixed.writeUInt32BE(0x63825363, 236); // magic cookie
  const opts: Buffer[] = [Buffer.from([53, 1, m.msgType])];
  if (m.serverId !== undefined) opts.push(ipOpt(54, m.serverId));
  if (m.requestedIp !== undefined) opts.push(ipOpt(50, m.requestedIp));
  if (m.op === 1) {
    const cid = Buffer.alloc(9);
    cid[0] = 61;
    cid[1] = 7;
    cid[2] = 1;
    m.chaddr.copy(cid, 3);
    opts.push(cid);
    if (m.hostname) opts.push(textOpt(12, m.hostname));
    if (m.vendorClass) opts.push(textOpt(60, m.vendorClass));
    opts.push(Buffer.from([55, DHCP_PARAMETER_REQUEST_LIST.length, ...DHCP_PARAMETER_REQUEST_LIST]));
    opts.push(Buffer.from([57, 2, 0x05, 0xdc])); // max message size 1500
  } else {
    if (m.leaseSecs !== undefined) {
      const l = Buffer.alloc(6);
      l[0] = 51;
      l[1] = 4;
      l.writeUInt32BE(m.leaseSecs, 2);
      opts.push(l);
    }
    if (m.subnetMask !== undefined) opts.push(ipOpt(1, m.subnetMask));
    if (m.router !== undefined) opts.push(ipOpt(3, m.router));
    if (m.dns !== undefined) opts.push(ipOpt(6, m.dns));
    if (m.domain) opts.push(textOpt(15, m.domain));
    if (m.ntp !== undefined) opts.push(ipOpt(42, m.ntp));
  }
  opts.push(Buffer.from([255]));
  const body = Buffer.concat([fixed, ...opts]);
  // Pad to the BOOTP minimum of 300 bytes, as most clients do.
  return body.length >= 300 ? body : Buffer.concat([body, Buffer.alloc(300 - body.length)]);
}
