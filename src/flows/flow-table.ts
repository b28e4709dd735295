/**
 * The flow table: bidirectional flows keyed by numbers, TCP endpoint state and Zeek's conn_state/history, idle and
 * active timeouts on packet time, and a hard cap with a stated eviction policy.
 *
 * Layout. Flows live in preallocated typed arrays indexed by a slot number (the flow handle); an open-addressing
 * hash table (linear probing, backward-shift deletion) maps the canonical key — kind, VLAN, IP protocol, the two
 * endpoints ordered low/high, their ports — to the slot. Nothing is allocated per packet: the key is built in
 * scratch typed arrays, the per-packet result is one reused `FlowUpdate`.
 *
 * Flow kinds: TCP, UDP (5-tuple), ICMP/ICMPv6 (IP pair + message family: echo request and reply share a flow),
 * ARP (sender and target protocol address pair), other IP protocols (IP pair + protocol). IP fragments without a
 * transport header are 'other' flows on their IP pair. Frames that are neither IP nor ARP are not flows.
 *
 * Expiry. Each flow sits in one of seven LRU lists by its timeout class; a packet moves its flow to the head of its
 * list, so each list's tail is its longest-idle flow. Every `sweep_interval_ms` of packet time the tails that have
 * exceeded their list's timeout are ended. All timing is packet time: the same capture ends the same flows at the
 * same points whatever the replay speed.
 *
 * Eviction policy (table full, a packet needs a new flow): evict the longest-idle flow that has only been seen in
 * one direction (any protocol: unanswered SYNs, scans, spoofed floods; for TCP also a SYN answered by a SYN-ACK that
 * the originator never acknowledged, as a SYN flood's victim produces); if there is none, the longest-idle closed
 * or reset TCP flow; if there is none, the longest-idle flow of any kind. A flood of spoofed sources therefore
 * recycles its own flows and leaves answered sessions alone. Every eviction writes the flow's record with
 * `end_reason: 'evicted'` and is counted (`flows_evicted`) and reported in `FlowUpdate.overflow`.
 *
 * Evidence for the device inventory. `FlowUpdate.handshake` marks the originator's ACK that completes a three-way
 * handshake (it acknowledges the SYN-ACK's sequence number + 1, which a blind spoofer never sees); `answered` the
 * first packet of the side that did not send the flow's first packet (not a reset). The inventory decides from them which
 * senders are real hosts (src/flows/device-inventory.ts, "Evidence").
 */
import type { DecodedPacket } from '../records/packet.js';
import { AppProto, Proto, TcpFlag, formatIpv4, formatIpv6, formatMac } from '../records/packet.js';
import type { ConnState, FlowEnd, FlowEndReason, FlowProto, FlowRecord, FlowUpdate } from '../records/flow.js';
import { FLOW_SCHEMA_VERSION } from '../records/flow.js';
import type { DeviceDirectory, PacketDevices } from '../records/device.js';
import { Counters } from '../metrics.js';
import type { FlowTableOptions } from './config.js';
import { FlowTableOptionsSchema, parseOptions } from './config.js';

// Flow kinds (stored in `kind`).
const K_TCP = 1;
const K_UDP = 2;
const K_ICMP = 3;
const K_ICMP6 = 4;
const K_ARP = 5;
const K_OTHER = 6;
const KIND_PROTO: readonly FlowProto[] = ['other', 'tcp', 'udp', 'icmp', 'icmp6', 'arp', 'other'];

// TCP endpoint states (as Zeek's TCP_INACTIVE ... TCP_RESET).
export const TcpEndpoint = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const;
const { INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET } = TcpEndpoint;

// History letters: index in this string; code = letter | (dir << 3), '^' = 7.
const LETTERS = 'SHADFR';
const L_S = 0;
const L_H = 1;
const L_A = 2;
const L_D = 3;
const L_F = 4;
const L_R = 5;
const L_FLIP = 7;
const HIST_MAX = 16;
/** Initial hash table size (slots, a power of two); it doubles up to 2 × max_flows. */
const INITIAL_HASH_SIZE = 4096;

// Timeout classes / LRU lists.
const L_TCP_ONEWAY = 0;
const L_UDP_ONEWAY = 1;
const L_OTHER_ONEWAY = 2;
const L_TCP_CLOSED = 3;
const L_TCP_OPEN = 4;
const L_UDP = 5;
const L_OTHER = 6;
const N_LISTS = 7;

const APP_NAMES: readonly string[] = ['', 'dns', 'dhcp', 'tls', 'hl7', 'dicom', 'mqtt'];

