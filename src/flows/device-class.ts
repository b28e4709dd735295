/**
 * Device class guessing from what the inventory learned: the MAC vendor (IEEE OUI organisation name), the protocols
 * the device spoke and the ports it answered on. Rules are tried in order; the first that matches gives the class
 * and a confidence. The inventory file always overrides a guess.
 *
 * Every guess names its evidence (`ClassGuess.evidence`, the inventory's `class_evidence`): the rule and the values
 * it used.
 *
 * The rules, in order (vendor = the IEEE organisation name of the MAC prefix; identity = the device's application
 * identity, records/device.ts `AppIdentity`):
 *  1. a MAC recognised as a gateway (configured, or seen sending from external addresses) → network (0.9)
 *  1a. identity: an equipment id in the HL7 messages it sent (OBX-18, PRT-10, PRT-16) names a known infusion-pump
 *     family (Alaris, Plum, Sigma Spectrum, Agilia, …) → infusion_pump (0.9); not when one of those fields carried
 *     more than two distinct ids or ids were dropped (it speaks for many devices: a pump server, an interface engine).
 *  2. DICOM spoken: imaging vendor → imaging (0.8); identity: it proposed an image Storage SOP class as SCU and never
 *     acted as SCP → imaging (0.75); answers on 104/11112 → pacs (0.7); otherwise → imaging (0.6)
 *  3. vendor is a lab-diagnostics maker → lab_analyser (0.85 with HL7 or ASTM-like traffic, else 0.7)
 *  4. vendor is an infusion-pump maker → infusion_pump (0.85 with HL7 or MQTT, else 0.7)
 *  5. MQTT spoken as a client only (does not answer on 1883/8883) → telemetry_gateway (0.8 with a patient-monitoring
 *     vendor, else 0.5)
 *  6. vendor is a patient-monitoring maker → patient_monitor (0.85 with HL7, else 0.7)
 *  7. vendor is an imaging maker (no DICOM seen yet) → imaging (0.5)
 *  8. answers on a service port (DNS, DHCP, NTP, HTTP(S), HL7 2575, MQTT broker, LDAP, Kerberos, syslog, databases)
 *     → server (0.6)
 *  9. BACnet or Modbus spoken by a PC/server vendor's machine (a building-management head end) → server (0.5);
 *     BACnet or Modbus otherwise, or a building-automation vendor → building_system (0.7)
 * 10. vendor is a network-equipment maker → network (0.6)
 * 11. vendor is a PC maker → workstation (0.7)
 * 12. HL7 spoken as a client only → patient_monitor (0.4)
 * 13. RDP/SMB/SSH spoken as a client → workstation (0.5)
 * 14. answers on 3 or more ports → server (0.4)
 * 15. otherwise unknown (0)
 */
import type { DeviceClass } from '../records/device.js';

/** Protocol names the inventory records, by bit index. */
export const PROTOCOL_NAMES = [
  'dns',
  'dhcp',
  'tls',
  'hl7',
  'dicom',
  'mqtt',
  'http',
  'ntp',
  'bacnet',
  'smb',
  'modbus',
  'snmp',
  'ssh',
  'rdp',
  'syslog',
  'ldap',
  'kerberos',
  'telnet',
  'ftp',
] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export function protocolBit(name: ProtocolName): number {
  return 1 << PROTOCOL_NAMES.indexOf(name);
}

/** Well-known responder ports → protocol bit index + 1 (0 = none). Only used when a flow starts. */
export const PORT_PROTOCOL = new Uint8Array(65536);
const PORTS: [number, ProtocolName][] = [
  [53, 'dns'],
  [67, 'dhcp'],
  [68, 'dhcp'],
  [443, 'tls'],
  [8443, 'tls'],
  [2575, 'hl7'],
  [104, 'dicom'],
  [11112, 'dicom'],
  [1883, 'mqtt'],
  [8883, 'mqtt'],
  [80, 'http'],
  [8080, 'http'],
  [123, 'ntp'],
  [47808, 'bacnet'],
  [445, 'smb'],
  [139, 'smb'],
  [502, 'modbus'],
  [161, 'snmp'],
  [162, 'snmp'],
  [22, 'ssh'],
  [3389, 'rdp'],
  [514, 'syslog'],
  [389, 'ldap'],
  [636, 'ldap'],
  [88, 'kerberos'],
  [23, 'telnet'],
  [21, 'ftp'],
];
for (const [port, name] of PORTS) PORT_PROTOCOL[port] = PROTOCOL_NAMES.indexOf(name) + 1;

