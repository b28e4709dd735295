/**
 * Contract: device identity and inventory (flows → features, detect, sinks, dashboards).
 *
 * A device is keyed by its MAC when it sits on the mirrored L2 segment (`mac:aa:bb:cc:dd:ee:ff`), and by its IP
 * otherwise (`ip:10.1.2.3`), per subnet as configured. Gateways' MACs are never devices: traffic routed through a
 * gateway is attributed by IP.
 *
 * Only *confirmed* devices are inventory entries (listed, saved, exported, published to the inventory topic, written
 * to `ww_inventory`, announced by a `new_device` notice): a sender becomes one on the first evidence that it is a real
 * host (`DeviceEvidence`, rule in docs/flows-and-devices.md "Evidence"). Until then it is a candidate: it may have a
 * device handle (its feature windows are emitted) but no entry, so a flood of spoofed sources lists nothing.
 *
 * Schema versions: 2 added `confirmed_by` and `confirmed_at` (and entries exist only for confirmed devices). 3 added
 * `app_identity` (what HL7, DICOM, MQTT and DHCP say about the device; see `AppIdentity`). A saved inventory of version
 * 1 still loads: its devices are confirmed as `restored`; of version 1 or 2, `app_identity` starts empty.
 */
import type { IdentityChange } from './features.js';

export const DEVICE_SCHEMA_VERSION = 3;

/**
 * Why a device is in the inventory: its first evidence of being a real host.
 * - `tcp_handshake`: it completed a TCP three-way handshake as client (its ACK acknowledged the SYN-ACK's sequence
 *   number + 1) or as server (its SYN-ACK was acknowledged so);
 * - `answered`: a UDP, ICMP, other-IP or mid-stream TCP (no SYN seen) exchange it took part in was answered: its
 *   datagram got an answer in the same flow, or it answered one (a TCP RST is no answer);
 * - `arp_reply`: it answered an ARP request for its address (the reply is the answer in the request's ARP flow, and
 *   claims no address bound to another MAC);
 * - `dhcp_lease`: a DHCP server acknowledged (DHCPACK, unicast to its MAC) a request it sent within 60 s; the server
 *   is confirmed by the same exchange;
 * - `sustained`: it kept sending from the same address for `confirm_sustained_ms` (≥ `confirm_sustained_packets`
 *   packets) without any of the above (a syslog-only sender nobody answers);
 * - `inventory_file`: the operator's inventory file names it;
 * - `restored`: it came from a saved inventory of schema version 1 (version 2 files keep the saved evidence);
 * - `first_packet`: evidence is not required (`devices.require_evidence: false`): every sender is confirmed.
 */
export type DeviceEvidence =
  | 'tcp_handshake'
  | 'answered'
  | 'arp_reply'
  | 'dhcp_lease'
  | 'sustained'
  | 'inventory_file'
  | 'restored'
  | 'first_packet';

export const DEVICE_EVIDENCE: readonly DeviceEvidence[] = [
  'tcp_handshake',
  'answered',
  'arp_reply',
  'dhcp_lease',
  'sustained',
  'inventory_file',
  'restored',
  'first_packet',
];

export type DeviceClass =
  | 'infusion_pump'
  | 'patient_monitor'
  | 'imaging'
  | 'pacs'
  | 'workstation'
  | 'telemetry_gateway'
  | 'lab_analyser'
  | 'building_system'
  | 'server'
  | 'network'
  | 'unknown';

export const DEVICE_CLASSES: readonly DeviceClass[] = [
  'infusion_pump',
  'patient_monitor',
  'imaging',
  'pacs',
  'workstation',
  'telemetry_gateway',
  'lab_analyser',
  'building_system',
  'server',
  'network',
  'unknown',
];

/** How much harm a compromise or outage of the device can do; scales alert severity. */
export type Criticality = 'low' | 'medium' | 'high' | 'life_critical';

