/**
 * Decoded packets as records of a shared ring, for the hand-off from the capture thread of a threaded sensor to its
 * analysis worker (src/pipeline/threaded.ts): every field of `DecodedPacket` in a record of a `SharedArrayBuffer`, a
 * packet's application metadata in the records after it, and the calls between packets as records of their own.
 *
 * `writePacket` then `readPacket` gives back a packet equal field by field (test/unit/pipeline-threaded.test.ts).
 */
import type { AppMeta, AppProtoCode, DecodeErrorCode, DecodedPacket, ProtoCode } from '../records/packet.js';

/**
 * A record is `RECORD_SLOTS` float64-sized slots (216 bytes), read through three views of the same memory: float64
 * slots 0–10 hold the fields that need more than 32 bits or may be unsigned 32-bit (MACs, IPv4 words, TCP sequence
 * numbers, seconds), int32 slots 22–29 (as uint32) the IPv6 words, int32 slots 30–52 the small integers, and int32
 * slot 53 the record's kind. (A first layout of one float64 per field, 344 bytes, cost a third more to hand over.)
 */
export const RECORD_SLOTS = 27;
const I32_PER_RECORD = RECORD_SLOTS * 2;
/** Int32 slot of the record's kind. */
const KIND = 53;

/** The three views of a ring's memory. */
export interface RecordViews {
  f64: Float64Array;
  i32: Int32Array;
  u32: Uint32Array;
}

export function recordViews(buffer: ArrayBufferLike): RecordViews {
  return { f64: new Float64Array(buffer), i32: new Int32Array(buffer), u32: new Uint32Array(buffer) };
}

/** What a ring record holds. */
export const RecordKind = {
  PACKET: 0,
  /** A packet with its application metadata in the records after it (`writeMeta`). */
  PACKET_META: 1,
  /** `noteCaptureLoss(arg 0, arg 1)`. */
  LOSS: 2,
  /** `closeIdle(arg 0)`. */
  IDLE: 3,
  /** Answer request `arg 0` with the counters. */
  SNAPSHOT: 4,
  /** Flush, then answer request `arg 0`. */
  FLUSH: 5,
  /** The end: the worker returns. */
  CLOSE: 6,
  /** A packet whose metadata is too long for the ring: the next message beside the ring. */
  PACKET_META_PORT: 7,
  /** Answer request `arg 0` with the inventory's entries. */
  ENTRIES: 8,
} as const;

export function kindOf(v: RecordViews, rec: number): number {
  return v.i32[rec * I32_PER_RECORD + KIND]!;
}

export function setKind(v: RecordViews, rec: number, kind: number): void {
  v.i32[rec * I32_PER_RECORD + KIND] = kind;
}

/** A call between packets: its kind and two numeric arguments. */
export function writeControl(v: RecordViews, rec: number, kind: number, a: number, b: number): void {
  v.f64[rec * RECORD_SLOTS] = a;
  v.f64[rec * RECORD_SLOTS + 1] = b;
  v.i32[rec * I32_PER_RECORD + KIND] = kind;
}

export function controlArg(v: RecordViews, rec: number, i: 0 | 1): number {
  return v.f64[rec * RECORD_SLOTS + i]!;
}

/** Writes `p` (all but `app_meta`) at record `rec`, of kind PACKET (the caller sets another kind after it). */
export function writePacket(v: RecordViews, rec: number, p: DecodedPacket): void {
  const f = v.f64;
  const o = rec * RECORD_SLOTS;
  f[o] = p.ts_sec;
  f[o + 1] = p.eth_src;
  f[o + 2] = p.eth_dst;
  f[o + 3] = p.ip_src;
  f[o + 4] = p.ip_dst;
  f[o + 5] = p.tcp_seq;
  f[o + 6] = p.tcp_ack;
  f[o + 7] = p.arp_sha;
  f[o + 8] = p.arp_spa;
  f[o + 9] = p.arp_tha;
  f[o + 10] = p.arp_tpa;
  const u = v.u32;
  const q = rec * I32_PER_RECORD;
  const s6 = p.ip6_src;
  const d6 = p.ip6_dst;
  u[q + 22] = s6[0]!;
  u[q + 23] = s6[1]!;
  u[q + 24] = s6[2]!;
  u[q + 25] = s6[3]!;
  u[q + 26] = d6[0]!;
  u[q + 27] = d6[1]!;
  u[q + 28] = d6[2]!;
  u[q + 29] = d6[3]!;
  const i = v.i32;
  i[q + 30] = p.ts_nsec;
  i[q + 31] = p.interface_id;
  i[q + 32] = p.linktype;
  i[q + 33] = p.cap_len;
  i[q + 34] = p.orig_len;
  i[q + 35] = p.vlan_outer;
  i[q + 36] = p.vlan_inner;
  i[q + 37] = p.ethertype;
  i[q + 38] = p.ip_version;
  i[q + 39] = p.ip_proto;
  i[q + 40] = p.ip_ttl;
  i[q + 41] = p.ip_len;
  i[q + 42] = p.ip_fragment ? 1 : 0;
  i[q + 43] = p.proto;
  i[q + 44] = p.src_port;
  i[q + 45] = p.dst_port;
  i[q + 46] = p.tcp_flags;
  i[q + 47] = p.tcp_window;
  i[q + 48] = p.tcp_mss;
  i[q + 49] = p.payload_len;
  i[q + 50] = p.arp_op;
  i[q + 51] = p.app;
  i[q + 52] = p.decode_error;
  i[q + KIND] = RecordKind.PACKET;
}

