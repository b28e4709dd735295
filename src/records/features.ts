/**
 * Contract: features → transport → detect. One `FeatureWindow` per device per tumbling window of packet time.
 *
 * The feature schema is versioned: any change to the list below (add, remove, reorder, change of meaning or unit)
 * bumps `FEATURE_SCHEMA_VERSION`, and a model trained on another version refuses these windows.
 * `docs/features.md` is generated from `FEATURE_SCHEMA` (a test fails when it is stale).
 */
export const FEATURE_WINDOW_SCHEMA_VERSION = 1;
export const FEATURE_SCHEMA_VERSION = 1;

export interface FeatureSpec {
  /** snake_case name, unit in the name where it has one. */
  name: string;
  unit: 'packets' | 'bytes' | 'ms' | 'count' | 'bits' | 'characters' | 'fraction';
  meaning: string;
}

/** The feature vector, in order. "out" = sent by the device, "in" = received by it. */
export const FEATURE_SCHEMA: readonly FeatureSpec[] = [
  { name: 'pkts_out', unit: 'packets', meaning: 'Packets sent by the device in the window.' },
  { name: 'pkts_in', unit: 'packets', meaning: 'Packets received by the device in the window.' },
  { name: 'bytes_out', unit: 'bytes', meaning: 'IP-layer bytes sent (IP total length; frame length for non-IP).' },
  { name: 'bytes_in', unit: 'bytes', meaning: 'IP-layer bytes received.' },
  { name: 'pkt_size_mean_bytes', unit: 'bytes', meaning: 'Mean size of packets sent or received.' },
  { name: 'pkt_size_std_bytes', unit: 'bytes', meaning: 'Population standard deviation of packet size (0 for < 2 packets).' },
  { name: 'iat_mean_ms', unit: 'ms', meaning: 'Mean inter-arrival time between consecutive packets of the device (either direction).' },
  { name: 'iat_std_ms', unit: 'ms', meaning: 'Population standard deviation of the inter-arrival time (0 for < 3 packets).' },
  { name: 'flows_started', unit: 'count', meaning: 'Flows (TCP/UDP/ICMP) the device originated that began in the window.' },
  { name: 'flows_accepted', unit: 'count', meaning: 'Flows originated by others towards the device that began in the window.' },
  { name: 'peers_internal', unit: 'count', meaning: 'Distinct internal (configured subnets) peer addresses talked to.' },
  { name: 'peers_external', unit: 'count', meaning: 'Distinct external peer addresses talked to.' },
  { name: 'dst_ports', unit: 'count', meaning: 'Distinct destination ports of flows the device originated.' },
  { name: 'new_peers', unit: 'count', meaning: "Peers never seen before in this device's history." },
  { name: 'new_dst_ports', unit: 'count', meaning: "Destination ports never used before in this device's history." },
  { name: 'tcp_syn', unit: 'packets', meaning: 'TCP SYN (without ACK) packets sent.' },
  { name: 'tcp_synack_in', unit: 'packets', meaning: 'TCP SYN-ACK packets received (answers to its SYNs).' },
  { name: 'tcp_rst', unit: 'packets', meaning: 'TCP RST packets sent or received.' },
  { name: 'tcp_fin', unit: 'packets', meaning: 'TCP FIN packets sent or received.' },
  { name: 'tcp_rejected', unit: 'count', meaning: 'Connections the device originated that were rejected (REJ) in the window.' },
  { name: 'tcp_half_open', unit: 'count', meaning: 'Connections the device originated that got no answer (S0/SH) when they ended.' },
  { name: 'icmp_pkts', unit: 'packets', meaning: 'ICMP/ICMPv6 packets sent or received.' },
  { name: 'arp_pkts', unit: 'packets', meaning: 'ARP packets sent.' },
  { name: 'arp_spoof_replies', unit: 'packets', meaning: "ARP replies sent that claim an IP already bound to another device's MAC." },
  { name: 'dns_queries', unit: 'count', meaning: 'DNS queries sent.' },
  { name: 'dns_unique_names', unit: 'count', meaning: 'Distinct query names sent.' },
  { name: 'dns_name_entropy_bits', unit: 'bits', meaning: 'Mean Shannon entropy (bits per character) of the leftmost label of query names.' },
  { name: 'dns_name_len_chars', unit: 'characters', meaning: 'Mean length of query names.' },
  { name: 'frac_tcp', unit: 'fraction', meaning: 'Share of the window\'s packets that are TCP.' },
  { name: 'frac_udp', unit: 'fraction', meaning: 'Share of the window\'s packets that are UDP.' },
  { name: 'frac_other', unit: 'fraction', meaning: 'Share of the window\'s packets that are neither TCP nor UDP.' },
  { name: 'hl7_msgs', unit: 'count', meaning: 'HL7 v2 messages (MLLP) sent or received.' },
  { name: 'dicom_pdus', unit: 'count', meaning: 'DICOM upper-layer PDUs recognised, sent or received.' },
  { name: 'mqtt_msgs', unit: 'count', meaning: 'MQTT control packets recognised, sent or received.' },
  { name: 'sensor_overflow', unit: 'count', meaning: 'Flows or devices the sensor could not track in the window because a table was full (sensor-wide).' },
];

export const FEATURE_NAMES: readonly string[] = FEATURE_SCHEMA.map((f) => f.name);
export const FEATURE_COUNT = FEATURE_SCHEMA.length;

export interface FeatureWindow {
  schema_version: typeof FEATURE_WINDOW_SCHEMA_VERSION;
  /** Version of `FEATURE_SCHEMA` that `values` follows. */
  feature_schema_version: number;
  device_id: string;
  /** Sensor that produced the window (config `sensor.id`). */
  sensor_id: string;
  /** Replay/run identifier (forensic replays), empty for live capture. */
  run_id: string;
  /** Window bounds in packet time, seconds since the epoch; [start, end). */
  window_start: number;
  window_end: number;
  /** Feature values in `FEATURE_SCHEMA` order. */
  values: number[];
  /** Up to 16 of the peers and destination ports counted in `new_peers` / `new_dst_ports`, for explanations. */
  new_peers: string[];
  new_dst_ports: number[];
}