const VENDOR = {
  lab: /roche diagnostics|abbott diagnostics|beckman (?:coulter|lab)|sysmex|bio-rad|siemens healthcare diagnostics|ortho[- ]clinical/i,
  infusion: /icu medical|alaris|baxter|b\.? ?braun|fresenius|hospira|smiths medical|carefusion|becton|ivenix|terumo/i,
  monitor: /patient monitoring|philips medical|mindray|draeger|dr[aä]ger|nihon kohden|spacelabs|welch allyn|masimo|ge healthcare|zoll|medtronic/i,
  imaging: /ge healthcare|ge medical|siemens healthineers|siemens (?:ag, )?healthcare|canon medical|toshiba medical|carestream|fujifilm|hologic|varian|olympus|x-ray|agfa/i,
  building: /siemens building|honeywell|johnson controls|schneider electric|tridium|trane|carrier corp|belimo/i,
  network: /cisco|juniper|aruba|ubiquiti|fortinet|palo alto|extreme networks|arista|mikrotik|netgear|tp-link/i,
  pc: /dell|hp inc|hewlett[- ]packard|lenovo|apple|microsoft|intel corporate|asustek|acer|fujitsu/i,
};

/** Ports whose listener is a server (not 104/11112: PACS, rule 2; not 47808/502: building systems). */
const SERVICE_PORTS = [53, 67, 123, 80, 443, 8080, 8443, 2575, 1883, 8883, 389, 636, 88, 514, 1433, 3306, 5432];
/**
 * Equipment names of infusion-pump families, as HL7 OBX-18 / PRT-10 / PRT-16 carry them (model or product line, not
 * the maker alone: a maker's name also appears on its other equipment).
 */
const INFUSION_PUMP_FAMILY =
  /\balaris|\bplum\s*(?:a\+|360|xl)|\bsapphire|sigma\s*spectrum|spectrum\s*iq|\binfusomat|\bperfusor|\bspace\s*station|\bagilia|\bvolumat|\bmedfusion|\bcadd[- ]?(?:solis|prizm|legacy)?\b|\bgemstar|\bsymbiq|\blifecare|\bivenix|\bterufusion|infusion\s*pump/i;

/** Image Storage SOP classes: UIDs under 1.2.840.10008.5.1.4.1.1 (storage) whose PS3.6 name says "Image Storage". */
function isImageStorage(uid: string, name: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') && /Image Storage/.test(name);
}

/** More than two distinct ids in one field: the sender speaks for several devices (a pump server, an interface engine). */
function relaysEquipment(equipment: readonly { id: string; field: string }[]): boolean {
  const perField = new Map<string, number>();
  for (const q of equipment) perField.set(q.field, (perField.get(q.field) ?? 0) + 1);
  for (const n of perField.values()) if (n > 2) return true;
  return false;
}

/** What of the device's application identity the guess reads (absent: none known). */
export interface IdentityEvidence {
  /** HL7 equipment identifiers with the field they came from, and how many were not kept (list full). */
  equipment: readonly { id: string; field: string }[];
  equipment_dropped: number;
  /** DICOM SOP classes it proposed. */
  sop_classes: readonly { uid: string; name: string }[];
  dicom_roles: readonly string[];
}

export interface ClassEvidence {
  vendor: string;
  /** Bit mask over PROTOCOL_NAMES. */
  protocols: number;
  listening_ports: readonly number[];
  gateway: boolean;
  identity?: IdentityEvidence;
}

export interface ClassGuess {
  device_class: DeviceClass;
  confidence: number;
  /** The rule that matched and the values it used, e.g. `DICOM SCU of CT Image Storage, never SCP`. */
  evidence: string;
}

