/**
 * Contract: flows → features and the flow JSONL sink. Modelled on Zeek's conn.log (`base/protocols/conn/main.zeek`):
 * one record per ended (or evicted) bidirectional flow. "orig" is the side that sent the first packet we saw,
 * "resp" the other side.
 *
 * Known inaccuracies (as Zeek documents its own): a flow already running when capture started has its originator
 * guessed from the first packet seen (history starts with a lower-case letter or `^` is set); byte counts are taken
 * from IP/transport header lengths, so frames cut by the snaplen still count their full size; IP fragments after the
 * first carry no ports and are counted on the fragment's own IP-pair flow.
 */
export const FLOW_SCHEMA_VERSION = 1;

/** Zeek's conn_state vocabulary. */
export type ConnState =
  | 'S0' // connection attempt seen, no reply
  | 'S1' // established, not terminated
  | 'SF' // normal establishment and termination
  | 'REJ' // connection attempt rejected (RST in reply to SYN)
  | 'S2' // established, close attempt by originator seen, no reply
  | 'S3' // established, close attempt by responder seen, no reply
  | 'RSTO' // established, originator aborted (sent a RST)
  | 'RSTR' // responder sent a RST
  | 'RSTOS0' // originator sent a SYN followed by a RST, no SYN-ACK from responder
  | 'RSTRH' // responder sent a SYN ACK followed by a RST, no SYN from the (purported) originator
  | 'SH' // originator sent a SYN followed by a FIN, no SYN ACK from responder (half-open)
  | 'SHR' // responder sent a SYN ACK followed by a FIN, no SYN from the originator
  | 'OTH'; // no SYN seen, midstream traffic

export type FlowProto = 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'arp' | 'other';

/** Why the flow record was written. */
export type FlowEndReason = 'closed' | 'idle_timeout' | 'active_timeout' | 'evicted' | 'capture_end';

export interface FlowRecord {
  schema_version: typeof FLOW_SCHEMA_VERSION;
  /** Unique id of the flow within a sensor run: stable for the same capture (derived from first packet time and key). */
  uid: string;
  /** Time of the first packet, seconds since the Unix epoch (fractional, µs precision). */
  ts: number;
  /** Seconds from the first to the last packet. 0 for single-packet flows. */
  duration: number;
  /** Originator address (IPv4 dotted quad, IPv6 compressed; for ARP the sender protocol address). */
  orig_h: string;
  /** Originator port; ICMP: the type of the first packet; 0 when the protocol has no ports. */
  orig_p: number;
  resp_h: string;
  /** Responder port; ICMP: the code of the first packet; 0 when the protocol has no ports. */
  resp_p: number;
  proto: FlowProto;
  /** Application protocol identified by content in this flow (`dns`, `dhcp`, `tls`, `hl7`, `dicom`, `mqtt`), or empty. */
  service: string;
  /** Transport payload bytes sent by the originator (from header lengths). */
  orig_bytes: number;
  resp_bytes: number;
  /** TCP only; 'OTH' for other protocols. */
  conn_state: ConnState;
  /**
   * Zeek history string: upper case for the originator, lower case for the responder —
   * S syn, H syn-ack, A ack, D data, F fin, R rst, ^ direction flipped. Each letter recorded once per direction.
   */
  history: string;
  orig_pkts: number;
  /** IP-layer bytes sent by the originator (IP total lengths). */
  orig_ip_bytes: number;
  resp_pkts: number;
  resp_ip_bytes: number;
  /** Frame bytes sent by the originator (on-the-wire frame lengths, as `tshark -z conv` counts them). */
  orig_frame_bytes: number;
  resp_frame_bytes: number;
  /** Originator/responder MAC (aa:bb:cc:dd:ee:ff) as seen in the first packet each way; empty when not on L2. */
  orig_l2_addr: string;
  resp_l2_addr: string;
  /** Outer VLAN ID, or -1. */
  vlan: number;
  /** Device ids (see device.ts) of each side when they are monitored devices, else empty. */
  orig_device: string;
  resp_device: string;
  end_reason: FlowEndReason;
}

/**
 * Per-packet output of the flow table (flows → features). The flow table reuses ONE object for every packet, so a
 * consumer must read it during the call. Numbers and booleans only.
 */
export interface FlowUpdate {
  /** Handle of the packet's flow (a slot in the flow table), -1 when the packet belongs to no flow (non-IP non-ARP). */
  flow: number;
  /** The packet created the flow (`from_orig` is false when the first packet was a SYN-ACK and the flow was flipped). */
  started: boolean;
  /** The packet was sent by the flow's originator. */
  from_orig: boolean;
  /**
   * This packet rejected the originator's attempt: the flow became `REJ` (RST to a SYN), or it is the responder's first
   * packet and a reset (a FIN, NULL or XMAS probe answered by a closed port).
   */
  rejected: boolean;
  /** Number of flows evicted from the full table to make room for this packet's flow (0 or 1). */
  overflow: number;
  /**
   * This packet completed a TCP three-way handshake: the originator's ACK (no SYN, no RST) after its own SYN and the
   * responder's SYN-ACK, acknowledging the SYN-ACK's sequence number + 1. A blind spoofer never sends it (it does not
   * see the SYN-ACK). Device evidence (records/device.ts `tcp_handshake`).
   */
  handshake: boolean;
  /**
   * This packet is the first from its side of the flow, the other side having sent before (the flow's first packet
   * came from there: usually the originator; the responder in a flow flipped on a first SYN-ACK), and is not a TCP
   * RST: the flow's first packet was answered. Device evidence (`answered`, `arp_reply`).
   */
  answered: boolean;
}

/** A flow that ended, in the form the feature stage needs (no strings but the constant literals below). */
export interface FlowEnd {
  /** Handle the flow had (freed after the callback returns). */
  flow: number;
  proto: FlowProto;
  conn_state: ConnState;
  end_reason: FlowEndReason;
  /** Device handles (see `PacketDevices`) of originator and responder, -1 when not a tracked device. */
  orig_device: number;
  resp_device: number;
  /** First and last packet time, seconds since the epoch. */
  start_ts: number;
  end_ts: number;
}
