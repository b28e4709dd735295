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
 * Schema versions: 2 added `confirmed_by` and `confirmed_at` (and entries exist only for confirmed devices). A saved
 * inventory of version 1 still loads: its devices are confirmed as `restored`.
 */
export const DEVICE_SCHEMA_VERSION = 2;

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

/** Resolves a device handle to its `device_id` (implemented by the device inventory). */
export interface DeviceDirectory {
  deviceId(handle: number): string;
}

/**
 * The fields of an entry a detector uses (class, class source, criticality, name, location, vendor, DHCP host name,
 * first seen, learning), as one comparable string: an entry is re-published to detectors when it changes.
 */
export function detectorFacts(e: InventoryEntry): string {
  return [e.device_class, e.class_source, e.criticality, e.name, e.location, e.vendor, e.dhcp_hostname, e.first_seen, e.learning].join('\u0000');
}