export function guessDeviceClass(e: ClassEvidence): ClassGuess {
  const has = (n: ProtocolName): boolean => (e.protocols & protocolBit(n)) !== 0;
  const listens = (...ports: number[]): boolean => ports.some((p) => e.listening_ports.includes(p));
  const v = e.vendor;
  const g = (device_class: DeviceClass, confidence: number, evidence: string): ClassGuess => ({ device_class, confidence, evidence });
  const vendor = `vendor ${JSON.stringify(v)}`;
  if (e.gateway) return g('network', 0.9, 'gateway (configured, or sends from external addresses)');
  const id = e.identity;
  if (id !== undefined && id.equipment.length > 0 && id.equipment_dropped === 0 && !relaysEquipment(id.equipment)) {
    const pumps = id.equipment.filter((q) => INFUSION_PUMP_FAMILY.test(q.id));
    if (pumps.length > 0) return g('infusion_pump', 0.9, `HL7 equipment id ${pumps.map((q) => `${JSON.stringify(q.id)} (${q.field})`).join(', ')}: infusion-pump family`);
  }
  if (has('dicom')) {
    if (VENDOR.imaging.test(v)) return g('imaging', 0.8, `DICOM, imaging ${vendor}`);
    if (id !== undefined && id.dicom_roles.includes('SCU') && !id.dicom_roles.includes('SCP')) {
      const storage = id.sop_classes.filter((c) => isImageStorage(c.uid, c.name));
      if (storage.length > 0) return g('imaging', 0.75, `DICOM SCU of ${storage.map((c) => c.name).join(', ')}, never SCP`);
    }
    if (listens(104, 11112)) return g('pacs', 0.7, 'DICOM, answers on 104/11112');
    return g('imaging', 0.6, 'DICOM client');
  }
  if (VENDOR.lab.test(v)) return has('hl7') ? g('lab_analyser', 0.85, `lab-diagnostics ${vendor}, HL7`) : g('lab_analyser', 0.7, `lab-diagnostics ${vendor}`);
  if (VENDOR.infusion.test(v)) return has('hl7') || has('mqtt') ? g('infusion_pump', 0.85, `infusion ${vendor}, HL7/MQTT`) : g('infusion_pump', 0.7, `infusion ${vendor}`);
  if (has('mqtt') && !listens(1883, 8883))
    return VENDOR.monitor.test(v) ? g('telemetry_gateway', 0.8, `MQTT client, patient-monitoring ${vendor}`) : g('telemetry_gateway', 0.5, 'MQTT client');
  if (VENDOR.monitor.test(v)) return has('hl7') ? g('patient_monitor', 0.85, `patient-monitoring ${vendor}, HL7`) : g('patient_monitor', 0.7, `patient-monitoring ${vendor}`);
  if (VENDOR.imaging.test(v)) return g('imaging', 0.5, `imaging ${vendor}`);
  if (listens(...SERVICE_PORTS)) return g('server', 0.6, 'answers on a service port');
  if ((has('bacnet') || has('modbus')) && VENDOR.pc.test(v)) return g('server', 0.5, `BACnet/Modbus from PC ${vendor}`);
  if (has('bacnet') || has('modbus') || VENDOR.building.test(v)) return g('building_system', 0.7, has('bacnet') || has('modbus') ? 'BACnet/Modbus' : `building-automation ${vendor}`);
  if (VENDOR.network.test(v)) return g('network', 0.6, `network ${vendor}`);
  if (VENDOR.pc.test(v)) return g('workstation', 0.7, `PC ${vendor}`);
  if (has('hl7')) return g('patient_monitor', 0.4, 'HL7 client');
  if ((has('rdp') || has('smb') || has('ssh')) && !listens(3389, 445, 139, 22)) return g('workstation', 0.5, 'RDP/SMB/SSH client');
  if (e.listening_ports.length >= 3) return g('server', 0.4, 'answers on 3 or more ports');
  return g('unknown', 0, 'no rule matched');
}
