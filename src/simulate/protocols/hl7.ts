/**
 * HL7 v2.5 messages framed by MLLP (VT … FS CR): ORU^R01 observation results from patient monitors and lab analysers,
 * and the ACK^R01 application acknowledgement. Patient data are SYNTHETIC and obviously fake (name
 * `SYNTHETIC^TEST-PATIENT-nnn`, MRN `SIM-nnnnnn`, birth date 19000101): the simulator never carries real PHI.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

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
    `MSH|^~\\&|${o.sendingApp}|${o.sendingFacility}|${o.receivingApp}|WARDWATCH-SIM-HOSP|${ts}||ORU^R01^ORU_R01|${o.controlId}|P|2.5`,
    `PID|1||SIM-${pn}^^^SIMHOSP^MR||SYNTHETIC^TEST-PATIENT-${pn}||19000101|U`,
    `OBR|1|||${o.service}|||${ts}`,
    ...o.observations.map((x, i) => `OBX|${i + 1}|NM|${x.id}||${x.value}|${x.units}|||||F|||${ts}`),
  ];
  return seg.join('\r') + '\r';
}

export function ackR01(receivingApp: string, sendingApp: string, controlId: string, tUs: number, ackId: string): string {
  const ts = hl7Time(tUs);
  return [`MSH|^~\\&|${receivingApp}|WARDWATCH-SIM-HOSP|${sendingApp}||${ts}||ACK^R01^ACK|${ackId}|P|2.5`, `MSA|AA|${controlId}`].join('\r') + '\r';
}
