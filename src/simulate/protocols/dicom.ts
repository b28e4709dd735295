/**
 * DICOM upper layer (PS3.8) and DIMSE (PS3.7) messages, implicit VR little endian: A-ASSOCIATE-RQ/AC, P-DATA-TF
 * carrying C-STORE and C-FIND requests/responses, A-RELEASE-RQ/RP. Data sets carry SYNTHETIC patient fields
 * (`SYNTHETIC^TEST-PATIENT-nnn`, `SIM-nnnnnn`) and random pixel bytes.
 */
export const UID_APP_CONTEXT = '1.2.840.10008.3.1.1.1';
export const UID_IMPLICIT_LE = '1.2.840.10008.1.2';
export const UID_VERIFICATION = '1.2.840.10008.1.1';
export const UID_CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const UID_MR_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const UID_DX_STORAGE = '1.2.840.10008.5.1.4.1.1.1.1';
export const UID_STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const UID_MWL_FIND = '1.2.840.10008.5.1.4.31';

/** A DICOM implementation: class UID and version name, sent in the user information of A-ASSOCIATE-RQ/AC. */
export interface DicomImplementation {
  class_uid: string;
  version: string;
}

/** The implementation every simulated modality, workstation and PACS announces. */
export const SIM_IMPLEMENTATION: DicomImplementation = { class_uid: '1.2.826.0.1.3680043.10.1234.1', version: 'WARDWATCH_SIM' };

/** Max PDU length each side announces. */
export const MAX_PDU = 16384;

function pad(text: string, len: number): Buffer {
  const b = Buffer.alloc(len, 0x20);
  b.write(text.slice(0, len), 0, 'ascii');
  return b;
}

/** UID bytes padded to even length with NUL. */
function uidBytes(uid: string): Buffer {
  const b = Buffer.from(uid, 'ascii');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([0])]);
}

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function userInfo(impl: DicomImplementation): Buffer {
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(MAX_PDU, 0);
  return item(0x50, Buffer.concat([item(0x51, maxLen), item(0x52, Buffer.from(impl.class_uid)), item(0x55, Buffer.from(impl.version))]));
}

function assocHeader(called: string, calling: string): Buffer {
  const h = Buffer.alloc(68);
  h.writeUInt16BE(1, 0);
  pad(called, 16).copy(h, 4);
  pad(calling, 16).copy(h, 20);
  return h;
}

/** A-ASSOCIATE-RQ proposing each abstract syntax (presentation context ids 1, 3, 5, ...) with implicit VR LE. */
export function associateRq(called: string, calling: string, abstractSyntaxes: string[], impl = SIM_IMPLEMENTATION): Buffer {
  const pcs = abstractSyntaxes.map((as, i) =>
    item(0x20, Buffer.concat([Buffer.from([2 * i + 1, 0, 0, 0]), item(0x30, Buffer.from(as)), item(0x40, Buffer.from(UID_IMPLICIT_LE))])),
  );
  return pdu(0x01, Buffer.concat([assocHeader(called, calling), item(0x10, Buffer.from(UID_APP_CONTEXT)), ...pcs, userInfo(impl)]));
}

/** A-ASSOCIATE-AC accepting every proposed context. */
export function associateAc(called: string, calling: string, contexts: number): Buffer {
  const pcs: Buffer[] = [];
  for (let i = 0; i < contexts; i++) pcs.push(item(0x21, Buffer.concat([Buffer.from([2 * i + 1, 0, 0, 0]), item(0x40, Buffer.from(UID_IMPLICIT_LE))])));
  return pdu(0x02, Buffer.concat([assocHeader(called, calling), item(0x10, Buffer.from(UID_APP_CONTEXT)), ...pcs, userInfo(SIM_IMPLEMENTATION)]));
}

export function releaseRq(): Buffer {
  return pdu(0x05, Buffer.alloc(4));
}

export function releaseRp(): Buffer {
  return pdu(0x06, Buffer.alloc(4));
}

/** Implicit VR LE element. */
function el(group: number, element: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
}

function str(text: string): Buffer {
  const b = Buffer.from(text, 'ascii');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from(' ')]);
}

/** Command set (group 0000) with its group length first. */
function command(elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([el(0x0000, 0x0000, len), body]);
}

