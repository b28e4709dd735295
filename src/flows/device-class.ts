/**
 * Device class guessing from what the inventory learned: the MAC vendor (IEEE OUI organisation name), the protocols
 * the device spoke and the ports it answered on. Rules are tried in order; the first that matches gives the class
 * and a confidence. The inventory file always overrides a guess.
 *
 * The rules, in order (vendor = the IEEE organisation name of the MAC prefix):
 *  1. a MAC recognised as a gateway (configured, or seen sending from external addresses) → network (0.9)
 *  2. DICOM spoken: imaging vendor → imaging (0.8); answers on 104/11112 → pacs (0.7); otherwise → imaging (0.6)
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
export interface ClassEvidence {
  vendor: string;
  /** Bit mask over PROTOCOL_NAMES. */
  protocols: number;
  listening_ports: readonly number[];
  gateway: boolean;
}

export interface ClassGuess {
  device_class: DeviceClass;
  confidence: number;
}

export function guessDeviceClass(e: ClassEvidence): ClassGuess {
  const has = (n: ProtocolName): boolean => (e.protocols & protocolBit(n)) !== 0;
  const listens = (...ports: number[]): boolean => ports.some((p) => e.listening_ports.includes(p));
  const v = e.vendor;
  if (e.gateway) return { device_class: 'network', confidence: 0.9 };
  if (has('dicom')) {
    if (VENDOR.imaging.test(v)) return { device_class: 'imaging', confidence: 0.8 };
    if (listens(104, 11112)) return { device_class: 'pacs', confidence: 0.7 };
    return { device_class: 'imaging', confidence: 0.6 };
  }
  if (VENDOR.lab.test(v)) return { device_class: 'lab_analyser', confidence: has('hl7') ? 0.85 : 0.7 };
  if (VENDOR.infusion.test(v)) return { device_class: 'infusion_pump', confidence: has('hl7') || has('mqtt') ? 0.85 : 0.7 };
  if (has('mqtt') && !listens(1883, 8883))
    return { device_class: 'telemetry_gateway', confidence: VENDOR.monitor.test(v) ? 0.8 : 0.5 };
  if (VENDOR.monitor.test(v)) return { device_class: 'patient_monitor', confidence: has('hl7') ? 0.85 : 0.7 };
  if (VENDOR.imaging.test(v)) return { device_class: 'imaging', confidence: 0.5 };
  if (listens(...SERVICE_PORTS)) return { device_class: 'server', confidence: 0.6 };
  if ((has('bacnet') || has('modbus')) && VENDOR.pc.test(v)) return { device_class: 'server', confidence: 0.5 };
  if (has('bacnet') || has('modbus') || VENDOR.building.test(v)) return { device_class: 'building_system', confidence: 0.7 };
  if (VENDOR.network.test(v)) return { device_class: 'network', confidence: 0.6 };
  if (VENDOR.pc.test(v)) return { device_class: 'workstation', confidence: 0.7 };
  if (has('hl7')) return { device_class: 'patient_monitor', confidence: 0.4 };
  if ((has('rdp') || has('smb') || has('ssh')) && !listens(3389, 445, 139, 22)) return { device_class: 'workstation', confidence: 0.5 };
  if (e.listening_ports.length >= 3) return { device_class: 'server', confidence: 0.4 };
  return { device_class: 'unknown', confidence: 0 };
}
