/**
 * Contract: device identity and inventory (flows → features, detect, sinks, dashboards).
 *
 * A device is keyed by its MAC when it sits on the mirrored L2 segment (`mac:aa:bb:cc:dd:ee:ff`), and by its IP
 * otherwise (`ip:10.1.2.3`), per subnet as configured. Gateways' MACs are never devices: traffic routed through a
 * gateway is attributed by IP.
 */
export const DEVICE_SCHEMA_VERSION = 1;

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
}

/**
 * Per-packet device attribution (device identity → flows and features). Reused for every packet; numbers only.
 * Handles are small integers, stable for the life of the inventory (devices are never renumbered).
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
  /** Devices that could not be admitted for this packet because the inventory is full (0 or 1). */
  overflow: number;
}

/** Resolves a device handle to its `device_id` (implemented by the device inventory). */
export interface DeviceDirectory {
  deviceId(handle: number): string;
}