export function cStoreRq(messageId: number, sopClass: string, sopInstance: string): Buffer {
  return command([
    el(0x0000, 0x0002, uidBytes(sopClass)),
    el(0x0000, 0x0100, us(0x0001)),
    el(0x0000, 0x0110, us(messageId)),
    el(0x0000, 0x0700, us(0)),
    el(0x0000, 0x0800, us(0x0000)),
    el(0x0000, 0x1000, uidBytes(sopInstance)),
  ]);
}

export function cStoreRsp(messageId: number, sopClass: string, sopInstance: string): Buffer {
  return command([
    el(0x0000, 0x0002, uidBytes(sopClass)),
    el(0x0000, 0x0100, us(0x8001)),
    el(0x0000, 0x0120, us(messageId)),
    el(0x0000, 0x0800, us(0x0101)),
    el(0x0000, 0x0900, us(0x0000)),
    el(0x0000, 0x1000, uidBytes(sopInstance)),
  ]);
}

export function cFindRq(messageId: number, sopClass: string): Buffer {
  return command([
    el(0x0000, 0x0002, uidBytes(sopClass)),
    el(0x0000, 0x0100, us(0x0020)),
    el(0x0000, 0x0110, us(messageId)),
    el(0x0000, 0x0700, us(0)),
    el(0x0000, 0x0800, us(0x0000)),
  ]);
}

/** C-FIND-RSP: `pending` (0xFF00, identifier follows) or final success (0x0000, no data set). */
export function cFindRsp(messageId: number, sopClass: string, pending: boolean): Buffer {
  return command([
    el(0x0000, 0x0002, uidBytes(sopClass)),
    el(0x0000, 0x0100, us(0x8020)),
    el(0x0000, 0x0120, us(messageId)),
    el(0x0000, 0x0800, us(pending ? 0x0000 : 0x0101)),
    el(0x0000, 0x0900, us(pending ? 0xff00 : 0x0000)),
  ]);
}

export interface ImageFields {
  sopClass: string;
  sopInstance: string;
  studyUid: string;
  seriesUid: string;
  modality: string;
  patient: number;
  pixels: Buffer;
}

/** An image data set (implicit VR LE), elements in ascending tag order. */
export function imageDataset(f: ImageFields): Buffer {
  const pn = String(f.patient).padStart(6, '0');
  return Buffer.concat([
    el(0x0008, 0x0016, uidBytes(f.sopClass)),
    el(0x0008, 0x0018, uidBytes(f.sopInstance)),
    el(0x0008, 0x0060, str(f.modality)),
    el(0x0010, 0x0010, str(`SYNTHETIC^TEST-PATIENT-${pn}`)),
    el(0x0010, 0x0020, str(`SIM-${pn}`)),
    el(0x0020, 0x000d, uidBytes(f.studyUid)),
    el(0x0020, 0x000e, uidBytes(f.seriesUid)),
    el(0x7fe0, 0x0010, f.pixels.length % 2 === 0 ? f.pixels : Buffer.concat([f.pixels, Buffer.alloc(1)])),
  ]);
}

/** A query identifier / matching result: patient and study keys. */
export function findIdentifier(patient: number, studyUid: string, level: string): Buffer {
  const pn = String(patient).padStart(6, '0');
  return Buffer.concat([
    el(0x0008, 0x0052, str(level)),
    el(0x0010, 0x0010, str(patient > 0 ? `SYNTHETIC^TEST-PATIENT-${pn}` : '')),
    el(0x0010, 0x0020, str(patient > 0 ? `SIM-${pn}` : '')),
    el(0x0020, 0x000d, studyUid ? uidBytes(studyUid) : Buffer.alloc(0)),
  ]);
}

/**
 * P-DATA-TF PDUs carrying one message part (command or data set) on presentation context `pcId`, fragmented so
 * that no PDU exceeds MAX_PDU. The last fragment has the "last" bit set.
 */
export function pData(pcId: number, isCommand: boolean, data: Buffer): Buffer[] {
  const maxFrag = MAX_PDU - 6 - 6;
  const out: Buffer[] = [];
  for (let off = 0; off < data.length || off === 0; off += maxFrag) {
    const frag = data.subarray(off, Math.min(data.length, off + maxFrag));
    const last = off + maxFrag >= data.length;
    const pdv = Buffer.alloc(6);
    pdv.writeUInt32BE(frag.length + 2, 0);
    pdv[4] = pcId;
    pdv[5] = (isCommand ? 1 : 0) | (last ? 2 : 0);
    out.push(pdu(0x04, Buffer.concat([pdv, frag])));
    if (data.length === 0) break;
  }
  return out;
}
