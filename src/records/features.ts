/**
 * Contract: features → transport → detect. One `FeatureWindow` per device per tumbling window of packet time.
 *
 * The feature schema is versioned: any change to the list below (add, remove, reorder, change of meaning or unit)
 * bumps `FEATURE_SCHEMA_VERSION`, and a model trained on another version refuses these windows.
 * `docs/features.md` is generated from `FEATURE_SCHEMA` (a test fails when it is stale).
 */
export const FEATURE_WINDOW_SCHEMA_VERSION = 1;
export const FEATURE_SCHEMA_VERSION = 2;

export interface FeatureSpec {
  /** snake_case name, unit in the name where it has one. */
  name: string;
  unit: 'packets' | 'bytes' | 'ms' | 'count' | 'bits' | 'characters' | 'fraction';
  meaning: string;
}

/**
 * The feature vector, in order. "out" = sent by the device, "in" = received by it. Every count is over the window's
 * packets in packet time; a window is emitted for a device only when it sent or received at least one packet in it
 * (or a flow it originated ended in it).
 */
export const FEATURE_SCHEMA = [
  { name: 'pkts_out', unit: 'packets', meaning: 'Packets sent by the device in the window.' },
  { name: 'pkts_in', unit: 'packets', meaning: 'Packets received by the device in the window.' },
  { name: 'bytes_out', unit: 'bytes', meaning: 'IP-layer bytes sent (IP total length; frame length for non-IP frames such as ARP).' },
  { name: 'bytes_in', unit: 'bytes', meaning: 'IP-layer bytes received (same measure as `bytes_out`).' },
  { name: 'pkt_size_mean_bytes', unit: 'bytes', meaning: 'Mean size (as in `bytes_out`) of the packets sent or received.' },
  { name: 'pkt_size_std_bytes', unit: 'bytes', meaning: 'Population standard deviation of packet size (0 for < 2 packets).' },
  {
    name: 'iat_mean_ms',
    unit: 'ms',
    meaning: 'Mean inter-arrival time between consecutive packets of the device (either direction) within the window (0 for < 2 packets).',
  },
  { name: 'iat_std_ms', unit: 'ms', meaning: 'Population standard deviation of the inter-arrival time (0 for < 3 packets).' },
  { name: 'flows_started', unit: 'count', meaning: 'TCP/UDP/ICMP flows the device originated that began in the window.' },
  { name: 'flows_accepted', unit: 'count', meaning: 'TCP/UDP/ICMP flows originated by others towards the device that began in the window.' },
  {
    name: 'peers_internal',
    unit: 'count',
    meaning: 'Distinct peer IP addresses inside the configured internal subnets that the device sent to or received from.',
  },
  { name: 'peers_external', unit: 'count', meaning: 'Distinct peer IP addresses outside the internal subnets.' },
  { name: 'dst_ports', unit: 'count', meaning: 'Distinct responder ports of the TCP/UDP flows the device originated in the window.' },
  {
    name: 'new_peers',
    unit: 'count',
    meaning: "Peer IP addresses never seen before in this device's history (history bounded to 4096 peers per device).",
  },
  {
    name: 'new_dst_ports',
    unit: 'count',
    meaning: "Responder ports of originated TCP/UDP flows never used before in this device's history (bounded to 1024).",
  },
  { name: 'tcp_syn', unit: 'packets', meaning: 'TCP SYN (without ACK) packets sent.' },
  { name: 'tcp_synack_in', unit: 'packets', meaning: 'TCP SYN-ACK packets received (answers to its SYNs).' },
  { name: 'tcp_rst', unit: 'packets', meaning: 'TCP RST packets sent or received.' },
  { name: 'tcp_fin', unit: 'packets', meaning: 'TCP FIN packets sent or received.' },
  {
    name: 'tcp_rejected',
    unit: 'count',
    meaning:
      'Connections the device originated that were rejected by a packet in the window: conn_state became REJ (RST to a SYN), or the responder answered with a reset as its first packet (a FIN, NULL or XMAS probe to a closed port).',
  },
  {
    name: 'tcp_half_open',
    unit: 'count',
    meaning:
      'Connections the device originated that ended in the window without an answer (conn_state S0, SH or RSTOS0); counted when the flow ends, i.e. after the TCP attempt timeout.',
  },
  { name: 'icmp_pkts', unit: 'packets', meaning: 'ICMP/ICMPv6 packets sent or received.' },
  { name: 'arp_pkts', unit: 'packets', meaning: 'ARP packets sent.' },
  {
    name: 'arp_spoof_replies',
    unit: 'packets',
    meaning: "ARP replies sent that claim an IPv4 address currently bound to another device's MAC.",
  },
  { name: 'dns_queries', unit: 'count', meaning: 'DNS queries sent (packets with QR = 0 and a question).' },
  { name: 'dns_unique_names', unit: 'count', meaning: 'Distinct query names sent.' },
  {
    name: 'dns_name_entropy_bits',
    unit: 'bits',
    meaning: 'Mean over the queries of the Shannon entropy (bits per character) of the leftmost label of the query name.',
  },
  { name: 'dns_name_len_chars', unit: 'characters', meaning: 'Mean length of the query names sent.' },
  { name: 'frac_tcp', unit: 'fraction', meaning: "Share of the device's packets (either direction) in the window that are TCP." },
  { name: 'frac_udp', unit: 'fraction', meaning: "Share of the device's packets in the window that are UDP." },
  { name: 'frac_other', unit: 'fraction', meaning: "Share of the device's packets in the window that are neither TCP nor UDP." },
  { name: 'hl7_msgs', unit: 'count', meaning: 'HL7 v2 messages (MLLP frames with an MSH segment) sent or received.' },
  { name: 'dicom_pdus', unit: 'count', meaning: 'DICOM upper-layer PDUs recognised, sent or received.' },
  { name: 'mqtt_msgs', unit: 'count', meaning: 'MQTT control packets recognised, sent or received.' },
  {
    name: 'new_peers_internal',
    unit: 'count',
    meaning: 'Of `new_peers`, those inside the configured internal subnets (the rest are external).',
  },
  {
    name: 'lateral_new_peer_conns',
    unit: 'count',
    meaning:
      'TCP connections the device originated to an internal peer that is new to it (counted in `new_peers` in this window) on a remote-access or file-sharing port (FTP 21, SSH 22, telnet 23, MS-RPC 135, NetBIOS 139, SMB 445, RDP 3389, VNC 5900, WinRM 5985/5986).',
  },
  {
    name: 'login_conns_in',
    unit: 'count',
    meaning:
      'TCP connections to the device on the remote-access ports of `lateral_new_peer_conns` that it accepted (SYN-ACKs it sent from those ports; brute force against it shows here, probes of closed ports do not).',
  },
  {
    name: 'login_conns_out',
    unit: 'count',
    meaning: 'TCP connections the device opened to others on those ports that were accepted (SYN-ACKs it received from them).',
  },
  {
    name: 'beacon_peers',
    unit: 'count',
    meaning:
      "External peers the device took up later (first contacted more than `beacon_settle_ms` after the device's first packet, never before) to which its connection starts have become regular: at least 4 starts, the last 3 intervals with mean 1 s to 15 min and coefficient of variation ≤ 0.35 (beaconing). Counted once per peer per window, during the first `beacon_track_ms` after the first contact.",
  },
  {
    name: 'sensor_overflow',
    unit: 'count',
    meaning:
      'Sensor-wide, same value for every device: flows evicted from the full flow table plus packets whose sender the full device inventory could not admit, during the window.',
  },
] as const satisfies readonly FeatureSpec[];

