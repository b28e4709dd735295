/**
 * HL7 v2.5 messages framed by MLLP (VT … FS CR): ORU^R01 observation results from patient monitors and lab analysers,
 * the ACK application acknowledgement, and the ADT messages of the `identity_spoof` attack. Patient data are SYNTHETIC
 * and obviously fake (name `SYNTHETIC^TEST-PATIENT-nnn`, MRN `SIM-nnnnnn`, birth date 19000101): the simulator never
 * carries real PHI.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** MSH-12 of every simulated message. */
export const HL7_VERSION = '2.5';
/** MSH-6 of the messages devices send to the hospital's systems (the interface engine, the LIS); MSH-4 of their ACKs. */
export const HL7_HOSPITAL_FACILITY = 'WARDWATCH-SIM-HOSP';
/** MSH-9 of an observation result and of its acknowledgement, as sent. */
export const ORU_R01 = 'ORU^R01^ORU_R01';
export const ACK_R01 = 'ACK^R01^ACK';

export function mllp(message: string): Buffer {
  const body = Buffer.from(message, 'ascii');
  const out = Buffer.alloc(body.length + 3);
  out[0] = VT;
  body.copy(out, 1);
  out[body.length + 1] = FS;
  out[body.length + 2] = CR;
  return out;
}

/** HL7 DTM YYYYMMDDHHMMSS (UTC) for a time in µs. */
export function hl7Time(tUs: number): string {
  return new Date(Math.floor(tUs / 1000)).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export interface Observation {
  /** LOINC-style code and text, e.g. `8867-4^Heart rate^LN`. */
  id: string;
  value: string;
  units: string;
}

export interface OruOptions {
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  controlId: string;
  tUs: number;
  /** Synthetic patient number; rendered as SIM-nnnnnn. */
  patient: number;
  observations: Observation[];
  /** Universal service id for OBR-4. */
  service: string;
}

export function oruR01(o: OruOptions): string {
  const ts = hl7Time(o.tUs);
  const pn = String(o.patient).padStart(6, '0');
  const seg = [
    `MSH|^~\\&|${o.sendingApp}|${o.sendingFacility}|${o.receivingApp}|${HL7_HOSPITAL_FACILITY}|${ts}||${ORU_R01}|${o.controlId}|P|${HL7_VERSION}`,
    `PID|1||SIM-${pn}^^^SIMHOSP^MR||SYNTHETIC^TEST-PATIENT-${pn}||19000101|U`,
    `OBR|1|||${o.service}|||${ts}`,
    ...o.observations.map((x, i) => `OBX|${i + 1}|NM|${x.id}||${x.value}|${x.units}|||||F|||${ts}`),
  ];
  return seg.join('\r') + '\r';
}

export function ackR01(receivingApp: string, sendingApp: string, controlId: string, tUs: number, ackId: string): string {
  return ack(receivingApp, sendingApp, ACK_R01, controlId, tUs, ackId);
}

/** An application acknowledgement (MSA AA) of MSH-9 type `type` (`ACK^R01^ACK`), from the receiving system. */
export function ack(receivingApp: string, sendingApp: string, type: string, controlId: string, tUs: number, ackId: string): string {
  const ts = hl7Time(tUs);
  return [`MSH|^~\\&|${receivingApp}|${HL7_HOSPITAL_FACILITY}|${sendingApp}||${ts}||${type}|${ackId}|P|${HL7_VERSION}`, `MSA|AA|${controlId}`].join('\r') + '\r';
}

/** MSH-9 of an ADT event as sent: A01 (admit) and A08 (update patient information) share the ADT_A01 structure. */
export function adtType(event: 'A01' | 'A04' | 'A08'): string {
  return `ADT^${event}^ADT_A01`;
}

export interface AdtOptions {
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  controlId: string;
  tUs: number;
  event: 'A01' | 'A04' | 'A08';
  /** Synthetic patient number; rendered as SIM-nnnnnn. */
  patient: number;
  /** PV1-3 assigned location, e.g. `WARD^12^1`. */
  location: string;
}

/** An ADT message (MSH, EVN, PID, PV1): a patient admitted (A01), registered (A04) or updated (A08). */
export function adt(o: AdtOptions): string {
  const ts = hl7Time(o.tUs);
  const pn = String(o.patient).padStart(6, '0');
  return (
    [
      `MSH|^~\\&|${o.sendingApp}|${o.sendingFacility}|${o.receivingApp}|${HL7_HOSPITAL_FACILITY}|${ts}||${adtType(o.event)}|${o.controlId}|P|${HL7_VERSION}`,
      `EVN|${o.event}|${ts}`,
      `PID|1||SIM-${pn}^^^SIMHOSP^MR||SYNTHETIC^TEST-PATIENT-${pn}||19000101|U`,
      `PV1|1|I|${o.location}`,
    ].join('\r') + '\r'
  );
}