/** ICMP types that pair with another (request → reply) map both to the request type, so the pair is one flow. */
function icmpFamily(type: number, v6: boolean): number {
  if (v6) {
    if (type === 129) return 128; // echo reply → request
    if (type === 136) return 135; // neighbour advertisement → solicitation
    if (type === 134) return 133; // router advertisement → solicitation
    return type;
  }
  switch (type) {
    case 0:
      return 8; // echo reply
    case 14:
      return 13; // timestamp reply
    case 16:
      return 15; // information reply
    case 18:
      return 17; // address mask reply
    default:
      return type;
  }
}

export interface FlowTableHooks {
  /** Called for every ended flow (numbers only), before its slot is freed. */
  onEnd?: (end: FlowEnd) => void;
  /** Called with a full record for every ended flow (for the flow JSONL sink). Records are built only if set. */
  onRecord?: (record: FlowRecord) => void;
  /** Resolves device handles to ids for `orig_device`/`resp_device` in records. */
  devices?: DeviceDirectory;
}

export type FlowTableCounter =
  | 'packets'
  | 'packets_no_flow'
  | 'flows_created'
  | 'flows_evicted'
  | 'flows_ended_closed'
  | 'flows_ended_idle_timeout'
  | 'flows_ended_active_timeout'
  | 'flows_ended_evicted'
  | 'flows_ended_capture_end';

export class FlowTable {
  readonly options: FlowTableOptions;
  private readonly hooks: FlowTableHooks;

  // Key.
  private readonly kind: Uint8Array;
  private readonly ipver: Uint8Array;
  private readonly ipproto: Uint8Array;
  private readonly vlan: Int16Array;
  /** `vlan_in_flow_key`: the VLAN id is part of the key (else only recorded). */
  private readonly vlanKeyed: boolean;
  private readonly lo: Uint32Array; // 4 words per slot
  private readonly hi: Uint32Array;
  private readonly loPort: Int32Array;
  private readonly hiPort: Int32Array;
  private readonly keyHash: Int32Array;
  // Direction and record fields.
  private readonly origIsLo: Uint8Array;
  private readonly origPort: Int32Array;
  private readonly respPort: Int32Array;
  private readonly firstTs: Float64Array;
  private readonly lastTs: Float64Array;
  /** [orig, resp] interleaved: index 2*slot + dir. */
  private readonly pkts: Float64Array;
  private readonly bytes: Float64Array;
  private readonly ipBytes: Float64Array;
  private readonly frameBytes: Float64Array;
  private readonly mac: Float64Array;
  private readonly dev: Int32Array;
  private readonly tcpState: Uint8Array;
  /** Sequence number of the responder's SYN-ACK (the handshake's ACK must acknowledge it + 1). */
  private readonly synAckSeq: Uint32Array;
  private readonly histMask: Uint16Array;
  private readonly histLen: Uint8Array;
  private readonly hist: Uint8Array;
  private readonly service: Uint8Array;
  // LRU lists.
  private readonly list: Uint8Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly heads = new Int32Array(N_LISTS).fill(-1);
  private readonly tails = new Int32Array(N_LISTS).fill(-1);
  private readonly listTimeout: Float64Array;
  // Hash table: starts small and doubles while flows are added (load ≤ 1/4, ≤ 1/2 at the cap), so that a table of a
  // few thousand live flows stays in the CPU caches instead of being spread over a table sized for `max_flows`.
  private hmask: number;
  private htab: Int32Array;
  private readonly hmaxSize: number;
  private readonly hpos: Int32Array;
  // Free slots (stack).
  private readonly free: Int32Array;
  private freeTop: number;
  private liveCount = 0;

  // Scratch key of the current packet.
  private readonly kLo = new Uint32Array(4);
  private readonly kHi = new Uint32Array(4);
  private kKind = 0;
  private kIpver = 0;
  private kProto = 0;
  private kVlan = 0;
  private kLoPort = 0;
  private kHiPort = 0;
  private kSrcIsLo = true;
  private kHash = 0;

  /** [0] current packet time, [1] next sweep time (seconds). */
  private readonly now = new Float64Array([0, -Infinity]);
  private readonly update: FlowUpdate = { flow: -1, started: false, from_orig: true, rejected: false, overflow: 0, handshake: false, answered: false };
  private readonly endEvent: FlowEnd = {
    flow: -1,
    proto: 'other',
    conn_state: 'OTH',
    end_reason: 'closed',
    orig_device: -1,
    resp_device: -1,
    start_ts: 0,
    end_ts: 0,
  };

  // Counters (plain fields on the hot path; `counters()` exports them).
  private nPackets = 0;
  private nNoFlow = 0;
  private nCreated = 0;
  private nEvicted = 0;
  private readonly nEnded: Record<FlowEndReason, number> = {
    closed: 0,
    idle_timeout: 0,
    active_timeout: 0,
    evicted: 0,
    capture_end: 0,
  };

