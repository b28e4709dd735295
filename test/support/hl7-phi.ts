/**
 * HL7 v2 messages full of (fictitious) patient data — names, MRN, SSN, birth date, address, phone, next of kin,
 * clinician, observation results — around the few fields wardwatch may keep, and a capture of them: the input of the
 * tests that prove no patient byte reaches any output. Every PHI value is a distinctive token (`PHI_TOKENS`) that
 * cannot occur in an output by chance, so a test may search every output for each of them.
 */
import { encodePcap, type FrameToWrite } from '../../src/capture/pcap-file/writer.js';
import { LinkType, TcpFlag } from '../../src/records/packet.js';
import * as B from './packet-builder.js';

/** The patient, next-of-kin, clinician and result values in the messages (none may reach an output). */
export const PHI_TOKENS = [
  'QUIXOTEZ', // patient family name
  'ALONSOQ', // given name
  'MRN84512977', // medical record number
  '987-65-4329', // SSN
  '19470316', // birth date
  'CALLE CERVANTESX 17', // address
  '555-010-4477', // phone
  'ROCINANTE@EXAMPLE.INVALID', // e-mail
  'PANZAZ', // next of kin
  'SANCHOQ',
  'DULCINEAZ', // clinician in PRT-5 / OBR-16
  'HIV-1 RNA DETECTEDX', // a result (OBX-5)
  '187.4321', // a numeric result
  'GLUCOSEQ', // observation identifier text (OBX-3)
  'NOTE: PATIENT REPORTS DIZZINESSQ', // NTE comment
] as const;

/** What wardwatch may keep of them. */
export const IDENTITY = {
  sendingApp: 'ALARIS_GW^1.3.6.1.4.1.99^ISO',
  sendingFacility: 'ICU-EAST',
  receivingApp: 'EMR_HL7',
  receivingFacility: 'GENHOSP',
  version: '2.6',
  obx18: 'PUMP-03^ALARIS8015^ACME',
  prt10: '(01)00643169007222(17)290101(10)LOT77(21)SN8833',
  prt16: '00643169007222',
} as const;

/** An ORU^R01 (or other type) whose PID, NK1, OBR, OBX, PRT and NTE segments carry every PHI token. */
export function phiMessage(type = 'ORU^R01^ORU_R01', controlId = 'MSG00001', withPrt = true): string {
  const I = IDENTITY;
  return [
    `MSH|^~\\&|${I.sendingApp}|${I.sendingFacility}|${I.receivingApp}|${I.receivingFacility}|20260105090000||${type}|${controlId}|P|${I.version}`,
    `PID|1||MRN84512977^^^GENHOSP^MR~987-65-4329^^^SSA^SS||QUIXOTEZ^ALONSOQ^Q||19470316|M|||CALLE CERVANTESX 17^^LA MANCHA^^28001||555-010-4477^^^ROCINANTE@EXAMPLE.INVALID`,
    `NK1|1|PANZAZ^SANCHOQ|FND^Friend|CALLE CERVANTESX 17|555-010-4477`,
    `PV1|1|I|ICU^12^A`,
    `OBR|1|||2345-7^GLUCOSEQ^LN|||20260105085500|||||||||DULCINEAZ^DR`,
    `OBX|1|ST|2345-7^GLUCOSEQ^LN||HIV-1 RNA DETECTEDX|mg/dL|70-99|H|||F|||20260105085900||DULCINEAZ||${I.obx18}`,
    `OBX|2|NM|2345-7^GLUCOSEQ^LN||187.4321|mg/dL|70-99|H|||F`,
    ...(withPrt ? [`PRT|1|AD||OP^Operator|DULCINEAZ^DR|||||${I.prt10}||||||${I.prt16}`] : []),
    `NTE|1||NOTE: PATIENT REPORTS DIZZINESSQ`,
  ].join('\r') + '\r';
}

export function mllp(message: string): Buffer {
  return Buffer.concat([Buffer.from([0x0b]), Buffer.from(message, 'latin1'), Buffer.from([0x1c, 0x0d])]);
}

export const PUMP = { mac: 0x020000101013, ip: '10.20.10.13', port: 49321 };
export const ENGINE = { mac: 0x020000010120, ip: '10.20.1.20', port: 2575 };

/**
 * A capture (classic pcap, Ethernet) of a pump sending `messages` PHI-laden HL7 messages to an interface engine over
 * one MLLP session, one every 10 s from `t0` (seconds), each acknowledged; ORU^R01 except every fourth, an ADT^A08.
 */
export function phiCapture(t0: number, messages = 12): Buffer {
  const frames: FrameToWrite[] = [];
  let t = t0;
  let cSeq = 1000;
  let sSeq = 5000;
  const push = (fromPump: boolean, flags: number, payload: Buffer = Buffer.alloc(0)): void => {
    const [s, d] = fromPump ? [PUMP, ENGINE] : [ENGINE, PUMP];
    const seq = fromPump ? cSeq : sSeq;
    const ack = fromPump ? sSeq : cSeq;
    const seg = B.tcp({ sport: s.port, dport: d.port, flags, seq, ack: flags & TcpFlag.ACK ? ack : 0, payload });
    frames.push({ ts_sec: Math.floor(t), ts_nsec: Math.round((t % 1) * 1e9), data: B.eth(d.mac, s.mac, 0x0800, B.ipv4({ src: s.ip, dst: d.ip, proto: 6, payload: seg })) });
    const len = payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
    if (fromPump) cSeq += len;
    else sSeq += len;
    t += 0.001;
  };
  push(true, TcpFlag.SYN);
  push(false, TcpFlag.SYN | TcpFlag.ACK);
  push(true, TcpFlag.ACK);
  for (let i = 0; i < messages; i++) {
    const type = i % 4 === 3 ? 'ADT^A08^ADT_A01' : 'ORU^R01^ORU_R01';
    push(true, TcpFlag.PSH | TcpFlag.ACK, mllp(phiMessage(type, `MSG${String(i).padStart(5, '0')}`)));
    push(false, TcpFlag.PSH | TcpFlag.ACK, mllp(`MSH|^~\\&|EMR_HL7|GENHOSP|ALARIS_GW|ICU-EAST|20260105090000||ACK^R01^ACK|ACK${i}|P|2.6\rMSA|AA|MSG${String(i).padStart(5, '0')}\r`));
    push(true, TcpFlag.ACK);
    t += 10;
  }
  push(true, TcpFlag.FIN | TcpFlag.ACK);
  push(false, TcpFlag.FIN | TcpFlag.ACK);
  push(true, TcpFlag.ACK);
  return encodePcap(frames, { linktype: LinkType.ETHERNET });
}
