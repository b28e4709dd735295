/**
 * ASTM E1381/E1394 (CLSI LIS1/LIS2) over TCP as lab analysers speak it to a laboratory information system:
 * ENQ, ACK, framed records `STX FN text ETX C1 C2 CR LF` each acknowledged, EOT. Results are SYNTHETIC.
 */
export const ENQ = Buffer.from([0x05]);
export const ACK = Buffer.from([0x06]);
export const EOT = Buffer.from([0x04]);

/** One frame: frame number 1..7 then 0..7 cycling, checksum = sum of FN..ETX mod 256 as two hex digits. */
export function astmFrame(frameNumber: number, record: string): Buffer {
  const fn = String(frameNumber % 8);
  const body = Buffer.from(`${fn}${record}\r`, 'ascii');
  let sum = 0x03;
  for (const b of body) sum += b;
  const cs = (sum & 0xff).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([Buffer.from([0x02]), body, Buffer.from([0x03]), Buffer.from(`${cs}\r\n`, 'ascii')]);
}

/** The records of one result message: header, patient, order, results, terminator. */
export function astmResultRecords(sender: string, patient: number, tests: { code: string; value: string; units: string }[], ts: string): string[] {
  const pn = String(patient).padStart(6, '0');
  return [
    `H|\\^&|||${sender}|||||||P|1|${ts}`,
    `P|1||SIM-${pn}||SYNTHETIC^TEST-PATIENT-${pn}`,
    `O|1|SIM-S${pn}||^^^PANEL|R|${ts}`,
    ...tests.map((t, i) => `R|${i + 1}|^^^${t.code}|${t.value}|${t.units}||N||F||||${ts}`),
    'L|1|N',
  ];
}
