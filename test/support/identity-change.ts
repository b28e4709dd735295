/**
 * A crafted capture (the repo's pcap writer) of a small ward whose medical identities are stable for a while and then
 * change (issue 23 item 2, feature `identity_changes`):
 *  - an infusion pump sends HL7 ORU^R01 (MSH-3 `PUMP-03`, OBX-18 equipment id) to the interface engine every 10 s over
 *    one MLLP session, each acknowledged; from `pumpChangeS` on, every tenth message is an ADT^A01 instead — a message
 *    type it never sent;
 *  - a CT opens a DICOM association (A-ASSOCIATE-RQ calling `CT01`, CT Image Storage) to the PACS every 30 s; from
 *    `ctChangeS` on it calls from the AE title `CT_ROGUE`;
 *  - a patient monitor sends ORU^R01 (MSH-3 `MON-01`) every 10 s throughout: the stable device.
 * Every exchange is answered (the devices are confirmed at once), so the class guesses are infusion pump, imaging,
 * patient monitor, pacs and server (the engine). The MLLP sessions stay open at the end (a capture stops, the ward
 * goes on). Deterministic: the same arguments give the same bytes.
 */
import { encodePcap, type FrameToWrite } from '../../src/capture/pcap-file/writer.js';
import { LinkType, TcpFlag } from '../../src/records/packet.js';
import { associateAc, associateRq, releaseRp, releaseRq, UID_CT_STORAGE } from '../../src/simulate/protocols/dicom.js';
import * as B from './packet-builder.js';

interface Host {
  mac: number;
  ip: string;
}

export const WARD = {
  pump: { mac: 0x020000101013, ip: '10.20.10.13' },
  monitor: { mac: 0x020000101021, ip: '10.20.10.21' },
  ct: { mac: 0x020000103005, ip: '10.20.30.5' },
  pacs: { mac: 0x020000103010, ip: '10.20.30.10' },
  engine: { mac: 0x020000010120, ip: '10.20.1.20' },
} as const satisfies Record<string, Host>;

/** Device ids of the ward's hosts (keyed by MAC). */
export const WARD_IDS = Object.fromEntries(
  Object.entries(WARD).map(([k, h]) => [
    k,
    `mac:${h.mac
      .toString(16)
      .padStart(12, '0')
      .match(/../g)!
      .join(':')}`,
  ]),
) as Record<keyof typeof WARD, string>;

export const PUMP_EQUIPMENT = 'PUMP-03^ALARIS8015^ACME';

/** An HL7 message: MSH with the given sending application and type, an OBX carrying OBX-18 when `equipment` is given. */
export function plainHl7(app: string, type: string, controlId: string, equipment?: string): string {
  return [
    `MSH|^~\\&|${app}|ICU|HL7ENGINE|HOSP|20260105090000||${type}|${controlId}|P|2.5`,
    `OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F${equipment !== undefined ? `|||20260105085900||||${equipment}` : ''}`,
  ].join('\r') + '\r';
}

function mllp(message: string): Buffer {
  return Buffer.concat([Buffer.from([0x0b]), Buffer.from(message, 'latin1'), Buffer.from([0x1c, 0x0d])]);
}

/** One TCP connection's frames (client → server), sequence numbers kept; time in seconds. */
class Tcp {
  private cSeq = 1000;
  private sSeq = 50_000;
  constructor(
    private readonly frames: FrameToWrite[],
    private readonly client: Host,
    private readonly server: Host,
    private readonly cport: number,
    private readonly sport: number,
    public t: number,
  ) {}

  private push(fromClient: boolean, flags: number, payload: Buffer = Buffer.alloc(0)): void {
    const [s, d, sp, dp] = fromClient ? [this.client, this.server, this.cport, this.sport] : [this.server, this.client, this.sport, this.cport];
    const seq = fromClient ? this.cSeq : this.sSeq;
    const ack = fromClient ? this.sSeq : this.cSeq;
    const seg = B.tcp({ sport: sp, dport: dp, flags, seq, ack: flags & TcpFlag.ACK ? ack : 0, payload });
    const us = Math.round(this.t * 1e6);
    this.frames.push({ ts_sec: Math.floor(us / 1e6), ts_nsec: (us % 1e6) * 1000, data: B.eth(d.mac, s.mac, 0x0800, B.ipv4({ src: s.ip, dst: d.ip, proto: 6, payload: seg })) });
    const len = payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
    if (fromClient) this.cSeq += len;
    else this.sSeq += len;
    this.t += 0.002;
  }

