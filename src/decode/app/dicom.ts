/**
 * DICOM upper layer (PS3.8 §9.3). An A-ASSOCIATE-RQ/AC is identified by content on any port (PDU type 1/2, protocol
 * version 1, printable AE titles, first item an Application Context); other PDU types (3 A-ASSOCIATE-RJ, 4 P-DATA-TF,
 * 5/6 A-RELEASE, 7 A-ABORT) only on the DICOM ports 104 and 11112, where their 6-byte header must be consistent.
 * Reads the PDU type and the called/calling AE titles; never the data sets.
 */
import { AppProto, type DecodedPacket } from '../../records/packet.js';
import { internText, isPrintable } from './text.js';

export function isDicomPort(port: number): boolean {
  return port === 104 || port === 11112;
}

/** Returns the PDU type when the payload is DICOM, 0 otherwise. */
export function dicomPduType(b: Buffer, off: number, end: number, onDicomPort: boolean): number {
  if (end - off < 6) return 0;
  const type = b[off] ?? 0;
  if (b[off + 1] !== 0 || type < 1 || type > 7) return 0;
  const len = b.readUInt32BE(off + 2);
  if (type <= 2) {
    if (len < 68 || end - off < 75) return 0;
    if ((b.readUInt16BE(off + 6) & 1) !== 1) return 0;
    if (!isPrintable(b, off + 10, off + 42)) return 0;
    return b[off + 74] === 0x10 ? type : 0;
  }
  if (!onDicomPort) return 0;
  if (type === 4) return len >= 6 ? type : 0;
  return len === 4 ? type : 0;
}

export function decodeDicom(b: Buffer, off: number, type: number, p: DecodedPacket): void {
  p.app = AppProto.DICOM;
  if (type <= 2) {
    p.app_meta = {
      dicom_pdu_type: type,
      dicom_called_ae: aeTitle(b, off + 10),
      dicom_calling_ae: aeTitle(b, off + 26),
    };
  } else {
    p.app_meta = { dicom_pdu_type: type };
  }
}

/** A 16-byte AE title, leading and trailing spaces removed. */
function aeTitle(b: Buffer, o: number): string {
  let s = o;
  let e = o + 16;
  while (s < e && (b[s] === 0x20 || b[s] === 0)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0)) e--;
  return internText(b, s, e, true);
}