/** Reads the packet of record `rec` into `p` (a reused packet); `meta` is its application metadata. */
export function readPacket(v: RecordViews, rec: number, p: DecodedPacket, meta: AppMeta | undefined): void {
  const f = v.f64;
  const o = rec * RECORD_SLOTS;
  p.ts_sec = f[o]!;
  p.eth_src = f[o + 1]!;
  p.eth_dst = f[o + 2]!;
  p.ip_src = f[o + 3]!;
  p.ip_dst = f[o + 4]!;
  p.tcp_seq = f[o + 5]!;
  p.tcp_ack = f[o + 6]!;
  p.arp_sha = f[o + 7]!;
  p.arp_spa = f[o + 8]!;
  p.arp_tha = f[o + 9]!;
  p.arp_tpa = f[o + 10]!;
  const u = v.u32;
  const q = rec * I32_PER_RECORD;
  const s6 = p.ip6_src;
  const d6 = p.ip6_dst;
  s6[0] = u[q + 22]!;
  s6[1] = u[q + 23]!;
  s6[2] = u[q + 24]!;
  s6[3] = u[q + 25]!;
  d6[0] = u[q + 26]!;
  d6[1] = u[q + 27]!;
  d6[2] = u[q + 28]!;
  d6[3] = u[q + 29]!;
  const i = v.i32;
  p.ts_nsec = i[q + 30]!;
  p.interface_id = i[q + 31]!;
  p.linktype = i[q + 32]!;
  p.cap_len = i[q + 33]!;
  p.orig_len = i[q + 34]!;
  p.vlan_outer = i[q + 35]!;
  p.vlan_inner = i[q + 36]!;
  p.ethertype = i[q + 37]!;
  p.ip_version = i[q + 38]!;
  p.ip_proto = i[q + 39]!;
  p.ip_ttl = i[q + 40]!;
  p.ip_len = i[q + 41]!;
  p.ip_fragment = i[q + 42] === 1;
  p.proto = i[q + 43]! as ProtoCode;
  p.src_port = i[q + 44]!;
  p.dst_port = i[q + 45]!;
  p.tcp_flags = i[q + 46]!;
  p.tcp_window = i[q + 47]!;
  p.tcp_mss = i[q + 48]!;
  p.payload_len = i[q + 49]!;
  p.arp_op = i[q + 50]!;
  p.app = i[q + 51]! as AppProtoCode;
  p.decode_error = i[q + 52]! as DecodeErrorCode;
  p.app_meta = meta;
}

/**
 * Application metadata in the records after its packet's (`PACKET_META`): a stream of float64 slots (`RECORD_SLOTS` a
 * record) — its length,
 * then per field present its index in `META_FIELDS` and its value (a number; a boolean as 0/1; a string as its length
 * and one UTF-16 code unit per slot). Metadata whose stream would take more than `MAX_META_RECORDS` records (a long
 * MQTT topic) is sent beside the ring instead (`PACKET_META_PORT`).
 */
const META_FIELDS = ['dns_qname', 'dns_qtype', 'dns_rcode', 'dns_response', 'dns_answers', 'dhcp_msg_type', 'dhcp_hostname', 'dhcp_vendor_class', 'dhcp_requested_ip', 'tls_sni', 'hl7_sending_app', 'hl7_msg_type', 'dicom_pdu_type', 'dicom_calling_ae', 'dicom_called_ae', 'mqtt_msg_type', 'mqtt_client_id', 'mqtt_topic', 'dhcp_param_request', 'hl7_sending_facility', 'hl7_receiving_app', 'hl7_receiving_facility', 'hl7_version', 'hl7_obx18', 'hl7_prt10', 'hl7_prt16', 'dicom_impl_class_uid', 'dicom_impl_version', 'dicom_sop_classes', 'dicom_sop_classes_dropped'] as const satisfies readonly (keyof AppMeta)[];
// Every field of AppMeta is in the list (a field added to the contract and not here fails to compile).
type Missing = Exclude<keyof AppMeta, (typeof META_FIELDS)[number]>;
const everyField: Missing extends never ? true : Missing = true;
void everyField;

/**
 * Whether a field's value is a number (else a string, or for `dns_response` a boolean), by field: the type makes a new
 * field of AppMeta fail to compile until it is listed here, so `readMeta` never reads a number as a string.
 */