export interface DeviceIdentity {
  /** `mac:<aa:bb:..>` or `ip:<address>`: stable key used by every stage, Kafka message key and Influx tag. */
  device_id: string;
  key_kind: 'mac' | 'ip';
}

export interface InventoryEntry extends DeviceIdentity {
  schema_version: typeof DEVICE_SCHEMA_VERSION;
  /** MAC address (lower case, colon-separated) when known, else empty. */
  mac: string;
  /** IP addresses seen as this device's source, most recent last (bounded, ≤ 8). */
  ips: string[];
  /** Organisation from the IEEE OUI registry for the MAC prefix (`oui-data`); empty when unknown or randomised. */
  vendor: string;
  /** DHCP option 12 host name, last seen. */
  dhcp_hostname: string;
  /** DHCP option 60 vendor class identifier, last seen. */
  dhcp_vendor_class: string;
  /** First and last packet time (seconds since the epoch, packet time not wall clock). */
  first_seen: number;
  last_seen: number;
  /** Application protocols spoken (`hl7`, `dicom`, `mqtt`, `dns`, `dhcp`, `tls`, `http`, `ntp`, `bacnet`, `smb`, ...). */
  protocols: string[];
  /** Distinct peers seen (bounded, ≤ 256; `peers_overflow` says if more were seen). */
  peers: string[];
  peers_overflow: boolean;
  /** TCP/UDP ports this device answered on (listening), bounded ≤ 64. */
  listening_ports: number[];
  /** Device class: from the inventory file when given (`class_source: 'inventory'`), else guessed. */
  device_class: DeviceClass;
  class_source: 'inventory' | 'guess';
  /** Confidence of a guessed class, 0..1 (1 for inventory). */
  class_confidence: number;
  /**
   * What the class rests on (schema 3): `inventory file`, or the guess rule that matched and the values it used, e.g.
   * `DICOM SCU of CT Image Storage, never SCP`, `HL7 equipment id "Hospira Plum A+" (PRT-16): infusion-pump family`,
   * `infusion vendor "Baxter Healthcare", HL7/MQTT` (src/flows/device-class.ts). Recomputed, not restored, on load.
   */
  class_evidence: string;
  /** Operator-given name, location and criticality from the inventory file; empty/`medium` when not given. */
  name: string;
  location: string;
  criticality: Criticality;
  /** True while the device's baseline is being learned (no anomaly alerts yet). */
  learning: boolean;
  /** The evidence that made it an inventory entry (see `DeviceEvidence`). */
  confirmed_by: DeviceEvidence;
  /** Packet time of that evidence (seconds since the epoch); `first_seen` ≤ `confirmed_at`. */
  confirmed_at: number;
  /** What HL7, DICOM, MQTT and DHCP say about the device (bounded, never PHI; see `AppIdentity`). Schema version 3. */
  app_identity: AppIdentity;
}

/**
 * Per-packet device attribution (device identity → flows and features). Reused for every packet; numbers only.
 * Handles are small integers, stable for the life of the inventory (devices are never renumbered). A handle may be a
 * confirmed device or a candidate (no inventory entry yet; `DeviceInventory.entry(h)` is undefined for it).
 */
export interface PacketDevices {
  /** Handle of the device that sent the packet, -1 when the sender is not a tracked device (external, gateway, full). */
  src: number;
  /** Handle of the device the packet is addressed to, -1 when none (external, broadcast, unknown). */
  dst: number;
  /** Whether the packet's source / destination address is inside a configured internal subnet. */
  src_internal: boolean;
  dst_internal: boolean;
  /** ARP packet whose sender claims an IPv4 address currently bound to another MAC. */
  arp_conflict: boolean;
  /**
   * 1 when the packet's sender is an internal host that got no device handle for lack of room: the inventory is full
   * (`max_devices`), or the sender is a candidate without evidence while `max_unconfirmed_devices` candidates already
   * hold a handle (it waits in the candidate table); else 0.
   */
  overflow: number;
}

/**
 * Caps of the `AppIdentity` lists: distinct values kept per device, first seen first. A value seen once a list is full
 * is not kept; `AppIdentity.dropped` counts such observations per list.
 */