  constructor(options: Partial<FlowTableOptions> = {}, hooks: FlowTableHooks = {}) {
    this.options = parseOptions(FlowTableOptionsSchema, options, 'flows');
    this.vlanKeyed = this.options.vlan_in_flow_key;
    this.hooks = hooks;
    const cap = this.options.max_flows;
    this.kind = new Uint8Array(cap);
    this.ipver = new Uint8Array(cap);
    this.ipproto = new Uint8Array(cap);
    this.vlan = new Int16Array(cap);
    this.lo = new Uint32Array(cap * 4);
    this.hi = new Uint32Array(cap * 4);
    this.loPort = new Int32Array(cap);
    this.hiPort = new Int32Array(cap);
    this.keyHash = new Int32Array(cap);
    this.origIsLo = new Uint8Array(cap);
    this.origPort = new Int32Array(cap);
    this.respPort = new Int32Array(cap);
    this.firstTs = new Float64Array(cap);
    this.lastTs = new Float64Array(cap);
    this.pkts = new Float64Array(cap * 2);
    this.bytes = new Float64Array(cap * 2);
    this.ipBytes = new Float64Array(cap * 2);
    this.frameBytes = new Float64Array(cap * 2);
    this.mac = new Float64Array(cap * 2);
    this.dev = new Int32Array(cap * 2);
    this.tcpState = new Uint8Array(cap * 2);
    this.synAckSeq = new Uint32Array(cap);
    this.histMask = new Uint16Array(cap);
    this.histLen = new Uint8Array(cap);
    this.hist = new Uint8Array(cap * HIST_MAX);
    this.service = new Uint8Array(cap);
    this.list = new Uint8Array(cap);
    this.prev = new Int32Array(cap);
    this.next = new Int32Array(cap);
    let hmax = 1;
    while (hmax < cap * 2) hmax *= 2;
    this.hmaxSize = hmax;
    const hsize = Math.min(hmax, INITIAL_HASH_SIZE);
    this.hmask = hsize - 1;
    this.htab = new Int32Array(hsize).fill(-1);
    this.hpos = new Int32Array(cap);
    this.free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.free[i] = cap - 1 - i;
    this.freeTop = cap;
    const o = this.options;
    this.listTimeout = new Float64Array([
      o.tcp_attempt_timeout_ms / 1000,
      o.udp_idle_timeout_ms / 1000,
      o.other_idle_timeout_ms / 1000,
      o.tcp_closed_timeout_ms / 1000,
      o.tcp_idle_timeout_ms / 1000,
      o.udp_idle_timeout_ms / 1000,
      o.other_idle_timeout_ms / 1000,
    ]);
  }

  /** Flows currently tracked. */
  get size(): number {
    return this.liveCount;
  }

  /**
   * Accounts one packet. `devices` (optional) carries the packet's device handles, stored per flow side for the
   * `FlowEnd` events and records. Returns the reused `FlowUpdate` (valid until the next call).
   */
  process(p: DecodedPacket, devices?: PacketDevices): FlowUpdate {
    const u = this.update;
    u.flow = -1;
    u.started = false;
    u.from_orig = true;
    u.rejected = false;
    u.overflow = 0;
    u.handshake = false;
    u.answered = false;
    this.nPackets++;
    // Packet time lives in a typed array: a double passed to a non-inlined call would be boxed (an allocation).
    const now = this.now;
    const ts = p.ts_sec + p.ts_nsec * 1e-9;
    now[0] = ts;
    if (ts >= now[1]!) {
      this.expireNow();
      now[1] = ts + this.options.sweep_interval_ms / 1000;
    }
    if (!this.buildKey(p)) {
      this.nNoFlow++;
      return u;
    }
    let slot = this.find();
    let fromOrig: boolean;
    if (slot < 0) {
      if (this.freeTop === 0) {
        this.evictOne();
        u.overflow = 1;
      }
      slot = this.create(p);
      u.started = true;
      fromOrig = (this.origIsLo[slot] === 1) === this.kSrcIsLo;
      if (devices !== undefined) {
        this.dev[2 * slot] = fromOrig ? devices.src : devices.dst;
        this.dev[2 * slot + 1] = fromOrig ? devices.dst : devices.src;
      }
    } else {
      fromOrig = (this.origIsLo[slot] === 1) === this.kSrcIsLo;
      const active = this.options.active_timeout_ms;
      if (active > 0 && ts - this.firstTs[slot]! >= active / 1000) this.continueFlow(slot);
    }
    u.flow = slot;
    u.from_orig = fromOrig;
    this.account(slot, p, fromOrig ? 0 : 1, u);
    return u;
  }

  /** Ends every flow (capture end), in creation-independent order: list by list, oldest first. */
  flush(): void {
    for (let l = 0; l < N_LISTS; l++) {
      while (this.tails[l]! >= 0) this.end(this.tails[l]!, 'capture_end');
    }
  }

  /** Ends flows idle past their timeout at packet time `ts` (seconds). Called by `process`; public for live idle ticks. */
  expire(ts: number): void {
    this.now[0] = ts;
    this.expireNow();
  }

