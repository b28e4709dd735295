/**
 * Contract: capture → decode → flows.
 *
 * A `CapturedFrame` is what a capture source hands to the decoder; a `DecodedPacket` is the decoder's metadata for
 * one frame. Neither keeps payload bytes past the call: `CapturedFrame.data` is a view valid only until the next
 * frame, and `DecodedPacket` holds numbers and a few short strings of application *metadata* (DNS names, HL7 message
 * types, DICOM AE titles), never payload or patient fields.
 *
 * For speed the decoder reuses one `DecodedPacket` object per source and overwrites every field on each frame
 * (see `resetDecodedPacket`): a consumer that keeps a packet past the callback must copy what it needs.
 */
export const PACKET_SCHEMA_VERSION = 1;

/** libpcap LINKTYPE_* values that wardwatch decodes. */
export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte host-order address family
  ETHERNET: 1,
  RAW: 101, // raw IPv4 or IPv6, version from the first nibble
  LINUX_SLL: 113,
  LOOP: 108, // OpenBSD loopback: 4-byte network-order address family
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface CapturedFrame {
  /** Capture time, whole seconds since the Unix epoch (UTC). */
  ts_sec: number;
  /** Capture time, nanoseconds within the second (0..999,999,999); µs captures are scaled ×1000. */
  ts_nsec: number;
  /** Bytes captured (≤ snaplen). */
  cap_len: number;
  /** Bytes on the wire (may exceed `cap_len` when the snaplen cut the frame). */
  orig_len: number;
  /** LINKTYPE_* of the interface the frame came from. */
  linktype: number;
  /** Interface index: pcapng IDB index, 0 for classic pcap and live capture. */
  interface_id: number;
  /**
   * The captured bytes, or a reused buffer that contains them at `data_offset` (so that a reader can hand out frames
   * without allocating a view per frame). Valid only during the callback.
   */
  data: Buffer;
  /** Where the frame starts in `data`: the frame is `data[data_offset, data_offset + cap_len)`. Absent means 0. */
  data_offset?: number;
}

/** Layer-3/4 protocol the decoder reached. `OTHER` = an EtherType or IP protocol it does not decode. */
export const Proto = {
  NONE: 0,
  ARP: 1,
  ICMP: 2,
  TCP: 3,
  UDP: 4,
  ICMPV6: 5,
  OTHER: 255,
} as const;
export type ProtoCode = (typeof Proto)[keyof typeof Proto];

/** Application protocol identified by content (not only by port). */
export const AppProto = {
  NONE: 0,
  DNS: 1,
  DHCP: 2,
  TLS: 3,
  HL7: 4,
  DICOM: 5,
  MQTT: 6,
} as const;
export type AppProtoCode = (typeof AppProto)[keyof typeof AppProto];

/** TCP flag bits as in the header's flags byte. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/**
 * Application metadata. Only the fields named here are ever extracted; everything else in the payload is skipped.
 * Strings are bounded in length by the decoder (names ≤ 255, identifiers ≤ 64 characters).
 */