export const APP_IDENTITY_LIMITS = {
  hl7_sending_applications: 8,
  hl7_sending_facilities: 8,
  hl7_receiving_applications: 8,
  hl7_receiving_facilities: 8,
  hl7_message_types: 16,
  hl7_versions: 4,
  hl7_equipment_ids: 8,
  dicom_ae_titles: 8,
  dicom_peer_ae_titles: 8,
  dicom_roles: 2,
  dicom_implementation_class_uids: 4,
  dicom_implementation_versions: 4,
  dicom_sop_classes: 32,
  mqtt_client_ids: 4,
  dhcp_parameter_lists: 4,
} as const;

export type AppIdentityList = keyof typeof APP_IDENTITY_LIMITS;

/** An HL7 message type (MSH-9 as sent, e.g. `ORU^R01^ORU_R01`) and how many messages of it the device sent. */
export interface Hl7MessageTypeCount {
  type: string;
  count: number;
}

/** An equipment identifier carried in HL7, and the field it came from. */
export interface Hl7EquipmentId {
  id: string;
  /** `OBX-18` equipment instance identifier; `PRT-10` participation device (UDI label); `PRT-16` UDI device identifier. */
  field: 'OBX-18' | 'PRT-10' | 'PRT-16';
}

/** A DICOM SOP class (abstract syntax) UID and its name from PS3.6 when wardwatch knows it (else empty). */
export interface DicomSopClass {
  uid: string;
  name: string;
}

/**
 * What the medical application protocols say about a device (`InventoryEntry.app_identity`): names and identifiers a
 * biomedical engineer or SOC analyst recognises, read from the protocol headers the decoders parse — never a payload
 * value, patient or result field (HL7: only MSH-3..6, 9, 12, OBX-18, PRT-10, PRT-16; DICOM: only the A-ASSOCIATE
 * PDUs, never a data set). Every list is bounded (`APP_IDENTITY_LIMITS`) and holds distinct values in the order first
 * seen; every text is as sent (HL7 components and escapes included), cut to 64 characters, and may hold any printable
 * ASCII (HL7, DICOM) or UTF-8 (MQTT): print it through `printable`. Empty lists when the device spoke none of these.
 *
 * Attribution: HL7 fields to the device that SENT the message (MSH-5/6 are thus the applications and facilities it
 * addresses; an ACK carries the acknowledging side's own MSH-3/4). DICOM: an A-ASSOCIATE-RQ gives its sender the
 * calling AE title, role `SCU`, the peer's (called) AE title, the proposed SOP classes and its implementation class
 * UID/version name; its destination device the called AE title, the calling one as peer, and role `SCP`. An
 * A-ASSOCIATE-AC gives its sender role `SCP` and its implementation class UID/version, its destination role `SCU`; AE
 * titles are taken from RQs only (an AC's echo of them is not checked by receivers and is filled inconsistently: the
 * tapirxl captures' ACs swap them). Role here is association requestor/acceptor; SCP/SCU Role Selection sub-items are
 * not read. MQTT: the client id of a CONNECT, to its sender. DHCP: the parameter request list of a
 * client's message (from port 68), to its sender.
 *
 * Known inaccuracies: no TCP reassembly: an HL7 message's OBX/PRT segments in a later TCP segment, and the part of a
 * large A-ASSOCIATE-RQ past its first TCP segment (SOP classes, user information), are not seen. A device that sends
 * HL7 for several applications or facilities lists each (up to the cap).
 */
