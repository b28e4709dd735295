/**
 * Ground truth written beside every simulated capture. The contract the detector's evaluation, the golden tests and
 * the demo read: which devices exist (with their MAC, IP, archetype and vendor) and which attacks were injected when.
 *
 * Times are seconds since the Unix epoch (packet time). An attack's [start, end] window contains every packet the
 * attack injected (tests check this); the device's benign traffic continues during the window.
 */
import type { DeviceClass } from '../records/device.js';

export const LABELS_SCHEMA_VERSION = 1;

/** Device archetypes the simulator can create (CLI `--devices` keys). */
export type Archetype =
  | 'pump'
  | 'monitor'
  | 'imaging'
  | 'pacs'
  | 'reading_ws'
  | 'nurse_pc'
  | 'telemetry'
  | 'lab'
  | 'bacnet';

/** Every labelled host: the archetypes above, the hospital's servers, and hosts an attack brings in. */
export type LabelArchetype = Archetype | 'server' | 'intruder';

export type AttackKind =
  | 'port_scan'
  | 'slow_scan'
  | 'syn_flood'
  | 'udp_flood'
  | 'exfiltration'
  | 'c2_beacon'
  | 'dns_tunnel'
  | 'arp_spoof'
  | 'brute_force_telnet'
  | 'brute_force_ssh'
  | 'lateral_movement'
  | 'new_peer'
  | 'c2_beacon_30s'
  | 'c2_beacon_2min'
  | 'c2_beacon_10min'
  | 'slow_exfiltration'
  | 'lateral_single'
  | 'identity_spoof';

export interface LabelDevice {
  /** `mac:aa:bb:cc:dd:ee:ff`, lower case: the id every wardwatch stage uses for an L2 device. */
  device_id: string;
  mac: string;
  /** IPv4 address (leased by DHCP for devices; static for servers). */
  ip: string;
  archetype: LabelArchetype;
  /** wardwatch device class this archetype maps to. */
  device_class: DeviceClass;
  /** Organisation the MAC's OUI is registered to (IEEE list, as in `oui-data`). */
  vendor: string;
  /** Host name (also sent as DHCP option 12 by DHCP clients). */
  name: string;
  /**
   * True for a quiet device (option `quiet_devices`): its archetype's protocols at intervals of minutes, traffic in
   * ≤ 10 % of 10-second windows. Absent for every other host.
   */
  quiet?: true;
}

export interface LabelAttack {
  /** `a1`, `a2`, ... in order of start time. */
  id: string;
  kind: AttackKind;
  /** The device whose behaviour changes: the scanner, flooder, exfiltrating or spoofing device; for brute force, the victim. */
  device_id: string;
  /** Other labelled hosts involved: the brute-force attacker, the flood victim, the hosts an ARP spoof targets; may be empty. */
  related_device_ids: string[];
  /**
   * Attack window, seconds since the epoch; every injected packet lies in [start, end]. For the kinds labelled by
   * what they injected (`c2_beacon_30s`, `c2_beacon_2min`, `c2_beacon_10min`, `slow_exfiltration`, `lateral_single`,
   * `identity_spoof`) start is the time of the first injected packet and end that of the last; for the others, the
   * requested window.
   */
  start: number;
  end: number;
  description: string;
}

export interface LabelNetwork {
  subnet: string;
  gateway_ip: string;
  /** The router's MAC: never a device (traffic through it is attributed by IP). */
  gateway_mac: string;
  /** 802.1Q VLAN id on the frames, or -1 when untagged. */
  vlan: number;
  /** Address ranges used for "external" hosts (documentation ranges only; no real host is named). */
  external_ranges: string[];
}

export interface SimulationLabels {
  schema_version: typeof LABELS_SCHEMA_VERSION;
  generator: 'wardwatch-simulate';
  seed: number;
  /** Seed of the layout (MACs, vendors) when it differs from `seed` (option `layout_seed`); absent otherwise. */
  layout_seed?: number;
  /** The normalised options the capture was generated with (without file paths). */
  options: {
    start: number;
    duration_s: number;
    devices: Record<Archetype, number>;
    /** Quiet devices per archetype (the last n of each); present only when some device is quiet. */
    quiet_devices?: Partial<Record<Archetype, number>>;
    attacks: string[];
    format: 'pcap' | 'pcapng';
    resolution: 'us' | 'ns';
    vlan: number;
    dicom_image_bytes: number;
  };
  network: LabelNetwork;
  devices: LabelDevice[];
  attacks: LabelAttack[];
}