export interface AppMeta {
  /** DNS: first question's name (lower-case, no trailing dot). */
  dns_qname?: string;
  /** DNS: first question's QTYPE (1 = A, 28 = AAAA, ...). */
  dns_qtype?: number;
  /** DNS: RCODE (responses only meaningful). */
  dns_rcode?: number;
  /** DNS: QR bit, true for responses. */
  dns_response?: boolean;
  /** DNS: ANCOUNT. */
  dns_answers?: number;
  /** DHCP: option 53 message type (1 DISCOVER, 3 REQUEST, 5 ACK, ...). */
  dhcp_msg_type?: number;
  /** DHCP: option 12 host name. */
  dhcp_hostname?: string;
  /** DHCP: option 60 vendor class identifier. */
  dhcp_vendor_class?: string;
  /** DHCP: option 50 requested IP address, dotted quad. */
  dhcp_requested_ip?: string;
  /**
   * DHCP: option 55 parameter request list as the option codes in the order asked, comma-separated (`1,3,6,15,28`):
   * a fingerprint of the client's DHCP stack. At most 64 codes are kept.
   */
  dhcp_param_request?: string;
  /** TLS: server_name from a ClientHello. */
  tls_sni?: string;
  /** HL7 v2 (MLLP-framed): MSH-3 sending application (the whole field, components included, e.g. `MON^1.2.3^ISO`). */
  hl7_sending_app?: string;
  /** HL7 v2: MSH-4 sending facility. */
  hl7_sending_facility?: string;
  /** HL7 v2: MSH-5 receiving application. */
  hl7_receiving_app?: string;
  /** HL7 v2: MSH-6 receiving facility. */
  hl7_receiving_facility?: string;
  /** HL7 v2: MSH-9 message type, e.g. `ORU^R01`. */
  hl7_msg_type?: string;
  /** HL7 v2: MSH-12 version id, e.g. `2.5`. */
  hl7_version?: string;
  /**
   * HL7 v2: the first non-empty OBX-18 (equipment instance identifier) of the message. Of an OBX segment only field 18
   * is read; no observation value, and no other segment's field (PID, NK1, …) is ever read.
   */
  hl7_obx18?: string;
  /** HL7 v2.8+: the first non-empty PRT-10 (participation device: the UDI as on the label) of the message. */
  hl7_prt10?: string;
  /** HL7 v2.8.2+: the first non-empty PRT-16 (participation device identifier: the UDI device identifier). */
  hl7_prt16?: string;
  /** DICOM upper layer: PDU type (1 A-ASSOCIATE-RQ, 2 -AC, 3 -RJ, 4 P-DATA-TF, 5 A-RELEASE-RQ, ...). */
  dicom_pdu_type?: number;
  /** DICOM A-ASSOCIATE-RQ/AC: calling AE title (trimmed). */
  dicom_calling_ae?: string;
  /** DICOM A-ASSOCIATE-RQ/AC: called AE title (trimmed). */
  dicom_called_ae?: string;
  /** DICOM A-ASSOCIATE-RQ/AC user information: implementation class UID of the PDU's sender. */
  dicom_impl_class_uid?: string;
  /** DICOM A-ASSOCIATE-RQ/AC user information: implementation version name of the PDU's sender. */
  dicom_impl_version?: string;
  /**
   * DICOM A-ASSOCIATE-RQ: the abstract syntaxes (SOP class UIDs) of its presentation contexts, distinct, in order,
   * comma-separated (UIDs hold only digits and dots); at most 32 (`dicom_sop_classes_dropped` counts the others).
   * Only the part of the PDU in this segment is read (a large RQ split over TCP segments yields its first part).
   */
  dicom_sop_classes?: string;
  /** DICOM A-ASSOCIATE-RQ: distinct abstract syntaxes beyond the 32 kept in `dicom_sop_classes`. */
  dicom_sop_classes_dropped?: number;
  /** MQTT: control packet type (1 CONNECT, 3 PUBLISH, ...). */
  mqtt_msg_type?: number;
  /** MQTT CONNECT: client identifier. */
  mqtt_client_id?: string;
  /** MQTT PUBLISH: topic name. */
  mqtt_topic?: string;
}

/**
 * Why the decoder stopped early on a frame (the first problem found); `NONE` when it decoded every header it knows.
 * A packet with an error still carries what was decoded before the problem (e.g. MACs and IPs for a bad TCP header).
 * The decoder counts each reason (see `src/decode/counters.ts`).
 */
export const DecodeError = {
  NONE: 0,
  UNSUPPORTED_LINKTYPE: 1,
  TRUNCATED_LINK: 2,
  TRUNCATED_ARP: 3,
  TRUNCATED_IPV4: 4,
  BAD_IPV4_VERSION: 5,
  BAD_IPV4_HEADER_LENGTH: 6,
  BAD_IPV4_TOTAL_LENGTH: 7,
  BAD_IPV4_OPTION: 8,
  TRUNCATED_IPV6: 9,
  BAD_IPV6_VERSION: 10,
  TRUNCATED_IPV6_EXT: 11,
  IPV6_EXT_LIMIT: 12,
  TRUNCATED_TCP: 13,
  BAD_TCP_HEADER_LENGTH: 14,
  BAD_TCP_OPTION: 15,
  TRUNCATED_UDP: 16,
  BAD_UDP_LENGTH: 17,
  TRUNCATED_ICMP: 18,
  TRUNCATED_AH: 19,
} as const;
export type DecodeErrorCode = (typeof DecodeError)[keyof typeof DecodeError];

export interface DecodedPacket {
  schema_version: typeof PACKET_SCHEMA_VERSION;
  /** Copied from the frame. */
  ts_sec: number;
  ts_nsec: number;
  interface_id: number;
  linktype: number;
  cap_len: number;
  orig_len: number;

  /** Ethernet source / destination as 48-bit integers; -1 when the link layer has no MAC (raw IP, null). */
  eth_src: number;
  eth_dst: number;
  /** Outer and inner 802.1Q VLAN IDs; -1 when absent. */
  vlan_outer: number;
  vlan_inner: number;
  /** EtherType after VLAN tags (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP); -1 when unknown. */
  ethertype: number;