export interface AppIdentity {
  /** HL7 MSH-3 sending application of the messages it sent. */
  hl7_sending_applications: string[];
  /** HL7 MSH-4 sending facility. */
  hl7_sending_facilities: string[];
  /** HL7 MSH-5 receiving application: the applications its messages are addressed to. */
  hl7_receiving_applications: string[];
  /** HL7 MSH-6 receiving facility. */
  hl7_receiving_facilities: string[];
  /** HL7 MSH-9 message types it sent, with message counts (≤ 16 types). */
  hl7_message_types: Hl7MessageTypeCount[];
  /** HL7 MSH-12 version ids (`2.3`, `2.5.1`). */
  hl7_versions: string[];
  /** Equipment identifiers from OBX-18, PRT-10 and PRT-16 of the messages it sent (first non-empty of each per message). */
  hl7_equipment_ids: Hl7EquipmentId[];
  /** DICOM AE titles the device uses: the calling AE of the A-ASSOCIATE-RQs it sent, the called AE of those sent to it. */
  dicom_ae_titles: string[];
  /** DICOM AE titles of the peers it associates with. */
  dicom_peer_ae_titles: string[];
  /** DICOM association roles: `SCU` (it requested an association), `SCP` (it accepted one, or was asked to). */
  dicom_roles: ('SCU' | 'SCP')[];
  /** DICOM implementation class UIDs from the user information of the A-ASSOCIATE PDUs it sent. */
  dicom_implementation_class_uids: string[];
  /** DICOM implementation version names, likewise. */
  dicom_implementation_versions: string[];
  /** DICOM SOP classes (abstract syntaxes) it proposed in A-ASSOCIATE-RQs (≤ 32). */
  dicom_sop_classes: DicomSopClass[];
  /** MQTT CONNECT client identifiers. */
  mqtt_client_ids: string[];
  /** DHCP option 55 parameter request lists (`1,3,6,15,28`), a fingerprint of its DHCP client. */
  dhcp_parameter_lists: string[];
  /**
   * Per list, observations whose value was not kept because the list was full (a message type, AE title, … not
   * among the kept ones); SOP classes also count those an A-ASSOCIATE-RQ carried beyond the decoder's 32. Absent
   * lists: nothing dropped.
   */
  dropped: Partial<Record<AppIdentityList, number>>;
}

export function emptyAppIdentity(): AppIdentity {
  return {
    hl7_sending_applications: [],
    hl7_sending_facilities: [],
    hl7_receiving_applications: [],
    hl7_receiving_facilities: [],
    hl7_message_types: [],
    hl7_versions: [],
    hl7_equipment_ids: [],
    dicom_ae_titles: [],
    dicom_peer_ae_titles: [],
    dicom_roles: [],
    dicom_implementation_class_uids: [],
    dicom_implementation_versions: [],
    dicom_sop_classes: [],
    mqtt_client_ids: [],
    dhcp_parameter_lists: [],
    dropped: {},
  };
}

/**
 * `AppIdentity` as flat texts, one per list (empty when the list is), for the outputs that need flat values: the CSV
 * export, the `ww_inventory` point and the dashboards. Values are joined with `; `; message types as `ADT^A01=3`,
 * equipment ids as `id (OBX-18)`, SOP classes by name (UID when unnamed); `dropped` as `list=n` pairs. Texts are as
 * received: print them through `printable`.
 */
export function appIdentityTexts(a: AppIdentity): Record<AppIdentityList | 'dropped', string> {
  const j = (xs: readonly string[]): string => xs.join('; ');
  return {
    hl7_sending_applications: j(a.hl7_sending_applications),
    hl7_sending_facilities: j(a.hl7_sending_facilities),
    hl7_receiving_applications: j(a.hl7_receiving_applications),
    hl7_receiving_facilities: j(a.hl7_receiving_facilities),
    hl7_message_types: j(a.hl7_message_types.map((t) => `${t.type}=${t.count}`)),
    hl7_versions: j(a.hl7_versions),
    hl7_equipment_ids: j(a.hl7_equipment_ids.map((e) => `${e.id} (${e.field})`)),
    dicom_ae_titles: j(a.dicom_ae_titles),
    dicom_peer_ae_titles: j(a.dicom_peer_ae_titles),
    dicom_roles: j(a.dicom_roles),
    dicom_implementation_class_uids: j(a.dicom_implementation_class_uids),
    dicom_implementation_versions: j(a.dicom_implementation_versions),
    dicom_sop_classes: j(a.dicom_sop_classes.map((c) => c.name || c.uid)),
    mqtt_client_ids: j(a.mqtt_client_ids),
    dhcp_parameter_lists: j(a.dhcp_parameter_lists),
    dropped: Object.entries(a.dropped)
      .map(([k, n]) => `${k}=${n}`)
      .join(' '),
  };
}