/** A feature's name, as a type: a `Record<FeatureName, number>` must set every feature. */
export type FeatureName = (typeof FEATURE_SCHEMA)[number]['name'];

export const FEATURE_NAMES: readonly string[] = FEATURE_SCHEMA.map((f) => f.name);

/** A feature's index in `FeatureWindow.values` (resolve once, at module load, not per window). */
export function featureIndex(name: FeatureName): number {
  const i = FEATURE_NAMES.indexOf(name);
  if (i < 0) throw new Error(`feature ${name} is not in the feature schema`);
  return i;
}
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
  /**
   * Capture loss while the window was open, a fraction 0..1: of the packets that reached the sensor's capture (handed
   * to the sensor + dropped), the share that libpcap dropped (`pcap_dropped + pcap_ifdropped`, docs/capture-decode.md).
   * Sensor-wide, the same value for every device's window of that interval: a dropped packet cannot be attributed
   * to a device. Metadata, NOT a feature: no model reads it and it is not part of `values` (no feature schema
   * change); the detector uses it to discount windows that lost packets (`detect.capture_loss_max`,
   * src/detect/README.md).
   *
   * Optional: present only when the sensor reads a source that can drop (a live interface) and noted its capture
   * counters (`AnalysisPipeline.noteCaptureLoss`); absent for a file (every frame of a file is read) and from sensors
   * older than the field. Known inaccuracy: the counters are read about once a second (wall time) while windows close
   * on packet time, so drops are attributed to the window open when they were read: up to ~1 s of drops can land in
   * the next window. libpcap's `pcap_ifdropped` counts all of the interface's receive drops, not only what the BPF
   * filter passes.
   */
  capture_loss?: number;
}
