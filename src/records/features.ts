/**
 * Contract: features → transport → detect. One `FeatureWindow` per device per tumbling window of packet time.
 *
 * The feature schema is versioned: any change to the list below (add, remove, reorder, change of meaning or unit)
 * bumps `FEATURE_SCHEMA_VERSION`, and a model trained on another version refuses these windows.
 * `docs/features.md` is generated from `FEATURE_SCHEMA` (a test fails when it is stale).
 *
 * Versions: 2 added `new_peers_internal`, `lateral_new_peer_conns`, `login_conns_in/out` and `beacon_peers`; 3 added
 * `identity_changes` (and the window's `identity_changes` list that names them).
 */
export const FEATURE_WINDOW_SCHEMA_VERSION = 1;
export const FEATURE_SCHEMA_VERSION = 3;

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
  {
    name: 'identity_changes',
    unit: 'count',
    meaning:
      "Changes of the device's medical identity once it has settled: values it sent for the first time of a DICOM AE title (the calling AE of its A-ASSOCIATE-RQs), an HL7 sending application (MSH-3), an HL7 message type (MSH-9) or an HL7 equipment id (OBX-18, PRT-10, PRT-16), more than `devices.identity_settle_ms` (1 h) after its first value of that kind (before, its identity is being learned: nothing counts). Each new value counts once, in the window of the packet that carried it; HL7 acknowledgements (MSH-9 `ACK`) never count, and neither do values met once the inventory's list is full. The window's `identity_changes` list names them (what, from which application, the values seen before).",
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

/**
 * The identity fields whose change counts in `identity_changes` (the inventory's `AppIdentity` lists they come from):
 * - `hl7_message_type`: MSH-9 as sent (`hl7_message_types`);
 * - `hl7_sending_application`: MSH-3 (`hl7_sending_applications`);
 * - `hl7_equipment_id`: OBX-18, PRT-10 or PRT-16, as `id (field)` (`hl7_equipment_ids`);
 * - `dicom_ae_title`: the calling AE title of an A-ASSOCIATE-RQ the device sent (`dicom_ae_titles`).
 */
export type IdentityField = 'hl7_message_type' | 'hl7_sending_application' | 'hl7_equipment_id' | 'dicom_ae_title';

export const IDENTITY_FIELDS: readonly IdentityField[] = ['hl7_message_type', 'hl7_sending_application', 'hl7_equipment_id', 'dicom_ae_title'];

/**
 * One change of a device's medical identity (feature `identity_changes`): a value of `field` it sent for the first time
 * after its identity settled. Only the identity fields the inventory keeps (never a patient field, docs/capture-decode.md);
 * texts are as received (printable ASCII for HL7 and DICOM), ≤ 64 characters each.
 */
export interface IdentityChange {
  field: IdentityField;
  /** The new value (equipment ids as `id (OBX-18)`). */
  value: string;
  /**
   * Where it came from: HL7 message types and equipment ids, the sending application (MSH-3) of the message that
   * carried it; a DICOM AE title, the AE title it called (the A-ASSOCIATE-RQ's called AE); empty when none.
   */
  context: string;
  /** The values of `field` the device had sent before, first seen first (≤ `IDENTITY_SEEN_BEFORE_MAX`). */
  seen_before: string[];
}

/** Changes named per window (`FeatureWindow.identity_changes`), and values of `seen_before` per change. */
export const IDENTITY_CHANGES_MAX = 8;
export const IDENTITY_SEEN_BEFORE_MAX = 8;

const IDENTITY_NOUN: Record<IdentityField, string> = {
  hl7_message_type: 'HL7 message type',
  hl7_sending_application: 'HL7 sending application',
  hl7_equipment_id: 'HL7 equipment id',
  dicom_ae_title: 'DICOM AE title',
};

/**
 * One change in words: "new HL7 message type ADT^A01 from PUMP-03; seen before: ORU^R01", "new DICOM AE title CT_X
 * calling PACS01; seen before: CT01". Values are as received: print the text through `printable` (terminal) or an
 * escaper (HTML).
 */
export function identityChangeText(c: IdentityChange): string {
  const ctx = c.context === '' ? '' : c.field === 'dicom_ae_title' ? ` calling ${c.context}` : ` from ${c.context}`;
  return `new ${IDENTITY_NOUN[c.field]} ${c.value}${ctx}; seen before: ${c.seen_before.length > 0 ? c.seen_before.join(', ') : 'none'}`;
}

/** All of a window's changes in words (`identityChangeText`, joined by " | "), "" when none. */
export function identityChangesText(changes: readonly IdentityChange[] | undefined, count = changes?.length ?? 0): string {
  if (changes === undefined || changes.length === 0) return '';
  const more = count > changes.length ? ` | +${count - changes.length} more` : '';
  return changes.map(identityChangeText).join(' | ') + more;
}

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
  /**
   * The changes counted in the feature `identity_changes`, up to `IDENTITY_CHANGES_MAX` (the feature counts them all),
   * for explanations. Present only when the window has one (most windows have none). Like `new_peers` it names what
   * the count counted; it is not a model input.
   */
  identity_changes?: IdentityChange[];
}