/**
 * `AppIdentity` as labelled rows for people (`wardwatch inventory show`, the forensic report): one per non-empty list,
 * values joined with `, ` (message types with their counts, equipment ids with their field, SOP classes by name and
 * UID), `(+n not kept: list full)` when its cap dropped values. Texts are as received: print them through `printable`
 * (terminal) or an escaper (HTML).
 */
export function appIdentityRows(a: AppIdentity): [string, string][] {
  const rows: [string, string][] = [];
  const add = (label: string, list: AppIdentityList, values: readonly string[]): void => {
    if (values.length === 0) return;
    const n = a.dropped[list];
    rows.push([label, `${values.join(', ')}${n ? ` (+${n} not kept: list full)` : ''}`]);
  };
  add('HL7 sending application', 'hl7_sending_applications', a.hl7_sending_applications);
  add('HL7 sending facility', 'hl7_sending_facilities', a.hl7_sending_facilities);
  add('HL7 receiving application', 'hl7_receiving_applications', a.hl7_receiving_applications);
  add('HL7 receiving facility', 'hl7_receiving_facilities', a.hl7_receiving_facilities);
  add('HL7 message types', 'hl7_message_types', a.hl7_message_types.map((t) => `${t.type} (${t.count})`));
  add('HL7 version', 'hl7_versions', a.hl7_versions);
  add('HL7 equipment ids', 'hl7_equipment_ids', a.hl7_equipment_ids.map((e) => `${e.id} (${e.field})`));
  add('DICOM AE titles', 'dicom_ae_titles', a.dicom_ae_titles);
  add('DICOM role', 'dicom_roles', a.dicom_roles);
  add('DICOM peer AE titles', 'dicom_peer_ae_titles', a.dicom_peer_ae_titles);
  add('DICOM SOP classes', 'dicom_sop_classes', a.dicom_sop_classes.map((c) => (c.name ? `${c.name} (${c.uid})` : c.uid)));
  add('DICOM implementation class UID', 'dicom_implementation_class_uids', a.dicom_implementation_class_uids);
  add('DICOM implementation version', 'dicom_implementation_versions', a.dicom_implementation_versions);
  add('MQTT client ids', 'mqtt_client_ids', a.mqtt_client_ids);
  add('DHCP parameter requests', 'dhcp_parameter_lists', a.dhcp_parameter_lists);
  return rows;
}

/** A device's identity changes since they were last taken (feature `identity_changes`). */
export interface IdentityChanges {
  /** How many (each counted once); may exceed `changes.length`. */
  count: number;
  /** The first `IDENTITY_CHANGES_MAX` of them. */
  changes: IdentityChange[];
}

/** Resolves a device handle to its `device_id` (implemented by the device inventory). */
export interface DeviceDirectory {
  deviceId(handle: number): string;
  /**
   * The device's identity changes (records/features.ts `IdentityChange`) noted since the last call, undefined when
   * none; the feature stage takes them when it closes a window the device was active in. Optional: a directory
   * without it has no identity changes.
   */
  takeIdentityChanges?(handle: number): IdentityChanges | undefined;
}

/**
 * The fields of an entry a detector uses (class, class source, criticality, name, location, vendor, DHCP host name,
 * first seen, learning), as one comparable string: an entry is re-published to detectors when it changes.
 */
export function detectorFacts(e: InventoryEntry): string {
  return [e.device_class, e.class_source, e.criticality, e.name, e.location, e.vendor, e.dhcp_hostname, e.first_seen, e.learning].join('\u0000');
}