  private expireNow(): void {
    const ts = this.now[0]!;
    for (let l = 0; l < N_LISTS; l++) {
      const timeout = this.listTimeout[l]!;
      const reason: FlowEndReason = l === L_TCP_CLOSED ? 'closed' : 'idle_timeout';
      let t = this.tails[l]!;
      while (t >= 0 && this.lastTs[t]! + timeout <= ts) {
        this.end(t, reason);
        t = this.tails[l]!;
      }
    }
  }

  counters(): Counters<FlowTableCounter> {
    const c = new Counters<FlowTableCounter>('flows');
    c.add('packets', this.nPackets);
    c.add('packets_no_flow', this.nNoFlow);
    c.add('flows_created', this.nCreated);
    c.add('flows_evicted', this.nEvicted);
    c.add('flows_ended_closed', this.nEnded.closed);
    c.add('flows_ended_idle_timeout', this.nEnded.idle_timeout);
    c.add('flows_ended_active_timeout', this.nEnded.active_timeout);
    c.add('flows_ended_evicted', this.nEnded.evicted);
    c.add('flows_ended_capture_end', this.nEnded.capture_end);
    return c;
  }

  /** Flows evicted so far (the overflow metric). */
  get evictions(): number {
    return this.nEvicted;
  }

  /** The Zeek conn_state the flow would have if it ended now. */
  connState(slot: number): ConnState {
    if (this.kind[slot] !== K_TCP) return 'OTH';
    const os = this.tcpState[2 * slot]!;
    const rs = this.tcpState[2 * slot + 1]!;
    const oInactive = os === INACTIVE || os === PARTIAL;
    const rInactive = rs === INACTIVE || rs === PARTIAL;
    if (rs === RESET) {
      if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && this.bytes[2 * slot] === 0 && this.bytes[2 * slot + 1] === 0))
        return 'REJ';
      return oInactive ? 'RSTRH' : 'RSTR';
    }
    if (os === RESET) {
      if (rInactive) return this.historyIsSynThenReset(slot) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === CLOSED && os === CLOSED) return 'SF';
    if (os === CLOSED) return rInactive ? 'SH' : 'S2';
    if (rs === CLOSED) return oInactive ? 'SHR' : 'S3';
    if (os === SYN_SENT && rs === INACTIVE) return 'S0';
    if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
    return 'OTH';
  }

  /** Zeek history string of the flow. */
  history(slot: number): string {
    let s = '';
    const n = this.histLen[slot]!;
    for (let i = 0; i < n; i++) {
      const code = this.hist[slot * HIST_MAX + i]!;
      if (code === L_FLIP) {
        s += '^';
        continue;
      }
      const ch = LETTERS[code & 7] ?? '?';
      s += code >> 3 === 0 ? ch : ch.toLowerCase();
    }
    return s;
  }

  /** Builds the full record of a live flow (as it would be written if it ended now for `reason`). */
  record(slot: number, reason: FlowEndReason): FlowRecord {
    const orig = this.origIsLo[slot] === 1 ? this.lo : this.hi;
    const resp = this.origIsLo[slot] === 1 ? this.hi : this.lo;
    const k = this.kind[slot]!;
    const v6 = this.ipver[slot] === 6;
    const addr = (words: Uint32Array): string =>
      v6 ? formatIpv6(words.subarray(slot * 4, slot * 4 + 4)) : formatIpv4(words[slot * 4]!);
    const first = this.firstTs[slot]!;
    const dir = this.hooks.devices;
    const od = this.dev[2 * slot]!;
    const rd = this.dev[2 * slot + 1]!;
    return {
      schema_version: FLOW_SCHEMA_VERSION,
      uid: this.uid(slot),
      ts: Math.round(first * 1e6) / 1e6,
      duration: Math.round((this.lastTs[slot]! - first) * 1e6) / 1e6,
      orig_h: addr(orig),
      orig_p: this.origPort[slot]!,
      resp_h: addr(resp),
      resp_p: this.respPort[slot]!,
      proto: KIND_PROTO[k] ?? 'other',
      service: APP_NAMES[this.service[slot]!] ?? '',
      orig_bytes: this.bytes[2 * slot]!,
      resp_bytes: this.bytes[2 * slot + 1]!,
      conn_state: this.connState(slot),
      history: this.history(slot),
      orig_pkts: this.pkts[2 * slot]!,
      orig_ip_bytes: this.ipBytes[2 * slot]!,
      resp_pkts: this.pkts[2 * slot + 1]!,
      resp_ip_bytes: this.ipBytes[2 * slot + 1]!,
      orig_frame_bytes: this.frameBytes[2 * slot]!,
      resp_frame_bytes: this.frameBytes[2 * slot + 1]!,
      orig_l2_addr: formatMac(this.mac[2 * slot]!),
      resp_l2_addr: formatMac(this.mac[2 * slot + 1]!),
      vlan: this.vlan[slot]!,
      orig_device: dir !== undefined && od >= 0 ? dir.deviceId(od) : '',
      resp_device: dir !== undefined && rd >= 0 ? dir.deviceId(rd) : '',
      end_reason: reason,
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Key building and hashing

  /** Fills the scratch key from the packet; false when the packet is not part of any flow. */
  private buildKey(p: DecodedPacket): boolean {
    let kind: number;
    let sp = 0;
    let dp = 0;
    const proto = p.proto;
    if (proto === Proto.ARP) {
      kind = K_ARP;
    } else if (p.ip_version === 0) {
      return false;
    } else if (proto === Proto.TCP && p.src_port >= 0) {
      kind = K_TCP;
      sp = p.src_port;
      dp = p.dst_port;
    } else if (proto === Proto.UDP && p.src_port >= 0) {
      kind = K_UDP;
      sp = p.src_port;
      dp = p.dst_port;
    } else if ((proto === Proto.ICMP || proto === Proto.ICMPV6) && p.src_port >= 0) {
      kind = proto === Proto.ICMP ? K_ICMP : K_ICMP6;
      sp = dp = icmpFamily(p.src_port, proto === Proto.ICMPV6);
    } else {
      kind = K_OTHER;
    }
    const lo = this.kLo;
    const hi = this.kHi;
    let srcIsLo: boolean;
    if (kind === K_ARP) {
      const s = p.arp_spa >>> 0;
      const d = p.arp_tpa >>> 0;
      this.kIpver = 4;
      srcIsLo = s <= d;
      lo[0] = srcIsLo ? s : d;
      hi[0] = srcIsLo ? d : s;
      lo[1] = lo[2] = lo[3] = hi[1] = hi[2] = hi[3] = 0;
    } else if (p.ip_version === 4) {
      const s = p.ip_src >>> 0;
      const d = p.ip_dst >>> 0;
      this.kIpver = 4;
      srcIsLo = s < d || (s === d && sp <= dp);
      lo[0] = srcIsLo ? s : d;
      hi[0] = srcIsLo ? d : s;
      lo[1] = lo[2] = lo[3] = hi[1] = hi[2] = hi[3] = 0;
    } else {
      const s = p.ip6_src;
      const d = p.ip6_dst;
      this.kIpver = 6;
      let c = 0;
      for (let i = 0; i < 4 && c === 0; i++) {
        const a = s[i]!;
        const b = d[i]!;
        c = a < b ? -1 : a > b ? 1 : 0;
      }
      srcIsLo = c < 0 || (c === 0 && sp <= dp);
      const a = srcIsLo ? s : d;
      const b = srcIsLo ? d : s;
      lo[0] = a[0]!;
      lo[1] = a[1]!;
      lo[2] = a[2]!;
      lo[3] = a[3]!;
      hi[0] = b[0]!;
      hi[1] = b[1]!;
      hi[2] = b[2]!;
      hi[3] = b[3]!;
    }
    this.kKind = kind;
    this.kProto = kind === K_OTHER ? p.ip_proto & 0xff : 0;
    this.kVlan = p.vlan_outer;
    this.kLoPort = srcIsLo ? sp : dp;
    this.kHiPort = srcIsLo ? dp : sp;
    this.kSrcIsLo = srcIsLo;
    // Hash: multiply-xorshift over the key words.
    let h = Math.imul(kind * 0x100 + this.kProto, 0x9e3779b1) ^ (this.vlanKeyed ? this.kVlan & 0xffff : 0);
    h = mix(h, lo[0]);
    h = mix(h, hi[0]);
    if (this.kIpver === 6) {
      h = mix(h, lo[1]);
      h = mix(h, lo[2]);
      h = mix(h, lo[3]);
      h = mix(h, hi[1]);
      h = mix(h, hi[2]);
      h = mix(h, hi[3]);
    }
    h = mix(h, (this.kLoPort << 16) | (this.kHiPort & 0xffff));
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    this.kHash = h | 0;
    return true;
  }

  private sameKey(slot: number): boolean {
    if (this.keyHash[slot] !== this.kHash) return false;
    if (this.kind[slot] !== this.kKind || this.ipver[slot] !== this.kIpver || this.ipproto[slot] !== this.kProto) return false;
    if ((this.vlanKeyed && this.vlan[slot] !== this.kVlan) || this.loPort[slot] !== this.kLoPort || this.hiPort[slot] !== this.kHiPort) return false;
    const b = slot * 4;
    const lo = this.lo;
    const hi = this.hi;
    const klo = this.kLo;
    const khi = this.kHi;
    return (
      lo[b] === klo[0] &&
      hi[b] === khi[0] &&
      lo[b + 1] === klo[1] &&
      lo[b + 2] === klo[2] &&
      lo[b + 3] === klo[3] &&
      hi[b + 1] === khi[1] &&
      hi[b + 2] === khi[2] &&
      hi[b + 3] === khi[3]
    );
  }

  private find(): number {
    const mask = this.hmask;
    let i = this.kHash & mask;
    for (;;) {
      const s = this.htab[i]!;
      if (s < 0) return -1;
      if (this.sameKey(s)) return s;
      i = (i + 1) & mask;
    }
  }

  private hashInsert(slot: number): void {
    if (this.liveCount * 4 > this.htab.length && this.htab.length < this.hmaxSize) this.hashGrow();
    const mask = this.hmask;
    let i = this.keyHash[slot]! & mask;
    while (this.htab[i]! >= 0) i = (i + 1) & mask;
    this.htab[i] = slot;
    this.hpos[slot] = i;
  }

  /** Doubles the hash table (rehashing the live flows): the only allocation of the table after construction. */
  private hashGrow(): void {
    const old = this.htab;
    const size = old.length * 2;
    const mask = size - 1;
    const htab = new Int32Array(size).fill(-1);
    for (let k = 0; k < old.length; k++) {
      const slot = old[k]!;
      if (slot < 0) continue;
      let i = this.keyHash[slot]! & mask;
      while (htab[i]! >= 0) i = (i + 1) & mask;
      htab[i] = slot;
      this.hpos[slot] = i;
    }
    this.htab = htab;
    this.hmask = mask;
  }

  /** Backward-shift deletion for linear probing: no tombstones, lookups stay short. */
  private hashRemove(slot: number): void {
    const mask = this.hmask;
    const htab = this.htab;
    let i = this.hpos[slot]!;
    htab[i] = -1;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = htab[j]!;
      if (s < 0) return;
      const home = this.keyHash[s]! & mask;
      // Move s into the hole at i if its home is not in the cyclic range (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        htab[i] = s;
        this.hpos[s] = i;
        htab[j] = -1;
        i = j;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Flow lifecycle

  private create(p: DecodedPacket): number {
    const ts = this.now[0]!;
    const slot = this.free[--this.freeTop]!;
    this.liveCount++;
    this.nCreated++;
    this.kind[slot] = this.kKind;
    this.ipver[slot] = this.kIpver;
    this.ipproto[slot] = this.kProto;
    this.vlan[slot] = this.kVlan;
    const b = slot * 4;
    for (let i = 0; i < 4; i++) {
      this.lo[b + i] = this.kLo[i]!;
      this.hi[b + i] = this.kHi[i]!;
    }
    this.loPort[slot] = this.kLoPort;
    this.hiPort[slot] = this.kHiPort;
    this.keyHash[slot] = this.kHash;
    // Direction: the sender of the first packet is the originator, except a first SYN-ACK (Zeek's '^' flip).
    let flip = false;
    if (this.kKind === K_TCP && (p.tcp_flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) flip = true;
    const srcIsOrig = !flip;
    this.origIsLo[slot] = srcIsOrig === this.kSrcIsLo ? 1 : 0;
    if (this.kKind === K_ICMP || this.kKind === K_ICMP6) {
      this.origPort[slot] = p.src_port;
      this.respPort[slot] = p.dst_port;
    } else if (this.kKind === K_TCP || this.kKind === K_UDP) {
      this.origPort[slot] = srcIsOrig ? p.src_port : p.dst_port;
      this.respPort[slot] = srcIsOrig ? p.dst_port : p.src_port;
    } else {
      this.origPort[slot] = 0;
      this.respPort[slot] = 0;
    }
    this.firstTs[slot] = ts;
    this.lastTs[slot] = ts;
    this.resetCounters(slot);
    this.mac[2 * slot] = -1;
    this.mac[2 * slot + 1] = -1;
    this.dev[2 * slot] = -1;
    this.dev[2 * slot + 1] = -1;
    this.tcpState[2 * slot] = INACTIVE;
    this.tcpState[2 * slot + 1] = INACTIVE;
    this.histMask[slot] = 0;
    this.histLen[slot] = 0;
    if (flip) this.hist[slot * HIST_MAX + this.histLen[slot]++] = L_FLIP;
    this.service[slot] = AppProto.NONE;
    this.hashInsert(slot);
    this.list[slot] = 255;
    this.listPushHead(slot, this.listFor(slot));
    return slot;
  }

  private resetCounters(slot: number): void {
    for (let d = 0; d < 2; d++) {
      this.pkts[2 * slot + d] = 0;
      this.bytes[2 * slot + d] = 0;
      this.ipBytes[2 * slot + d] = 0;
      this.frameBytes[2 * slot + d] = 0;
    }
  }

  /** Active timeout: write the record so far and continue the flow with fresh counters (same state and direction). */
  private continueFlow(slot: number): void {
    const ts = this.now[0]!;
    this.emitEnd(slot, 'active_timeout');
    this.firstTs[slot] = ts;
    this.resetCounters(slot);
    // History restarts; the TCP endpoint states carry on.
    this.histMask[slot] = 0;
    this.histLen[slot] = 0;
  }

  private evictOne(): void {
    let victim = -1;
    for (let l = L_TCP_ONEWAY; l <= L_OTHER_ONEWAY; l++) {
      const t = this.tails[l]!;
      if (t >= 0 && (victim < 0 || this.lastTs[t]! < this.lastTs[victim]!)) victim = t;
    }
    if (victim < 0) victim = this.tails[L_TCP_CLOSED]!;
    if (victim < 0) {
      for (let l = L_TCP_OPEN; l <= L_OTHER; l++) {
        const t = this.tails[l]!;
        if (t >= 0 && (victim < 0 || this.lastTs[t]! < this.lastTs[victim]!)) victim = t;
      }
    }
    if (victim < 0) return; // cannot happen: the table is full
    this.nEvicted++;
    this.end(victim, 'evicted');
  }

  private emitEnd(slot: number, reason: FlowEndReason): void {
    this.nEnded[reason]++;
    const onEnd = this.hooks.onEnd;
    if (onEnd !== undefined) {
      const e = this.endEvent;
      e.flow = slot;
      e.proto = KIND_PROTO[this.kind[slot]!] ?? 'other';
      e.conn_state = this.connState(slot);
      e.end_reason = reason;
      e.orig_device = this.dev[2 * slot]!;
      e.resp_device = this.dev[2 * slot + 1]!;
      e.start_ts = this.firstTs[slot]!;
      e.end_ts = this.lastTs[slot]!;
      onEnd(e);
    }
    const onRecord = this.hooks.onRecord;
    if (onRecord !== undefined) onRecord(this.record(slot, reason));
  }

  private end(slot: number, reason: FlowEndReason): void {
    this.emitEnd(slot, reason);
    this.hashRemove(slot);
    this.listRemove(slot);
    this.free[this.freeTop++] = slot;
    this.liveCount--;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Per-packet accounting and TCP state

  private account(slot: number, p: DecodedPacket, dir: number, u: FlowUpdate): void {
    const ts = this.now[0]!;
    const i = 2 * slot + dir;
    if (this.pkts[i] === 0) this.firstOfSide(slot, i, p, u);
    this.pkts[i]!++;
    this.bytes[i]! += p.payload_len;
    this.ipBytes[i]! += p.ip_version !== 0 ? p.ip_len : 0;
    this.frameBytes[i]! += p.orig_len;
    if (this.mac[i] === -1 && p.eth_src >= 0) this.mac[i] = p.eth_src;
    if (ts > this.lastTs[slot]!) this.lastTs[slot] = ts;
    if (p.app !== AppProto.NONE && this.service[slot] === AppProto.NONE) this.service[slot] = p.app;
    if (this.kind[slot] === K_TCP) this.tcp(slot, p, dir, u);
    const l = this.listFor(slot);
    if (this.list[slot] !== l || this.heads[l] !== slot) {
      this.listRemove(slot);
      this.listPushHead(slot, l);
    }
  }

  /** The first packet of a side: after the other side's (not a reset), it is an answer to the flow's first packet. */
  private firstOfSide(slot: number, i: number, p: DecodedPacket, u: FlowUpdate): void {
    if (this.pkts[i ^ 1]! > 0) u.answered = this.kind[slot] !== K_TCP || (p.tcp_flags & TcpFlag.RST) === 0;
  }

  private tcp(slot: number, p: DecodedPacket, dir: number, u: FlowUpdate): void {
    const f = p.tcp_flags;
    const syn = (f & TcpFlag.SYN) !== 0;
    const ack = (f & TcpFlag.ACK) !== 0;
    const fin = (f & TcpFlag.FIN) !== 0;
    const rst = (f & TcpFlag.RST) !== 0;
    // History letters, in the order S/H, A, D, F, R.
    if (syn) this.addHistory(slot, dir, ack ? L_H : L_S);
    if (ack && !syn && !fin && !rst && p.payload_len === 0) this.addHistory(slot, dir, L_A);
    if (p.payload_len > 0) this.addHistory(slot, dir, L_D);
    if (fin) this.addHistory(slot, dir, L_F);
    if (rst) this.addHistory(slot, dir, L_R);

    const ei = 2 * slot + dir;
    const pi = 2 * slot + (1 - dir);
    const e = this.tcpState[ei]!;
    const peer = this.tcpState[pi]!;
    if (rst) {
      const before = this.connState(slot);
      this.tcpState[ei] = RESET;
      // Rejected: the attempt became REJ (RST to a SYN), or the responder's first packet is a reset (a FIN, NULL or
      // XMAS probe answered by a closed port, RFC 793).
      if (before !== 'REJ' && (this.connState(slot) === 'REJ' || (dir === 1 && this.pkts[ei]! === 1 && this.pkts[pi]! > 0))) u.rejected = true;
    } else if (e === RESET) {
      // A reset endpoint stays reset.
    } else if (syn) {
      if (ack) {
        if (e === INACTIVE || e === PARTIAL || e === SYN_SENT) this.tcpState[ei] = SYN_ACK_SENT;
        if (dir === 1) this.synAckSeq[slot] = p.tcp_seq;
      } else if (e === INACTIVE || e === PARTIAL) {
        this.tcpState[ei] = SYN_SENT;
      }
      if (fin) this.tcpState[ei] = CLOSED;
    } else if (fin) {
      this.tcpState[ei] = CLOSED;
    } else if (e === INACTIVE) {
      this.tcpState[ei] = PARTIAL;
    } else if ((e === SYN_SENT || e === SYN_ACK_SENT) && ack && (peer === SYN_SENT || peer === SYN_ACK_SENT || peer === ESTABLISHED)) {
      // The originator's ACK of the responder's SYN-ACK completes the handshake (device evidence).
      if (dir === 0 && e === SYN_SENT && peer === SYN_ACK_SENT && p.tcp_ack === ((this.synAckSeq[slot]! + 1) >>> 0)) u.handshake = true;
      this.tcpState[ei] = ESTABLISHED;
      if (peer === SYN_SENT || peer === SYN_ACK_SENT) this.tcpState[pi] = ESTABLISHED;
    }
  }

  private addHistory(slot: number, dir: number, letter: number): void {
    const bit = 1 << (letter + dir * 8);
    const m = this.histMask[slot]!;
    if ((m & bit) !== 0) return;
    this.histMask[slot] = m | bit;
    const n = this.histLen[slot]!;
    if (n < HIST_MAX) {
      this.hist[slot * HIST_MAX + n] = letter | (dir << 3);
      this.histLen[slot] = n + 1;
    }
  }

  /** Zeek's RSTOS0 test: history matches /^\^?S[^HAFGIQ]*R.*$/ (originator letters upper case). */
  private historyIsSynThenReset(slot: number): boolean {
    const n = this.histLen[slot]!;
    const base = slot * HIST_MAX;
    let i = 0;
    if (i < n && this.hist[base] === L_FLIP) i++;
    if (i >= n || this.hist[base + i] !== L_S) return false;
    for (i++; i < n; i++) {
      const code = this.hist[base + i]!;
      if (code === L_R) return true;
      if (code === L_H || code === L_A || code === L_F) return false;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // LRU lists

  private listFor(slot: number): number {
    const k = this.kind[slot]!;
    const answered = this.pkts[2 * slot]! > 0 && this.pkts[2 * slot + 1]! > 0;
    if (k === K_TCP) {
      const os = this.tcpState[2 * slot]!;
      const rs = this.tcpState[2 * slot + 1]!;
      if (os === RESET || rs === RESET || (os === CLOSED && rs === CLOSED)) return L_TCP_CLOSED;
      // Confirmed only once the originator got past its SYN: a SYN answered by a SYN-ACK (a SYN flood's victim
      // answering spoofed sources) is still an attempt.
      return answered && os !== SYN_SENT && os !== INACTIVE ? L_TCP_OPEN : L_TCP_ONEWAY;
    }
    if (k === K_UDP) return answered ? L_UDP : L_UDP_ONEWAY;
    return answered ? L_OTHER : L_OTHER_ONEWAY;
  }

  private listPushHead(slot: number, l: number): void {
    const h = this.heads[l]!;
    this.list[slot] = l;
    this.prev[slot] = -1;
    this.next[slot] = h;
    if (h >= 0) this.prev[h] = slot;
    else this.tails[l] = slot;
    this.heads[l] = slot;
  }

  private listRemove(slot: number): void {
    const l = this.list[slot]!;
    if (l === 255) return;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.heads[l] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tails[l] = p;
    this.list[slot] = 255;
  }

  /** Stable flow uid: 'C' + 16 base-36 digits of a hash of the first packet time (µs) and the key. */
  private uid(slot: number): string {
    const us = Math.round(this.firstTs[slot]! * 1e6);
    let h1 = mix(0x243f6a88, (us / 0x100000000) >>> 0);
    h1 = mix(h1, us >>> 0);
    let h2 = mix(h1 ^ 0x13198a2e, this.keyHash[slot]!);
    h2 = mix(h2, this.origIsLo[slot]!);
    h1 = mix(h1, this.keyHash[slot]! ^ 0x03707344);
    return `C${(h1 >>> 0).toString(36).padStart(7, '0')}${(h2 >>> 0).toString(36).padStart(7, '0')}`;
  }
}

function mix(h: number, x: number): number {
  h ^= Math.imul(x | 0, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return (Math.imul(h, 0x1b873593) + 0xe6546b64) | 0;
}