  /** 4 for IPv4, 6 for IPv6, 0 when there is no IP header. */
  ip_version: number;
  /**
   * Addresses: IPv4 as an unsigned 32-bit integer in `ip_src`/`ip_dst`; IPv6 as four big-endian 32-bit words in
   * `ip6_src`/`ip6_dst` (and `ip_src`/`ip_dst` hold a 32-bit fold of them for hashing).
   */
  ip_src: number;
  ip_dst: number;
  ip6_src: Uint32Array;
  ip6_dst: Uint32Array;
  /** IP protocol number of the transport header (after IPv6 extension headers); -1 when none. */
  ip_proto: number;
  ip_ttl: number;
  /** IPv4 total length / IPv6 40 + payload length, in bytes. */
  ip_len: number;
  /**
   * True for a fragment (MF set or offset > 0); fragments after the first carry no transport header: for them
   * `ip_proto` is the fragment's protocol, `proto` is NONE and the ports are -1.
   */
  ip_fragment: boolean;

  proto: ProtoCode;
  /** TCP/UDP ports; -1 when there is none. ICMP: type in `src_port`, code in `dst_port`. */
  src_port: number;
  dst_port: number;
  /** TCP flags byte; 0 for non-TCP. */
  tcp_flags: number;
  tcp_seq: number;
  tcp_ack: number;
  tcp_window: number;
  /** TCP MSS option value; -1 when absent. */
  tcp_mss: number;
  /** Transport payload bytes present on the wire (TCP/UDP/ICMP payload), from header lengths, not from cap_len. */
  payload_len: number;

  /** ARP: opcode (1 request, 2 reply), sender/target hardware and protocol (IPv4) addresses; -1 when not ARP. */
  arp_op: number;
  arp_sha: number;
  arp_spa: number;
  arp_tha: number;
  arp_tpa: number;

  app: AppProtoCode;
  /** Application metadata; `undefined` for the (common) packets that carry none. A fresh object per packet. */
  app_meta: AppMeta | undefined;

  /** First decoding problem found in this frame (`DecodeError`), 0 when none. */
  decode_error: DecodeErrorCode;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    schema_version: PACKET_SCHEMA_VERSION,
    ts_sec: 0,
    ts_nsec: 0,
    interface_id: 0,
    linktype: 0,
    cap_len: 0,
    orig_len: 0,
    eth_src: -1,
    eth_dst: -1,
    vlan_outer: -1,
    vlan_inner: -1,
    ethertype: -1,
    ip_version: 0,
    ip_src: 0,
    ip_dst: 0,
    ip6_src: new Uint32Array(4),
    ip6_dst: new Uint32Array(4),
    ip_proto: -1,
    ip_ttl: 0,
    ip_len: 0,
    ip_fragment: false,
    proto: Proto.NONE,
    src_port: -1,
    dst_port: -1,
    tcp_flags: 0,
    tcp_seq: 0,
    tcp_ack: 0,
    tcp_window: 0,
    tcp_mss: -1,
    payload_len: 0,
    arp_op: -1,
    arp_sha: -1,
    arp_spa: -1,
    arp_tha: -1,
    arp_tpa: -1,
    app: AppProto.NONE,
    app_meta: undefined,
    decode_error: DecodeError.NONE,
  };
}

/** Formats a 48-bit MAC integer as `aa:bb:cc:dd:ee:ff`. Not for the hot path. */
export function formatMac(mac: number): string {
  if (mac < 0) return '';
  const hex = mac.toString(16).padStart(12, '0');
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into a 48-bit integer; -1 when malformed. */
export function parseMac(text: string): number {
  const hex = text.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

/** Formats an unsigned 32-bit IPv4 integer as a dotted quad. */
export function formatIpv4(ip: number): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** Formats four big-endian 32-bit words as a compressed IPv6 address (RFC 5952). */
export function formatIpv6(words: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = (words[i] ?? 0) >>> 0;
    groups.push(w >>> 16, w & 0xffff);
  }
  // Longest run of ≥2 zero groups is compressed to '::'.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The packet's source and destination IP as text (empty when it has no IP header). */
export function packetAddresses(p: DecodedPacket): { src: string; dst: string } {
  if (p.ip_version === 4) return { src: formatIpv4(p.ip_src), dst: formatIpv4(p.ip_dst) };
  if (p.ip_version === 6) return { src: formatIpv6(p.ip6_src), dst: formatIpv6(p.ip6_dst) };
  return { src: '', dst: '' };
}