const META_NUMBER: { readonly [K in keyof Required<AppMeta>]: Required<AppMeta>[K] extends number ? true : false } = {
  dns_qname: false,
  dns_qtype: true,
  dns_rcode: true,
  dns_response: false,
  dns_answers: true,
  dhcp_msg_type: true,
  dhcp_hostname: false,
  dhcp_vendor_class: false,
  dhcp_requested_ip: false,
  dhcp_param_request: false,
  tls_sni: false,
  hl7_sending_app: false,
  hl7_sending_facility: false,
  hl7_receiving_app: false,
  hl7_receiving_facility: false,
  hl7_msg_type: false,
  hl7_version: false,
  hl7_obx18: false,
  hl7_prt10: false,
  hl7_prt16: false,
  dicom_pdu_type: true,
  dicom_calling_ae: false,
  dicom_called_ae: false,
  dicom_impl_class_uid: false,
  dicom_impl_version: false,
  dicom_sop_classes: false,
  dicom_sop_classes_dropped: true,
  mqtt_msg_type: true,
  mqtt_client_id: false,
  mqtt_topic: false,
};

/** Records a packet's metadata may take after it in the ring. */
export const MAX_META_RECORDS = 16;
const MAX_META_SLOTS = MAX_META_RECORDS * RECORD_SLOTS;

/**
 * Records are contiguous in the ring's memory, so a packet's metadata stream is the run of slots from the start of the
 * record after it, wrapping at the end of the ring (`ringSlots` slots).
 */
function wrap(slot: number, ringSlots: number): number {
  return slot < ringSlots ? slot : slot - ringSlots;
}

/**
 * Writes `meta` after the packet at record `rec` (the ring has room for `MAX_META_RECORDS` more); returns the records
 * it took, or -1 when it does not fit (nothing written: send it beside the ring).
 */
export function writeMeta(v: RecordViews, mask: number, rec: number, meta: AppMeta): number {
  const b = v.f64;
  const ringSlots = (mask + 1) * RECORD_SLOTS;
  const start = wrap((rec + 1) * RECORD_SLOTS, ringSlots);
  let k = 1;
  for (let f = 0; f < META_FIELDS.length; f++) {
    const v = meta[META_FIELDS[f]!];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      const len = v.length;
      if (k + 2 + len > MAX_META_SLOTS) return -1;
      b[wrap(start + k, ringSlots)] = f;
      b[wrap(start + k + 1, ringSlots)] = len;
      k += 2;
      for (let i = 0; i < len; i++) b[wrap(start + k + i, ringSlots)] = v.charCodeAt(i);
      k += len;
    } else {
      if (k + 2 > MAX_META_SLOTS) return -1;
      b[wrap(start + k, ringSlots)] = f;
      b[wrap(start + k + 1, ringSlots)] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
      k += 2;
    }
  }
  b[start] = k;
  return Math.ceil(k / RECORD_SLOTS);
}

/**
 * Strings read lately, by a hash of their code units: the same HL7 message types, MQTT topics and DNS names come back
 * packet after packet, and are then neither built nor collected again.
 */
const CACHE_SLOTS = 4096;
const stringCache: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
/** Reused for a string's code units, one array per length (≤ MAX_META_SLOTS). */
const codesOfLength: number[][] = [];

function readString(b: Float64Array, from: number, len: number, ringSlots: number): string {
  let h = len;
  let codes = codesOfLength[len];
  if (codes === undefined) {
    codes = new Array<number>(len).fill(0);
    codesOfLength[len] = codes;
  }
  for (let i = 0; i < len; i++) {
    const c = b[wrap(from + i, ringSlots)]!;
    codes[i] = c;
    h = Math.imul(h ^ c, 0x9e3779b1);
  }
  const slot = (h ^ (h >>> 15)) & (CACHE_SLOTS - 1);
  const cached = stringCache[slot];
  if (cached !== undefined && cached.length === len) {
    let same = true;
    for (let i = 0; i < len && same; i++) same = cached.charCodeAt(i) === codes[i];
    if (same) return cached;
  }
  const s = String.fromCharCode.apply(null, codes);
  stringCache[slot] = s;
  return s;
}

/** Reads the metadata after the packet at record `rec`; `metaRecords(...)` tells how many records it took. */
export function readMeta(v: RecordViews, mask: number, rec: number): AppMeta {
  const b = v.f64;
  const ringSlots = (mask + 1) * RECORD_SLOTS;
  const start = wrap((rec + 1) * RECORD_SLOTS, ringSlots);
  const n = b[start]!;
  const meta: Record<string, string | number | boolean> = {};
  let k = 1;
  while (k < n) {
    const name = META_FIELDS[b[wrap(start + k, ringSlots)]!]!;
    const v = b[wrap(start + k + 1, ringSlots)]!;
    k += 2;
    if (name === 'dns_response') meta[name] = v === 1;
    else if (META_NUMBER[name]) meta[name] = v;
    else {
      meta[name] = readString(b, start + k, v, ringSlots);
      k += v;
    }
  }
  return meta;
}

/** Records the metadata after the packet at record `rec` takes (as `writeMeta` returned). */
export function metaRecords(v: RecordViews, mask: number, rec: number): number {
  return Math.ceil(v.f64[wrap((rec + 1) * RECORD_SLOTS, (mask + 1) * RECORD_SLOTS)]! / RECORD_SLOTS);
}