  open(): this {
    this.push(true, TcpFlag.SYN);
    this.push(false, TcpFlag.SYN | TcpFlag.ACK);
    this.push(true, TcpFlag.ACK);
    return this;
  }

  /** `request` from the client, `answer` from the server, the client's ACK. */
  exchange(request: Buffer, answer: Buffer): this {
    this.push(true, TcpFlag.PSH | TcpFlag.ACK, request);
    this.push(false, TcpFlag.PSH | TcpFlag.ACK, answer);
    this.push(true, TcpFlag.ACK);
    return this;
  }

  close(): void {
    this.push(true, TcpFlag.FIN | TcpFlag.ACK);
    this.push(false, TcpFlag.FIN | TcpFlag.ACK);
    this.push(true, TcpFlag.ACK);
  }
}

export interface IdentityWardOptions {
  /** First packet time (seconds since the epoch). */
  t0: number;
  durationS: number;
  /** Seconds after t0 from which the pump also sends ADT^A01 (every tenth message); Infinity: never. */
  pumpChangeS: number;
  /** Seconds after t0 from which the CT calls from AE title CT_ROGUE; Infinity: never. */
  ctChangeS: number;
  /**
   * The pump's i-th message (sent at `t`): its HL7 text. Default: `plainHl7('PUMP-03', type, …, PUMP_EQUIPMENT)` with
   * type ORU^R01^ORU_R01, or ADT^A01^ADT_A01 for every tenth message from `pumpChangeS`.
   */
  pumpMessage?: (i: number, changed: boolean) => string;
}

/** The capture (classic pcap, Ethernet), frames in time order. */
export function identityWardCapture(o: IdentityWardOptions): Buffer {
  const frames: FrameToWrite[] = [];
  const end = o.t0 + o.durationS;
  const pumpMessage =
    o.pumpMessage ?? ((i: number, changed: boolean) => plainHl7('PUMP-03', changed && i % 10 === 0 ? 'ADT^A01^ADT_A01' : 'ORU^R01^ORU_R01', `P${i}`, PUMP_EQUIPMENT));
  const ack = (i: number, to: string) => mllp(`MSH|^~\\&|HL7ENGINE|HOSP|${to}|ICU|20260105090000||ACK^R01^ACK|A${i}|P|2.5\rMSA|AA|${i}\r`);

  // The pump and the monitor: one MLLP session each, a message every 10 s.
  const pump = new Tcp(frames, WARD.pump, WARD.engine, 49321, 2575, o.t0 + 0.5).open();
  for (let i = 0; pump.t + 10 < end; i++) {
    pump.exchange(mllp(pumpMessage(i, pump.t >= o.t0 + o.pumpChangeS)), ack(i, 'PUMP-03'));
    pump.t = o.t0 + 0.5 + (i + 1) * 10;
  }
  const monitor = new Tcp(frames, WARD.monitor, WARD.engine, 49400, 2575, o.t0 + 3.1).open();
  for (let i = 0; monitor.t + 10 < end; i++) {
    monitor.exchange(mllp(plainHl7('MON-01', 'ORU^R01^ORU_R01', `M${i}`)), ack(i, 'MON-01'));
    monitor.t = o.t0 + 3.1 + (i + 1) * 10;
  }

  // The CT: an association to the PACS every 30 s, a new connection each.
  for (let i = 0, t = o.t0 + 5.3; t + 30 < end; i++, t += 30) {
    const calling = t >= o.t0 + o.ctChangeS ? 'CT_ROGUE' : 'CT01';
    const c = new Tcp(frames, WARD.ct, WARD.pacs, 40000 + (i % 20000), 104, t).open();
    c.exchange(associateRq('PACS01', calling, [UID_CT_STORAGE]), associateAc('PACS01', calling, 1));
    c.exchange(releaseRq(), releaseRp());
    c.close();
  }

  frames.sort((a, b) => a.ts_sec - b.ts_sec || a.ts_nsec - b.ts_nsec);
  return encodePcap(frames, { linktype: LinkType.ETHERNET });
}
