/**
 * Device identity and inventory.
 *
 * Keying rules (per packet side, `resolve`):
 *  - An address outside every configured internal subnet is an external peer, never a device. If auto_gateway is on,
 *    a MAC that sent packets from `auto_gateway_min_sources` (4) distinct external addresses is a gateway.
 *  - Inside a `key: mac` subnet (on the mirrored L2 segment) a device is its MAC (`mac:aa:bb:…`), unless the frame's
 *    MAC is a gateway's or there is no L2 header: then it is keyed by IP (`ip:10.1.2.3`).
 *  - Inside a `key: ip` subnet (behind a router) a device is its IP.
 *  - A sender without an address yet (0.0.0.0, e.g. DHCP DISCOVER) is keyed by its MAC.
 *  - ARP senders are keyed by their sender hardware address (or by IP in `key: ip` subnets); gateways' MACs are
 *    never devices; group (multicast/broadcast) MACs and addresses are never devices.
 *  - Devices are created only by packets they SEND (a scan of a /16 creates no devices); destinations are looked
 *    up, not created.
 *  - The inventory holds at most `max_devices`. Devices are never evicted (a learned baseline is worth more than a
 *    newcomer); packets whose sender cannot be admitted are counted (`devices_overflow`) and attributed to no device.
 *
 * Evidence (`require_evidence`, default on; docs/flows-and-devices.md "Evidence"). A device is *confirmed* — has an
 * inventory entry: listed, saved, exported, published, announced — only once it shows evidence of being a real host
 * (records/device.ts `DeviceEvidence`): a TCP handshake completed (ACK number checked), an exchange answered (UDP,
 * ICMP, other IP, mid-stream TCP), an ARP reply to a request for its address, a DHCP lease it requested, sustained
 * traffic from the same address, or the operator's inventory file. Restored devices are confirmed. Before that it is a
 * *candidate*:
 *  - the first `max_unconfirmed_devices` candidates at a time get a device handle at their first packet, so feature
 *    windows (and the flow records' device ids) are exactly what they were without the rule; a real host leaves this
 *    pool at its first answered exchange, a spoofed source never does (its handle stays, unlisted);
 *  - beyond that pool a new sender waits in the bounded `CandidateTable` (no handle, its packets counted as overflow)
 *    until it shows evidence (it gets a handle, confirmed, at that packet) or has sent `candidate_track_packets`
 *    (a handle, unconfirmed: a scanner nobody answers still gets feature windows).
 * So a flood of a million spoofed sources costs at most the pool's handles plus the fixed table, and lists nothing.
 * Evidence is read from the flow table's `FlowUpdate.handshake` / `answered` and from DHCP metadata in `learn`, on
 * the packet that carries it; a destination that is confirmed by it is created from the packet's addresses.
 *
 * Learning (`learn`, after the flow table): first/last seen (packet time, as sender), IPs (≤ 8, most recent last),
 * vendor from the OUI registry (on creation), DHCP host name and vendor class, protocols (by content, and by the
 * responder's well-known port when a flow starts), peers (≤ 256), ports it answered on (≤ 64). Classes are guessed
 * when entries are read (`device-class.ts`); the inventory file overrides them.
 *
 * ARP bindings: the first MAC seen claiming an IPv4 address (by ARP, or as the source of IP traffic in a MAC-keyed
 * subnet, gateways included) owns it. An ARP packet from another MAC claiming it is a conflict
 * (`PacketDevices.arp_conflict`), unless the owner is a device silent for `arp_binding_timeout_ms`, when the binding
 * moves — but never to a device that answers for it while it uses another address of its own (that is a spoof), and
 * a moved binding returns to the MAC it was taken from once the new owner stops claiming it (`arp_reclaim_ms`). A gateway's binding never moves silently. An ARP reply claiming a still unbound address is also a conflict
 * when its sender is a device known to use another address (the spoofed owner has not spoken yet). ARP senders'
 * addresses are learned as device IPs only when they are not in conflict.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { Counters } from '../metrics.js';
import type { DeviceDirectory, DeviceEvidence, IdentityChanges, InventoryEntry, PacketDevices } from '../records/device.js';
import { APP_IDENTITY_LIMITS, DEVICE_CLASSES, DEVICE_EVIDENCE, DEVICE_SCHEMA_VERSION, emptyAppIdentity } from '../records/device.js';
import type { AppIdentityList } from '../records/device.js';
import type { DeviceClass } from '../records/device.js';
import type { FlowUpdate } from '../records/flow.js';
import type { AppMeta, DecodedPacket } from '../records/packet.js';
import { AppProto, Proto, TcpFlag, formatIpv4, formatIpv6, formatMac, parseMac } from '../records/packet.js';
import type { Cidr } from './address.js';
import { maskWord, parseCidr, parseIpv4, parseIpv6 } from './address.js';
import type { DeviceIdentityOptions } from './config.js';
import { DeviceIdentityOptionsSchema, parseOptions } from './config.js';
import { NumberMap, OwnedKeySet, splitHi, splitLo } from '../numeric-hash.js';
import type { ProtocolName } from './device-class.js';
import { PORT_PROTOCOL, PROTOCOL_NAMES, guessDeviceClass } from './device-class.js';
import type { InventoryFileEntry } from './inventory-file.js';
import { macVendor } from './oui.js';
import { CANDIDATE_DHCP, CandidateTable } from './candidate-table.js';
import { AppIdentityState } from './app-identity.js';

const EXTERNAL = 0;
const KEY_MAC = 1;
const KEY_IP = 2;
const IP6_KEY_BASE = 0x100000000;
/** `byMac` value of a gateway MAC: one look-up tells device, gateway or unknown. */
const GATEWAY = 0x7fffffff;
/** Resolution cache: slots (a power of two) and int32 words per slot. */
const RC_SLOTS = 4096;
const RC_STRIDE = 16;
/** Recent peer keys remembered per device (see `recentPeers`; the check is unrolled for 4). */
const RECENT_PEERS = 4;
/** Kind of the pending sender (`pendKind`): none, MAC, IPv4, IPv6; its candidate-table key puts the kind in `hi`. */
const P_NONE = 0;
const P_MAC = 1;
const P_IP4 = 2;
const P_IP6 = 3;
/** A DHCPACK is evidence for a client that sent a DHCP DISCOVER or REQUEST at most this long before (seconds). */
const DHCP_ANSWER_S = 60;
/** MACs whose external source addresses are counted for auto_gateway (beyond: not counted, `gateway_candidates_dropped`). */
const MAX_GATEWAY_CANDIDATES = 4096;

/** AppProto code → protocol bit. */
const APP_BITS: readonly number[] = [0, 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5];

class Device {
  /** IPs as numeric keys (most recent last) and, for IPv6, the full address; text is made on export only. */
  ipKeys: number[] = [];
  ipWords: (Uint32Array | undefined)[] = [];
  lastIpKey = -1;
  vendor = '';
  dhcp_hostname = '';
  dhcp_vendor_class = '';
  first_seen = 0;
  last_seen = 0;
  protocols = 0;
  /** Peer keys in first-seen order (membership in the inventory's shared `peerSet`); text is made on export. */
  readonly peerKeys: number[] = [];
  /** Full IPv6 address of the IPv6 peers, by index into `peerKeys` (created on the first one). */
  peer6: Map<number, Uint32Array> | undefined = undefined;
  peers_overflow = false;
  /** Ports it answered on (≤ 64: a short array beats a Set here). */
  readonly listening: number[] = [];
  gateway = false;
  learning = true;
  override: InventoryFileEntry | undefined = undefined;
  /** Last `identity` snapshot and what it was made from (reused while those are unchanged: once per window otherwise). */
  snapshot: { of: [number, number, boolean, string, boolean, InventoryFileEntry | undefined, number]; value: DeviceIdentitySnapshot } | undefined = undefined;
  /** Listed in the inventory: it showed evidence of being a real host (see "Evidence"). */
  confirmed = false;
  confirmed_by: DeviceEvidence = 'first_packet';
  confirmed_at = 0;
  /** Packets sent while unconfirmed (for `sustained`). */
  sent = 0;
  /** Packet time of its last DHCP DISCOVER/REQUEST while unconfirmed (-Infinity: none). */
  dhcpAt = -Infinity;
  /** What HL7, DICOM, MQTT and DHCP said about it (created at the first such packet). */
  app: AppIdentityState | undefined = undefined;

  constructor(
    readonly handle: number,
    readonly device_id: string,
    readonly key_kind: 'mac' | 'ip',
    readonly mac: number,
  ) {}
}

interface Subnet {
  cidr: Cidr;
  kind: number;
  /** IPv4: network and mask as signed 32-bit integers (precomputed for the hot path). */
  net4: number;
  mask4: number;
}

/**
 * A device's history kept by the feature stage (the peers and responder ports its `new_peers` / `new_dst_ports`
 * compare against), saved beside its entry so that a restart does not flag known peers as new. The inventory only
 * stores and returns it. Peer keys: an IPv4 address as an unsigned 32-bit integer; IPv6: 2^32 + the 32-bit XOR fold
 * of the address (what the feature stage compares). Bounded by the feature options (`max_history_peers`,
 * `max_history_ports`: 4096 + 1024 numbers per device at the defaults).
 */
/**
 * A device's identity as the detector reads it (see `DeviceInventory.identity`). `confirmed: false` for a candidate
 * (a handle without an inventory entry): the detector keeps its `new_device` notice until it is confirmed.
 */
export type DeviceIdentitySnapshot = Pick<InventoryEntry, 'device_class' | 'criticality' | 'name' | 'vendor' | 'first_seen'> & { confirmed: boolean };

export interface SavedFeatureHistory {
  peer_keys: number[];
  dst_ports: number[];
}

export type InventoryCounter =
  | 'devices_created'
  | 'devices_overflow'
  | 'arp_conflicts'
  | 'gateways_detected'
  | 'gateway_candidates_dropped'
  | 'devices_confirmed'
  | 'devices_unconfirmed'
  | 'candidates'
  | 'candidates_seen'
  | 'candidates_evicted'
  | 'candidates_tracked'
  | 'candidate_packets'
  | 'sources_unconfirmed';

export class DeviceInventory implements DeviceDirectory {
  readonly options: DeviceIdentityOptions;
  private readonly subnets4: Subnet[];
  private readonly subnets6: Subnet[];
  /** Gateway MACs (value unused). Numeric maps: MACs and IPv4 addresses would be boxed as `Map` keys. */
  private readonly gateways = new NumberMap(16);
  private readonly devices: Device[] = [];
  private readonly byMac = new NumberMap(1024);
  private readonly byIp = new NumberMap(1024);
  /** Every device's peers as (handle, key) pairs in one shared table (no per-device map). */
  private readonly peerSet = new OwnedKeySet(4096);
  /** Full IPv6 address of each IPv6-keyed device, by handle. */
  private readonly ip6Words = new Map<number, Uint32Array>();
  /** IPv4 address → MAC that owns it (ARP bindings). */
  private readonly bindings = new NumberMap(1024);
  /** For bindings that moved to a new MAC: the MAC they were taken from (−1 when none), and the new owner's last ARP claim. */
  private readonly displaced = new NumberMap(64);
  private readonly lastClaim = new NumberMap(64);
  /** Auto-gateway evidence: MAC → row of distinct external source keys (`extKeys`, `extCounts`). */
  private readonly extRow = new NumberMap(64);
  private extRowCount = 0;
  private extKeys = new Float64Array(0);
  private extCounts = new Uint16Array(0);
  /** [0] current packet time (seconds): kept in a typed array so it is never boxed. */
  private readonly now = new Float64Array(1);
  /** `identity_settle_ms` in seconds (AppIdentityState). */
  private readonly identitySettleS: number;
  private readonly overrides = new Map<string, InventoryFileEntry>();
  private readonly out: PacketDevices = {
    src: -1,
    dst: -1,
    src_internal: false,
    dst_internal: false,
    arp_conflict: false,
    overflow: 0,
  };
  /** Feature histories read by `load`, by handle, until `takeSavedFeatureHistory`. */
  private savedHistory = new Map<number, SavedFeatureHistory>();
  /**
   * Resolution cache for IPv4 packets: the last answer per hash slot of (source MAC, destination MAC, source IP,
   * destination IP), valid while `resolveGen` is unchanged. `resolveGen` moves on every change of the state that
   * `resolve` reads or writes (a device created or restored, a gateway detected, an ARP binding set, a device's
   * address changed), and an answer that counted an overflow is not kept: on a hit, the full resolution would give the
   * same answer and change nothing (its other side effects — binding an unbound address, noting an external source
   * key — are idempotent and were done when the entry was filled). Row of RC_STRIDE int32: the six key words, the
   * generation, src, dst, internal flags.
   */
  private readonly rcache = new Int32Array(RC_SLOTS * RC_STRIDE);
  /**
   * Each device's last RECENT_PEERS distinct peer keys (by handle, most recent first; -1 empty): a packet to or from
   * one of them skips the shared peer table (it was added, or found, or counted as overflow, when first met; the
   * table only grows, so doing it again would change nothing).
   */
  private recentPeers = new Float64Array(64 * RECENT_PEERS).fill(-1);
  private resolveGen = 1;
  private nOverflow = 0;
  private nConflicts = 0;
  private nGateways = 0;
  private nGatewayCandidatesDropped = 0;
  /** Evidence rule (see "Evidence"): candidates without a handle, and counts. */
  private readonly requireEvidence: boolean;
  private readonly candidates: CandidateTable;
  private nConfirmed = 0;
  private nUnconfirmed = 0;
  private nTracked = 0;
  private nCandidatePackets = 0;
  /**
   * The current packet's sender when it waits in the candidate table (no handle): its kind (P_*; P_NONE: none), key
   * halves (a MAC's 24-bit halves, or an IPv4 address as 16-bit halves, or the IPv6 address in `pend6`) and table
   * slot. Set by `admit`, cleared by `resolve`; `learn` creates the device from it on evidence.
   */
  private pendKind = P_NONE;
  private pendHi = 0;
  private pendLo = 0;
  private pendSlot = -1;
  private readonly pend6 = new Uint32Array(4);
  /** Set while a device is created because of evidence: it is confirmed so, and the candidate pool does not apply. */
  private forceEvidence: DeviceEvidence | '' = '';

  constructor(options: Partial<DeviceIdentityOptions> = {}, inventoryFile: readonly InventoryFileEntry[] = []) {
    this.options = parseOptions(DeviceIdentityOptionsSchema, options, 'devices');
    this.identitySettleS = this.options.identity_settle_ms / 1000;
    const subnets = this.options.subnets.map((s) => {
      const cidr = parseCidr(s.cidr)!;
      return { cidr, kind: s.key === 'mac' ? KEY_MAC : KEY_IP, net4: cidr.words[0]! | 0, mask4: maskWord(cidr.prefix) | 0 };
    });
    subnets.sort((a, b) => b.cidr.prefix - a.cidr.prefix);
    this.subnets4 = subnets.filter((s) => s.cidr.version === 4);
    this.subnets6 = subnets.filter((s) => s.cidr.version === 6);
    for (const g of this.options.gateway_macs) {
      this.gateways.setKey(parseMac(g), 0);
      this.byMac.setKey(parseMac(g), GATEWAY);
    }
    for (const e of inventoryFile) this.overrides.set(e.device_id, e);
    this.requireEvidence = this.options.require_evidence;
    this.candidates = new CandidateTable(this.requireEvidence ? this.options.max_candidates : 4);
  }

  /** Devices with a handle, confirmed or not (`entries().length` counts the confirmed ones). */
  get size(): number {
    return this.devices.length;
  }

  /** Devices listed in the inventory (confirmed). */
  get confirmedCount(): number {
    return this.nConfirmed;
  }

  /** Whether the device of this handle is confirmed (listed). */
  isConfirmed(handle: number): boolean {
    return this.devices[handle]?.confirmed ?? false;
  }

  /** Packets whose sender could not be admitted because the inventory was full. */
  get overflow(): number {
    return this.nOverflow;
  }

  deviceId(handle: number): string {
    return this.devices[handle]?.device_id ?? '';
  }

  /** Handle of a device by id, -1 when unknown. Not for the hot path. */
  handleOf(deviceId: string): number {
    return this.devices.findIndex((d) => d.device_id === deviceId);
  }

  isGateway(mac: number): boolean {
    return this.gateways.getKey(mac) >= 0;
  }

  counters(): Counters<InventoryCounter> {
    const c = new Counters<InventoryCounter>('devices');
    c.add('devices_created', this.devices.length);
    c.add('devices_overflow', this.nOverflow);
    c.add('arp_conflicts', this.nConflicts);
    c.add('gateways_detected', this.nGateways);
    c.add('gateway_candidates_dropped', this.nGatewayCandidatesDropped);
    c.add('devices_confirmed', this.nConfirmed);
    c.add('devices_unconfirmed', this.nUnconfirmed);
    c.add('candidates', this.candidates.size);
    c.add('candidates_seen', this.candidates.inserted);
    c.add('candidates_evicted', this.candidates.evicted);
    c.add('candidates_tracked', this.nTracked);
    c.add('candidate_packets', this.nCandidatePackets);
    c.add('sources_unconfirmed', this.nUnconfirmed + this.candidates.size + this.candidates.evicted);
    return c;
  }

  /** Attributes the packet's two sides to devices (creating the sender's device). Returns a reused object. */
  resolve(p: DecodedPacket): PacketDevices {
    // Hot path. MACs (48-bit) and IPv4 addresses above 2^30 are not small integers: they are split into small
    // (hi, lo) halves before any call (a double argument to a call V8 does not inline is boxed, an allocation).
    const d = this.out;
    d.src = -1;
    d.dst = -1;
    d.src_internal = false;
    d.dst_internal = false;
    d.arp_conflict = false;
    d.overflow = 0;
    this.pendKind = P_NONE;
    this.now[0] = p.ts_sec + p.ts_nsec * 1e-9;
    if (p.proto === Proto.ARP) {
      this.resolveArp(p, d);
      return d;
    }
    const eSrc = p.eth_src;
    const eDst = p.eth_dst;
    // -1 halves for "no MAC"; the group (I/G) bit is bit 16 of the high half.
    const sh = eSrc >= 0 ? (eSrc / 16777216) | 0 : -1;
    const sl = eSrc >= 0 ? eSrc - sh * 16777216 : -1;
    const th = eDst >= 0 ? (eDst / 16777216) | 0 : -1;
    const tl = eDst >= 0 ? eDst - th * 16777216 : -1;
    if (p.ip_version === 4) {
      const rc = this.rcache;
      const is = p.ip_src | 0;
      const it = p.ip_dst | 0;
      let hc = Math.imul(sl ^ Math.imul(sh, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(tl ^ Math.imul(th, 0x27d4eb2f), 0xc2b2ae35);
      hc = Math.imul(hc ^ is, 0x165667b1) ^ Math.imul(it ^ (hc >>> 15), 0x9e3779b1);
      hc ^= hc >>> 16;
      const r = (hc & (RC_SLOTS - 1)) * RC_STRIDE;
      if (
        rc[r + 6] === this.resolveGen &&
        rc[r + 4] === is &&
        rc[r + 5] === it &&
        rc[r + 1] === sl &&
        rc[r + 3] === tl &&
        rc[r] === sh &&
        rc[r + 2] === th
      ) {
        d.src = rc[r + 7]!;
        d.dst = rc[r + 8]!;
        const f = rc[r + 9]!;
        d.src_internal = (f & 1) !== 0;
        d.dst_internal = (f & 2) !== 0;
        return d;
      }
      this.resolve4(p, d, sh, sl, th, tl);
      if (d.overflow === 0) {
        rc[r] = sh;
        rc[r + 1] = sl;
        rc[r + 2] = th;
        rc[r + 3] = tl;
        rc[r + 4] = is;
        rc[r + 5] = it;
        rc[r + 6] = this.resolveGen;
        rc[r + 7] = d.src;
        rc[r + 8] = d.dst;
        rc[r + 9] = (d.src_internal ? 1 : 0) | (d.dst_internal ? 2 : 0);
      }
      return d;
    }
    // byMac value: a device handle, GATEWAY, or -1 (unknown); -2 here for no MAC or a group MAC.
    const sv = sh >= 0 && ((sh >>> 16) & 1) === 0 ? this.byMac.get(sh, sl) : -2;
    const tv = th >= 0 && ((th >>> 16) & 1) === 0 ? this.byMac.get(th, tl) : -2;
    const srcMacUsable = sv !== -2 && sv !== GATEWAY;
    const dstMacUsable = tv !== -2 && tv !== GATEWAY;
    if (p.ip_version === 6) {
      const sk = this.kind6(p.ip6_src);
      d.src_internal = sk !== EXTERNAL;
      const w = p.ip6_src;
      const unspecified = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0;
      if (sk === EXTERNAL) {
        if (unspecified) d.src = srcMacUsable ? (sv >= 0 ? sv : this.createMacDevice(sh, sl)) : -1;
        else if (this.options.auto_gateway && srcMacUsable) this.noteExternalSource(sh, sl, fold6(w));
      } else if (sk === KEY_MAC && srcMacUsable) {
        d.src = sv >= 0 ? sv : this.createMacDevice(sh, sl);
      } else {
        d.src = this.srcByIp6(w);
      }
      const tk = this.kind6(p.ip6_dst);
      d.dst_internal = tk !== EXTERNAL;
      if (tk !== EXTERNAL && p.ip6_dst[0]! >>> 24 !== 0xff) {
        d.dst = tk === KEY_MAC && dstMacUsable ? tv : this.ipDeviceLookup(p.ip6_dst);
      }
    } else if (sh >= 0) {
      // Other L2 traffic: attributed to known MAC devices, creates none.
      d.src = srcMacUsable ? sv : -1;
      d.dst = dstMacUsable ? tv : -1;
      d.src_internal = d.src >= 0;
      d.dst_internal = d.dst >= 0;
    }
    return d;
  }

  /** `resolve` of an IPv4 packet (MAC halves as in `resolve`), without the cache. */
  private resolve4(p: DecodedPacket, d: PacketDevices, sh: number, sl: number, th: number, tl: number): void {
    // byMac value: a device handle, GATEWAY, or -1 (unknown); -2 here for no MAC or a group MAC.
    const sv = sh >= 0 && ((sh >>> 16) & 1) === 0 ? this.byMac.get(sh, sl) : -2;
    const tv = th >= 0 && ((th >>> 16) & 1) === 0 ? this.byMac.get(th, tl) : -2;
    const srcMacUsable = sv !== -2 && sv !== GATEWAY;
    const dstMacUsable = tv !== -2 && tv !== GATEWAY;
    const s = p.ip_src >>> 0;
    const sk = this.kind4(s >>> 16, s & 0xffff);
    d.src_internal = sk !== EXTERNAL;
    if (sk === EXTERNAL) {
      if (s === 0) d.src = srcMacUsable ? (sv >= 0 ? sv : this.createMacDevice(sh, sl)) : -1;
      else if (this.options.auto_gateway && srcMacUsable) this.noteExternalSource(sh, sl, s);
    } else if (sk === KEY_MAC && srcMacUsable) {
      const h = sv >= 0 ? sv : this.createMacDevice(sh, sl);
      d.src = h;
      // First MAC seen using an IPv4 address owns it (checked only when the device's address changes).
      if (h >= 0 && this.devices[h]!.lastIpKey !== s && this.bindings.get(s >>> 24, s & 0xffffff) < 0)
        this.bind(s >>> 24, s & 0xffffff, sh * 16777216 + sl);
    } else {
      // A gateway's own address (its traffic from inside the segment) is bound to it too.
      if (sv === GATEWAY && sk === KEY_MAC && this.bindings.get(s >>> 24, s & 0xffffff) < 0)
        this.bind(s >>> 24, s & 0xffffff, sh * 16777216 + sl);
      const h = this.byIp.get(s >>> 24, s & 0xffffff);
      d.src = h >= 0 ? h : this.createIpDevice(s >>> 16, s & 0xffff);
    }
    const t = p.ip_dst >>> 0;
    const tk = this.kind4(t >>> 16, t & 0xffff);
    d.dst_internal = tk !== EXTERNAL;
    if (tk !== EXTERNAL && t !== 0xffffffff && t >>> 28 !== 14) {
      d.dst = tk === KEY_MAC && dstMacUsable && tv >= 0 ? tv : this.byIp.get(t >>> 24, t & 0xffffff);
    }
  }

  /**
   * Learns from the packet once the flow table has seen it. Evidence first: a sender or destination confirmed by this
   * packet that had no handle gets one here (`d.src` / `d.dst` are updated, so the feature stage sees it).
   */
  learn(p: DecodedPacket, d: PacketDevices, flow: FlowUpdate): void {
    if (this.requireEvidence) this.evidence(p, d, flow);
    const appBit = APP_BITS[p.app] ?? 0;
    // Protocol by well-known port: only once the responder answers from it (not RST), so that a scan of 1000 ports
    // does not teach its target 1000 protocols.
    let portBit = 0;
    if (!flow.from_orig && flow.flow >= 0 && p.src_port >= 0) {
      if (p.proto === Proto.UDP || (p.proto === Proto.TCP && (p.tcp_flags & TcpFlag.RST) === 0)) {
        const pp = PORT_PROTOCOL[p.src_port] ?? 0;
        if (pp > 0) portBit = 1 << (pp - 1);
      }
    }
    if (d.src >= 0) {
      const dv = this.devices[d.src]!;
      const ts = this.now[0]!;
      if (ts > dv.last_seen) dv.last_seen = ts;
      dv.protocols |= appBit | portBit;
      if (p.ip_version === 4 && p.ip_src !== 0) {
        if (p.ip_src >>> 0 !== dv.lastIpKey) this.addIp(dv, p.ip_src >>> 0, undefined);
      } else if (p.ip_version === 6 && IP6_KEY_BASE + fold6(p.ip6_src) !== dv.lastIpKey) {
        const unspecified = p.ip6_src[0] === 0 && p.ip6_src[1] === 0 && p.ip6_src[2] === 0 && p.ip6_src[3] === 0;
        if (!unspecified) this.addIp(dv, IP6_KEY_BASE + fold6(p.ip6_src), p.ip6_src);
      }
      if (p.ip_version !== 0) this.addPeer(dv, p, false);
      else if (p.proto === Proto.ARP && !d.arp_conflict && p.arp_spa > 0 && p.arp_spa >>> 0 !== dv.lastIpKey)
        this.addIp(dv, p.arp_spa >>> 0, undefined);
      // A DHCP server answers from port 67 to a broadcast or a new address: a new flow, so mark it here.
      if (p.app === AppProto.DHCP && p.src_port === 67 && !dv.listening.includes(67)) dv.listening.push(67);
      if (flow.flow >= 0 && !flow.from_orig && p.src_port >= 0) {
        const answered = p.proto === Proto.UDP || (p.proto === Proto.TCP && (p.tcp_flags & TcpFlag.RST) === 0);
        if (answered && dv.listening.length < this.options.max_listening_ports_per_device && !dv.listening.includes(p.src_port))
          dv.listening.push(p.src_port);
      }
      if (p.app === AppProto.DHCP && p.app_meta !== undefined) {
        const m = p.app_meta;
        if (m.dhcp_hostname !== undefined && m.dhcp_hostname !== '') dv.dhcp_hostname = m.dhcp_hostname;
        if (m.dhcp_vendor_class !== undefined && m.dhcp_vendor_class !== '') dv.dhcp_vendor_class = m.dhcp_vendor_class;
      }
    }
    if (d.dst >= 0) {
      const dv = this.devices[d.dst]!;
      dv.protocols |= appBit | portBit;
      if (p.ip_version !== 0) this.addPeer(dv, p, true);
    }
    const app = p.app;
    if ((app === AppProto.HL7 || app === AppProto.DICOM || app === AppProto.MQTT || app === AppProto.DHCP) && p.app_meta !== undefined)
      this.learnAppIdentity(p, p.app_meta, d);
  }

  /** Application identity (records/device.ts `AppIdentity`): attribution as documented there. */
  private learnAppIdentity(p: DecodedPacket, m: AppMeta, d: PacketDevices): void {
    const src = d.src >= 0 ? this.devices[d.src]! : undefined;
    const ts = this.now[0]!;
    const settle = this.identitySettleS;
    switch (p.app) {
      case AppProto.HL7:
        if (src !== undefined) (src.app ??= new AppIdentityState(settle)).learnHl7Sent(m, ts);
        break;
      case AppProto.DICOM:
        if (m.dicom_pdu_type !== 1 && m.dicom_pdu_type !== 2) break;
        if (src !== undefined) (src.app ??= new AppIdentityState(settle)).learnDicom(m, true, ts);
        if (d.dst >= 0 && d.dst !== d.src) (this.devices[d.dst]!.app ??= new AppIdentityState(settle)).learnDicom(m, false, ts);
        break;
      case AppProto.MQTT:
        if (src !== undefined && m.mqtt_client_id !== undefined) (src.app ??= new AppIdentityState(settle)).learnMqttClientId(m.mqtt_client_id);
        break;
      case AppProto.DHCP:
        if (src !== undefined && m.dhcp_param_request !== undefined && p.src_port === 68) (src.app ??= new AppIdentityState(settle)).learnDhcpParameters(m.dhcp_param_request);
        break;
    }
  }

  /**
   * The device's medical-identity changes (feature `identity_changes`: a new HL7 message type, sending application or
   * equipment id, or a new AE title it calls from, once its identity settled) since the last call; undefined when none.
   * The feature stage takes them at each window close for the devices active in the window.
   */
  takeIdentityChanges(handle: number): IdentityChanges | undefined {
    return this.devices[handle]?.app?.takeChanges();
  }

  /**
   * The inventory entry of one device (class guessed unless the inventory file gives it); undefined for an unknown
   * handle and for a candidate (not confirmed: no entry yet).
   */
  entry(handle: number): InventoryEntry | undefined {
    const dv = this.devices[handle];
    if (dv === undefined || !dv.confirmed) return undefined;
    const listening = [...dv.listening].sort((a, b) => a - b);
    const protocols = PROTOCOL_NAMES.filter((_, i) => (dv.protocols & (1 << i)) !== 0);
    const o = dv.override;
    let device_class: DeviceClass;
    let class_source: 'inventory' | 'guess';
    let class_confidence: number;
    let class_evidence: string;
    if (o?.device_class !== undefined) {
      device_class = o.device_class;
      class_source = 'inventory';
      class_confidence = 1;
      class_evidence = 'inventory file';
    } else {
      const g = guessDeviceClass({ vendor: dv.vendor, protocols: dv.protocols, listening_ports: listening, gateway: dv.gateway, identity: dv.app?.classEvidence() });
      device_class = g.device_class;
      class_source = 'guess';
      class_confidence = g.confidence;
      class_evidence = g.evidence;
    }
    return {
      schema_version: DEVICE_SCHEMA_VERSION,
      device_id: dv.device_id,
      key_kind: dv.key_kind,
      mac: dv.mac >= 0 ? formatMac(dv.mac) : '',
      ips: dv.ipKeys.map((k, i) => {
        const w = dv.ipWords[i];
        return w === undefined ? formatIpv4(k) : formatIpv6(w);
      }),
      vendor: dv.vendor,
      dhcp_hostname: dv.dhcp_hostname,
      dhcp_vendor_class: dv.dhcp_vendor_class,
      first_seen: round6(dv.first_seen),
      last_seen: round6(dv.last_seen),
      protocols,
      peers: dv.peerKeys.map((k, i) => {
        const w = dv.peer6?.get(i);
        return w === undefined ? formatIpv4(k) : formatIpv6(w);
      }),
      peers_overflow: dv.peers_overflow,
      listening_ports: listening,
      device_class,
      class_source,
      class_confidence,
      class_evidence,
      name: o?.name ?? '',
      location: o?.location ?? '',
      criticality: o?.criticality ?? 'medium',
      learning: dv.learning,
      confirmed_by: dv.confirmed_by,
      confirmed_at: round6(dv.confirmed_at),
      app_identity: dv.app?.toRecord() ?? emptyAppIdentity(),
    };
  }

  /**
   * What the detector needs of a device (class, criticality, name, vendor, first seen), as the inventory knows it now.
   * Cheap enough to take at every window close, so that a replay attaches to each window the identity of its own
   * packet time, whatever the replay speed.
   */
  identity(handle: number): DeviceIdentitySnapshot | undefined {
    const dv = this.devices[handle];
    if (dv === undefined) return undefined;
    const o = dv.override;
    // The snapshot depends on protocols, listening ports (a list that only grows), gateway, host name, evidence, the
    // operator override and the application identity's lists (vendor and first_seen never change): reused while they
    // are the same.
    const c = dv.snapshot?.of;
    const idChanges = dv.app?.changes ?? 0;
    if (
      c !== undefined &&
      c[0] === dv.protocols &&
      c[1] === dv.listening.length &&
      c[2] === dv.gateway &&
      c[3] === dv.dhcp_hostname &&
      c[4] === dv.confirmed &&
      c[5] === o &&
      c[6] === idChanges
    ) {
      return dv.snapshot!.value;
    }
    const device_class =
      o?.device_class ??
      guessDeviceClass({
        vendor: dv.vendor,
        protocols: dv.protocols,
        listening_ports: [...dv.listening].sort((a, b) => a - b),
        gateway: dv.gateway,
        identity: dv.app?.classEvidence(),
      }).device_class;
    const value = { device_class, criticality: o?.criticality ?? 'medium', name: o?.name || dv.dhcp_hostname, vendor: dv.vendor, first_seen: round6(dv.first_seen), confirmed: dv.confirmed };
    dv.snapshot = { of: [dv.protocols, dv.listening.length, dv.gateway, dv.dhcp_hostname, dv.confirmed, o, idChanges], value };
    return value;
  }

  /** All entries (confirmed devices), in device creation order. */
  entries(): InventoryEntry[] {
    const out: InventoryEntry[] = [];
    for (let i = 0; i < this.devices.length; i++) {
      const e = this.entry(i);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /**
   * Writes the inventory as JSON (atomically: temp file + rename): the confirmed devices, the gateway MACs and the ARP
   * bindings owned by a confirmed device or a gateway (a candidate's are not saved). `featureHistory` (by handle, from
   * the feature stage) is saved in each device's entry as `feature_history`. Handles are not saved: `load` numbers
   * the devices in order.
   */
  save(path: string, featureHistory?: ReadonlyMap<number, SavedFeatureHistory>): void {
    const devices: SavedInventory['devices'] = [];
    const owners = new Set<number>();
    for (let h = 0; h < this.devices.length; h++) {
      const e = this.entry(h);
      if (e === undefined) continue;
      if (this.devices[h]!.mac >= 0) owners.add(this.devices[h]!.mac);
      const fh = featureHistory?.get(h);
      devices.push(fh === undefined ? e : { ...e, feature_history: { peer_keys: fh.peer_keys, dst_ports: fh.dst_ports } });
    }
    const doc: SavedInventory = {
      schema_version: DEVICE_SCHEMA_VERSION,
      gateway_macs: numberKeys(this.gateways).map(formatMac).sort(),
      arp_bindings: numberEntries(this.bindings)
        .filter(([, mac]) => owners.has(mac) || this.gateways.getKey(mac) >= 0)
        .map(([ip, mac]) => [formatIpv4(ip), formatMac(mac)] as [string, string]),
      devices,
    };
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
    renameSync(tmp, path);
  }

  /**
   * Restores an inventory saved by `save` (schema version 2, or 1: its devices are then confirmed as `restored`).
   * Options and the inventory file are the current ones (not saved).
   */
  static load(path: string, options: Partial<DeviceIdentityOptions> = {}, inventoryFile: readonly InventoryFileEntry[] = []): DeviceInventory {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError('inventory_state', `cannot read saved inventory ${path}: ${(err as Error).message}`, { cause: err });
    }
    const r = SavedInventorySchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new ConfigError(['inventory_state', ...(issue?.path ?? []).map(String)].join('.'), issue?.message ?? 'invalid');
    }
    const inv = new DeviceInventory(options, inventoryFile);
    for (const [ip, mac] of r.data.arp_bindings) inv.bindings.setKey(parseIpv4(ip), parseMac(mac));
    for (const e of r.data.devices) inv.restore(e);
    for (const g of r.data.gateway_macs) {
      const mac = parseMac(g);
      inv.gateways.setKey(mac, 0);
      const h = inv.byMac.getKey(mac);
      if (h >= 0 && h !== GATEWAY) inv.devices[h]!.gateway = true;
      inv.byMac.setKey(mac, GATEWAY);
    }
    inv.resolveGen++;
    return inv;
  }

  /** The feature histories read by `load` (by handle), handed over once: the inventory keeps no copy. */
  takeSavedFeatureHistory(): Map<number, SavedFeatureHistory> {
    const m = this.savedHistory;
    this.savedHistory = new Map();
    return m;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private restore(e: z.infer<typeof SavedEntrySchema>): void {
    this.resolveGen++;
    const mac = e.mac !== '' ? parseMac(e.mac) : -1;
    const dv = new Device(this.devices.length, e.device_id, e.key_kind, mac);
    dv.vendor = e.vendor;
    dv.dhcp_hostname = e.dhcp_hostname;
    dv.dhcp_vendor_class = e.dhcp_vendor_class;
    dv.first_seen = e.first_seen;
    dv.last_seen = e.last_seen;
    dv.learning = e.learning;
    dv.confirmed = true;
    dv.confirmed_by = e.confirmed_by ?? 'restored';
    dv.confirmed_at = e.confirmed_at ?? e.first_seen;
    if (e.app_identity !== undefined) dv.app = AppIdentityState.fromRecord(e.app_identity, this.identitySettleS);
    this.nConfirmed++;
    for (const name of e.protocols) {
      const i = PROTOCOL_NAMES.indexOf(name as ProtocolName);
      if (i >= 0) dv.protocols |= 1 << i;
    }
    for (const ip of e.ips) {
      const key = ipKeyOf(ip);
      if (key !== undefined) {
        dv.ipKeys.push(key.key);
        dv.ipWords.push(key.words);
      }
    }
    for (const peer of e.peers) {
      const key = ipKeyOf(peer);
      if (key !== undefined && this.peerSet.add(dv.handle, splitHi(key.key), splitLo(key.key))) {
        if (key.words !== undefined) (dv.peer6 ??= new Map()).set(dv.peerKeys.length, key.words);
        dv.peerKeys.push(key.key);
      }
    }
    dv.peers_overflow = e.peers_overflow;
    for (const port of e.listening_ports) if (!dv.listening.includes(port)) dv.listening.push(port);
    dv.override = this.overrides.get(dv.device_id);
    if (e.feature_history !== undefined) this.savedHistory.set(dv.handle, e.feature_history);
    this.devices.push(dv);
    if (e.key_kind === 'mac') this.byMac.setKey(mac, dv.handle);
    else {
      const key = ipKeyOf(e.device_id.slice(3));
      if (key !== undefined) {
        this.byIp.setKey(key.key, dv.handle);
        if (key.words) this.ip6Words.set(dv.handle, key.words);
      }
    }
  }

  private resolveArp(p: DecodedPacket, d: PacketDevices): void {
    const ts = this.now[0]!;
    const sha = p.arp_sha >= 0 ? p.arp_sha : p.eth_src;
    const sh = sha >= 0 ? (sha / 16777216) | 0 : -1;
    const sl = sha >= 0 ? sha - sh * 16777216 : -1;
    const spa = p.arp_spa >>> 0;
    const sk = spa !== 0 ? this.kind4(spa >>> 16, spa & 0xffff) : KEY_MAC;
    d.src_internal = sk !== EXTERNAL;
    const sv = sh >= 0 && ((sh >>> 16) & 1) === 0 ? this.byMac.get(sh, sl) : -2;
    if (sv !== -2 && sv !== GATEWAY) {
      if (sk === KEY_IP) {
        const h = this.byIp.get(spa >>> 24, spa & 0xffffff);
        d.src = h >= 0 ? h : this.createIpDevice(spa >>> 16, spa & 0xffff);
      } else {
        d.src = sv >= 0 ? sv : this.createMacDevice(sh, sl);
      }
    }
    if (spa !== 0 && sh >= 0 && sk !== KEY_IP) {
      const owner = this.bindings.get(spa >>> 24, spa & 0xffffff);
      if (owner < 0) {
        // An unbound address claimed in a REPLY by a device whose own address we know to be another one: a
        // spoof (ARP poisoning of an address whose owner has not spoken yet, e.g. a quiet gateway). Not bound.
        const dv = d.src >= 0 ? this.devices[d.src] : undefined;
        if (p.arp_op === 2 && dv !== undefined && dv.ipKeys.length > 0 && !dv.ipKeys.includes(spa)) {
          d.arp_conflict = true;
          this.nConflicts++;
        } else {
          this.bind(spa >>> 24, spa & 0xffffff, sha);
        }
      } else if (owner !== sha) {
        // A gateway owner is always alive (its address never moves silently); a device owner is alive while it
        // has sent within the binding timeout. When the binding moved (its owner was silent), the owner it displaced
        // takes it back once the new owner has not claimed the address by ARP for `arp_reclaim_ms`: after an ARP
        // spoof ends, the real owner's next claim is not a "spoof" (the spoofer is alive, but no longer claims it).
        const hi = spa >>> 24;
        const lo = spa & 0xffffff;
        if (this.displaced.get(hi, lo) === sha && (ts - this.lastClaim.get(hi, lo)) * 1000 >= this.options.arp_reclaim_ms) {
          this.bind(hi, lo, sha);
          this.displaced.set(hi, lo, -1);
        } else {
          const oh = this.byMac.getKey(owner);
          const ownerLast = oh === GATEWAY ? Infinity : oh >= 0 ? this.devices[oh]!.last_seen : -Infinity;
          // A REPLY for an address that is not the claimant's own, while it uses another one, is a spoof even when
          // the owner is silent (as for an unbound address above): the binding does not move to it.
          const claimant = d.src >= 0 ? this.devices[d.src] : undefined;
          const foreign = p.arp_op === 2 && claimant !== undefined && claimant.ipKeys.length > 0 && !claimant.ipKeys.includes(spa);
          if (!foreign && (ts - ownerLast) * 1000 >= this.options.arp_binding_timeout_ms) {
            this.bind(hi, lo, sha);
            this.displaced.set(hi, lo, owner);
            this.lastClaim.set(hi, lo, ts);
          } else {
            d.arp_conflict = true;
            this.nConflicts++;
          }
        }
      } else if (this.displaced.get(spa >>> 24, spa & 0xffffff) >= 0) {
        // The owner of a moved binding claims it again.
        this.lastClaim.set(spa >>> 24, spa & 0xffffff, ts);
      }
    }
    const tpa = p.arp_tpa >>> 0;
    d.dst_internal = this.kind4(tpa >>> 16, tpa & 0xffff) !== EXTERNAL;
    const eDst = p.eth_dst;
    if (eDst >= 0) {
      const th = (eDst / 16777216) | 0;
      if (((th >>> 16) & 1) === 0) {
        const v = this.byMac.get(th, eDst - th * 16777216);
        d.dst = v === GATEWAY ? -1 : v;
      }
    }
  }

  /** Internal-subnet kind of an IPv4 address given as two 16-bit halves. */
  private kind4(hi16: number, lo16: number): number {
    const ip = (hi16 << 16) | lo16;
    const subs = this.subnets4;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if ((ip & s.mask4) === s.net4) return s.kind;
    }
    return EXTERNAL;
  }

  private kind6(w: Uint32Array): number {
    const subs = this.subnets6;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      let match = true;
      for (let j = 0; j < 4 && match; j++) {
        const m = maskWord(s.cidr.prefix - 32 * j);
        if (m === 0) break;
        if (((w[j]! & m) >>> 0) !== s.cidr.words[j]) match = false;
      }
      if (match) return s.kind;
    }
    return EXTERNAL;
  }

  /**
   * A MAC sent from an external address (`key`: IPv4, or the IPv6 fold): it becomes a gateway once seen with
   * `auto_gateway_min_sources` distinct ones. Up to that many keys are kept per MAC, in `extKeys` rows.
   */
  private noteExternalSource(hi: number, lo: number, key: number): void {
    const need = this.options.auto_gateway_min_sources;
    let row = this.extRow.get(hi, lo);
    if (row < 0) {
      // Bounded: a flood of spoofed MACs from external addresses must not grow this without limit.
      if (this.extRowCount >= MAX_GATEWAY_CANDIDATES) {
        this.nGatewayCandidatesDropped++;
        return;
      }
      row = this.extRowCount++;
      this.extRow.set(hi, lo, row);
      if ((row + 1) * need > this.extKeys.length) {
        const grown = new Float64Array(Math.max(this.extKeys.length * 2, (row + 1) * need));
        grown.set(this.extKeys);
        this.extKeys = grown;
        const counts = new Uint16Array(grown.length / need + 1);
        counts.set(this.extCounts);
        this.extCounts = counts;
      }
    }
    const base = row * need;
    const n = this.extCounts[row]!;
    if (n >= need) return;
    for (let i = 0; i < n; i++) if (this.extKeys[base + i] === key) return;
    this.extKeys[base + n] = key;
    this.extCounts[row] = n + 1;
    if (n + 1 >= need) this.noteGateway(hi, lo);
  }

  /** Sets an ARP binding (IPv4 address as (hi8, lo24) → MAC). */
  private bind(hi: number, lo: number, mac: number): void {
    this.bindings.set(hi, lo, mac);
    this.resolveGen++;
  }

  private noteGateway(hi: number, lo: number): void {
    this.resolveGen++;
    if (this.gateways.has(hi, lo)) return;
    this.gateways.set(hi, lo, 0);
    this.nGateways++;
    const h = this.byMac.get(hi, lo);
    // A device created from this MAC before it was known as a gateway stays in the inventory (class network) but
    // no packet is attributed to it by MAC any more.
    if (h >= 0 && h !== GATEWAY) this.devices[h]!.gateway = true;
    this.byMac.set(hi, lo, GATEWAY);
  }

  /**
   * Whether a new device (its key: kind P_*, halves; `words` for IPv6) may get a handle now. A device created because
   * of evidence (`forceEvidence`) only needs room under `max_devices`; a candidate also needs room in the pool of
   * `max_unconfirmed_devices`, else it is counted in the candidate table (`pend*` keep its key for `learn`) and gets
   * a handle only once it has sent `candidate_track_packets`.
   */
  private admit(kind: number, hi: number, lo: number, words?: Uint32Array): boolean {
    if (this.devices.length >= this.options.max_devices) {
      this.nOverflow++;
      this.out.overflow = 1;
      return false;
    }
    if (!this.requireEvidence || this.forceEvidence !== '' || this.nUnconfirmed < this.options.max_unconfirmed_devices) return true;
    const ch = candidateHi(kind, hi, words);
    const cl = candidateLo(kind, hi, lo, words);
    const slot = this.candidates.note(ch, cl, this.now[0]!);
    if (this.candidates.count[slot]! >= this.options.candidate_track_packets) {
      this.nTracked++;
      return true; // the creation takes the table's entry over
    }
    this.nCandidatePackets++;
    this.out.overflow = 1;
    this.pendKind = kind;
    this.pendHi = hi;
    this.pendLo = lo;
    this.pendSlot = slot;
    if (words !== undefined) this.pend6.set(words);
    return false;
  }

  /**
   * A new device's evidence state: confirmed by the evidence being acted on, by the inventory file, or because evidence
   * is not required; else a candidate. Takes over the candidate-table entry of its key (first seen, packets sent).
   */
  private initEvidence(dv: Device, kind: number, hi: number, lo: number, words: Uint32Array | undefined): void {
    if (this.requireEvidence) {
      const slot = this.candidates.size > 0 ? this.candidates.find(candidateHi(kind, hi, words), candidateLo(kind, hi, lo, words)) : -1;
      if (slot >= 0) {
        if (this.candidates.first[slot]! < dv.first_seen) dv.first_seen = this.candidates.first[slot]!;
        dv.sent = this.candidates.count[slot]!;
        if ((this.candidates.flags[slot]! & CANDIDATE_DHCP) !== 0) dv.dhcpAt = this.candidates.last[slot]!;
        this.candidates.remove(slot);
      }
    }
    const ev: DeviceEvidence | '' = !this.requireEvidence ? 'first_packet' : this.forceEvidence !== '' ? this.forceEvidence : dv.override !== undefined ? 'inventory_file' : '';
    if (ev !== '') {
      dv.confirmed = true;
      dv.confirmed_by = ev;
      dv.confirmed_at = this.now[0]!;
      this.nConfirmed++;
    } else {
      this.nUnconfirmed++;
    }
  }

  /** Confirms a candidate device (it becomes an inventory entry). */
  private confirm(dv: Device, ev: DeviceEvidence): void {
    if (dv.confirmed) return;
    dv.confirmed = true;
    dv.confirmed_by = ev;
    dv.confirmed_at = this.now[0]!;
    this.nUnconfirmed--;
    this.nConfirmed++;
  }

  private createMacDevice(hi: number, lo: number): number {
    if (!this.admit(P_MAC, hi, lo)) return -1;
    this.resolveGen++;
    const mac = hi * 16777216 + lo;
    const ts = this.now[0]!;
    const dv = new Device(this.devices.length, `mac:${formatMac(mac)}`, 'mac', mac);
    dv.vendor = macVendor(mac);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
    this.initEvidence(dv, P_MAC, hi, lo, undefined);
    this.devices.push(dv);
    this.byMac.set(hi, lo, dv.handle);
    return dv.handle;
  }

  /** IPv6 devices are keyed by 2^32 + a 32-bit fold; the full address is compared. -1 when absent or a collision. */
  private ipDeviceLookup(words: Uint32Array): number {
    const fold = fold6(words);
    const h = this.byIp.get(256 + (fold >>> 24), fold & 0xffffff);
    if (h < 0) return -1;
    const w = this.ip6Words.get(h);
    if (w === undefined || w[0] !== words[0] || w[1] !== words[1] || w[2] !== words[2] || w[3] !== words[3]) return -1;
    return h;
  }

  private srcByIp6(words: Uint32Array): number {
    const h = this.ipDeviceLookup(words);
    if (h >= 0) return h;
    const fold = fold6(words);
    if (this.byIp.has(256 + (fold >>> 24), fold & 0xffffff)) return -1; // fold collision: not tracked
    return this.createIpDevice(-1, -1, words);
  }

  /** Creates an IP-keyed device: IPv4 as two 16-bit halves, or IPv6 `words`. */
  private createIpDevice(hi16: number, lo16: number, words?: Uint32Array): number {
    const kind = words === undefined ? P_IP4 : P_IP6;
    if (!this.admit(kind, hi16, lo16, words)) return -1;
    this.resolveGen++;
    const ts = this.now[0]!;
    const key = words === undefined ? hi16 * 65536 + lo16 : IP6_KEY_BASE + fold6(words);
    const text = words === undefined ? formatIpv4(key) : formatIpv6(words);
    const dv = new Device(this.devices.length, `ip:${text}`, 'ip', -1);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
    this.initEvidence(dv, kind, hi16, lo16, words);
    this.devices.push(dv);
    this.byIp.setKey(key, dv.handle);
    if (words !== undefined) this.ip6Words.set(dv.handle, Uint32Array.from(words));
    return dv.handle;
  }

  /** Slow path (the device's source IP changed): record the IP, most recent last, bounded. */
  private addIp(dv: Device, key: number, words: Uint32Array | undefined): void {
    dv.lastIpKey = key;
    this.resolveGen++;
    const keys = dv.ipKeys;
    const i = keys.indexOf(key);
    if (i >= 0) {
      // Move to the end (most recent), in place.
      const last = keys.length - 1;
      if (i !== last) {
        const w = dv.ipWords[i];
        for (let j = i; j < last; j++) {
          keys[j] = keys[j + 1]!;
          dv.ipWords[j] = dv.ipWords[j + 1];
        }
        keys[last] = key;
        dv.ipWords[last] = w;
      }
      return;
    }
    keys.push(key);
    dv.ipWords.push(words === undefined ? undefined : Uint32Array.from(words));
    if (keys.length > this.options.max_ips_per_device) {
      keys.shift();
      dv.ipWords.shift();
    }
    if (this.overrides.size > 0 && dv.override === undefined && dv.key_kind === 'mac') {
      dv.override = this.overrides.get(`ip:${words === undefined ? formatIpv4(key) : formatIpv6(words)}`);
      if (dv.override !== undefined && this.requireEvidence) this.confirm(dv, 'inventory_file');
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Evidence (see "Evidence"): slow paths, run at most a few times per flow.

  /**
   * Evidence carried by the packet (per packet, before the rest of `learn`): a handshake or an answer in its flow,
   * DHCP; then the sender's count toward `sustained` while it is unconfirmed.
   */
  private evidence(p: DecodedPacket, d: PacketDevices, flow: FlowUpdate): void {
    if (flow.handshake || flow.answered) this.flowEvidence(p, d, flow);
    if (p.app === AppProto.DHCP) this.dhcpEvidence(p, d);
    if (d.src >= 0) {
      const dv = this.devices[d.src]!;
      if (!dv.confirmed) this.unconfirmedSent(dv);
    } else if (this.pendKind !== P_NONE) {
      this.candidateSent(d);
    }
  }

  /** A handshake completed, or the responder's first answer: which sides it confirms. */
  private flowEvidence(p: DecodedPacket, d: PacketDevices, flow: FlowUpdate): void {
    if (flow.handshake) {
      this.confirmSrc(d, 'tcp_handshake');
      this.confirmDst(p, d, 'tcp_handshake');
      return;
    }
    if (p.proto === Proto.ARP) {
      // An ARP reply in the request's flow: the replier answered for its own address (not a claim of a bound one).
      // The requester is not confirmed: a real host answers any requester, spoofed ones included.
      if (p.arp_op === 2 && !d.arp_conflict) this.confirmSrc(d, 'arp_reply');
      return;
    }
    // A SYN-ACK proves nothing about the originator (a flood's victim answers every spoofed SYN): the handshake decides.
    if (p.proto === Proto.TCP && (p.tcp_flags & TcpFlag.SYN) !== 0) return;
    // UDP, ICMP, other IP, mid-stream TCP: the originator's packet was answered, and the responder answered it.
    this.confirmDst(p, d, 'answered');
    this.confirmSrc(d, 'answered');
  }

  /** Confirms the packet's sender, creating its device (from the pending key) when it has no handle. */
  private confirmSrc(d: PacketDevices, ev: DeviceEvidence): void {
    if (d.src >= 0) {
      this.confirm(this.devices[d.src]!, ev);
      return;
    }
    const kind = this.pendKind;
    if (kind === P_NONE) return;
    this.pendKind = P_NONE;
    this.pendSlot = -1;
    this.forceEvidence = ev;
    let h = -1;
    if (kind === P_MAC) h = this.createMacDevice(this.pendHi, this.pendLo);
    else if (kind === P_IP4) h = this.createIpDevice(this.pendHi, this.pendLo);
    else {
      const fold = fold6(this.pend6);
      if (!this.byIp.has(256 + (fold >>> 24), fold & 0xffffff)) h = this.createIpDevice(-1, -1, this.pend6);
    }
    this.forceEvidence = '';
    if (h >= 0) {
      this.nCandidatePackets--; // attributed after all
      d.overflow = 0;
      d.src = h;
    }
  }

  /**
   * Confirms the packet's destination. One without a handle gets one only if it waits in the candidate table (it has
   * sent: devices are created only by packets they send), keyed as `resolve` keys a sender — by its MAC in a `key: mac`
   * subnet when the frame is addressed to a usable MAC, else by its IP. External, group and broadcast destinations are
   * no devices.
   */
  private confirmDst(p: DecodedPacket, d: PacketDevices, ev: DeviceEvidence): void {
    if (d.dst >= 0) {
      this.confirm(this.devices[d.dst]!, ev);
      return;
    }
    if (!d.dst_internal || this.candidates.size === 0) return;
    const eDst = p.eth_dst;
    const th = eDst >= 0 ? (eDst / 16777216) | 0 : -1;
    const tl = eDst >= 0 ? eDst - th * 16777216 : -1;
    const macUsable = th >= 0 && ((th >>> 16) & 1) === 0 && this.byMac.get(th, tl) === -1;
    let kind = P_NONE;
    let hi = 0;
    let lo = 0;
    let words: Uint32Array | undefined;
    if (p.ip_version === 4) {
      const t = p.ip_dst >>> 0;
      if (t === 0xffffffff || t >>> 28 === 14) return;
      if (this.kind4(t >>> 16, t & 0xffff) === KEY_MAC && macUsable) {
        kind = P_MAC;
        hi = th;
        lo = tl;
      } else if (this.byIp.get(t >>> 24, t & 0xffffff) < 0) {
        kind = P_IP4;
        hi = t >>> 16;
        lo = t & 0xffff;
      }
    } else if (p.ip_version === 6 && p.ip6_dst[0]! >>> 24 !== 0xff) {
      const fold = fold6(p.ip6_dst);
      if (this.kind6(p.ip6_dst) === KEY_MAC && macUsable) {
        kind = P_MAC;
        hi = th;
        lo = tl;
      } else if (!this.byIp.has(256 + (fold >>> 24), fold & 0xffffff)) {
        kind = P_IP6;
        hi = -1;
        lo = -1;
        words = p.ip6_dst;
      }
    }
    if (kind === P_NONE || this.candidates.find(candidateHi(kind, hi, words), candidateLo(kind, hi, lo, words)) < 0) return;
    this.forceEvidence = ev;
    const h = kind === P_MAC ? this.createMacDevice(hi, lo) : this.createIpDevice(hi, lo, words);
    this.forceEvidence = '';
    if (h >= 0) d.dst = h;
  }

  /**
   * DHCP: a client's DISCOVER/REQUEST is remembered; the server's DHCPACK unicast to that client's MAC within
   * DHCP_ANSWER_S confirms the client (creating it if it waits in the candidate table) and the server. A broadcast
   * ACK names its client only inside the message (chaddr, not decoded): it confirms no one.
   */
  private dhcpEvidence(p: DecodedPacket, d: PacketDevices): void {
    const type = p.app_meta?.dhcp_msg_type;
    if (type === undefined) return;
    const ts = this.now[0]!;
    if ((type === 1 || type === 3) && p.src_port === 68) {
      if (d.src >= 0) this.devices[d.src]!.dhcpAt = ts;
      else if (this.pendKind !== P_NONE) this.candidates.flags[this.pendSlot]! |= CANDIDATE_DHCP;
      return;
    }
    if (type !== 5 || p.src_port !== 67 || p.eth_dst < 0) return;
    const th = (p.eth_dst / 16777216) | 0;
    const tl = p.eth_dst - th * 16777216;
    if (((th >>> 16) & 1) !== 0) return;
    const h = this.byMac.get(th, tl);
    if (h === GATEWAY) return;
    if (h >= 0) {
      const client = this.devices[h]!;
      if (ts - client.dhcpAt > DHCP_ANSWER_S) return;
      this.confirm(client, 'dhcp_lease');
    } else {
      const slot = this.candidates.find(th, tl);
      if (slot < 0 || (this.candidates.flags[slot]! & CANDIDATE_DHCP) === 0 || ts - this.candidates.last[slot]! > DHCP_ANSWER_S) return;
      this.forceEvidence = 'dhcp_lease';
      const c = this.createMacDevice(th, tl);
      this.forceEvidence = '';
      if (c >= 0 && d.dst < 0) d.dst = c;
    }
    this.confirmSrc(d, 'dhcp_lease');
  }

  /** A packet from an unconfirmed device: `sustained` once it has sent long enough. */
  private unconfirmedSent(dv: Device): void {
    dv.sent++;
    const ms = this.options.confirm_sustained_ms;
    if (ms > 0 && dv.sent >= this.options.confirm_sustained_packets && (this.now[0]! - dv.first_seen) * 1000 >= ms) this.confirm(dv, 'sustained');
  }

  /** A packet from a candidate without a handle (counted by `admit`): `sustained` once it has sent long enough. */
  private candidateSent(d: PacketDevices): void {
    const slot = this.pendSlot;
    const ms = this.options.confirm_sustained_ms;
    if (ms <= 0 || this.candidates.count[slot]! < this.options.confirm_sustained_packets) return;
    if ((this.now[0]! - this.candidates.first[slot]!) * 1000 >= ms) this.confirmSrc(d, 'sustained');
  }

  private addPeer(dv: Device, p: DecodedPacket, incoming: boolean): void {
    let hi: number;
    let lo: number;
    if (p.ip_version === 4) {
      const ip = (incoming ? p.ip_src : p.ip_dst) >>> 0;
      hi = ip >>> 24;
      lo = ip & 0xffffff;
    } else {
      const fold = fold6(incoming ? p.ip6_src : p.ip6_dst);
      hi = 256 + (fold >>> 24);
      lo = fold & 0xffffff;
    }
    const key = hi * 16777216 + lo;
    const r = dv.handle * RECENT_PEERS;
    if (r + RECENT_PEERS > this.recentPeers.length) {
      const grown = new Float64Array(Math.max(this.recentPeers.length * 2, r + RECENT_PEERS)).fill(-1);
      grown.set(this.recentPeers);
      this.recentPeers = grown;
    }
    const rp = this.recentPeers;
    if (rp[r] === key || rp[r + 1] === key || rp[r + 2] === key || rp[r + 3] === key) return;
    rp[r + 3] = rp[r + 2]!;
    rp[r + 2] = rp[r + 1]!;
    rp[r + 1] = rp[r]!;
    rp[r] = key;
    if (dv.peerKeys.length >= this.options.max_peers_per_device) {
      if (!this.peerSet.has(dv.handle, hi, lo)) dv.peers_overflow = true;
      return;
    }
    if (!this.peerSet.add(dv.handle, hi, lo)) return;
    if (p.ip_version === 6) (dv.peer6 ??= new Map()).set(dv.peerKeys.length, Uint32Array.from(incoming ? p.ip6_src : p.ip6_dst));
    dv.peerKeys.push(key);
  }
}

/** 32-bit XOR fold of an IPv6 address (inventory map key; the full address is verified on lookup). */
function fold6(w: Uint32Array): number {
  return (w[0]! ^ w[1]! ^ w[2]! ^ w[3]!) >>> 0;
}

/**
 * Candidate-table key of a would-be device: a MAC as its 24-bit halves; an IPv4 address (given as 16-bit halves) as
 * 2^24 + its top 8 bits and its low 24 bits; IPv6 as 2^25 + the top 8 bits of its fold and the fold's low 24 bits.
 */
function candidateHi(kind: number, hi: number, words: Uint32Array | undefined): number {
  if (kind === P_MAC) return hi;
  if (kind === P_IP4) return 0x1000000 + (hi >>> 8);
  return 0x2000000 + (fold6(words!) >>> 24);
}

function candidateLo(kind: number, hi: number, lo: number, words: Uint32Array | undefined): number {
  if (kind === P_MAC) return lo;
  if (kind === P_IP4) return ((hi & 0xff) << 16) | lo;
  return fold6(words!) & 0xffffff;
}

function numberKeys(m: NumberMap): number[] {
  const out: number[] = [];
  m.forEach((_, k) => out.push(k));
  return out;
}

function numberEntries(m: NumberMap): [number, number][] {
  const out: [number, number][] = [];
  m.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => a[0] - b[0]);
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Numeric key of an IP text as the inventory uses it (IPv4 value, or 2^32 + the 32-bit XOR fold of IPv6). */
function ipKeyOf(text: string): { key: number; words: Uint32Array | undefined } | undefined {
  const v4 = parseIpv4(text);
  if (v4 >= 0) return { key: v4, words: undefined };
  const w = parseIpv6(text);
  if (w === undefined) return undefined;
  return { key: IP6_KEY_BASE + fold6(w), words: w };
}

/** Saved files of schema version 1 (no evidence fields) and 2 (no `app_identity`) still load. */
const SavedVersionSchema = z.union([z.literal(1), z.literal(2), z.literal(DEVICE_SCHEMA_VERSION)]);

const IdentityText = z.string().max(256);
const droppedShape = Object.fromEntries(Object.keys(APP_IDENTITY_LIMITS).map((k) => [k, z.number().int().min(0).optional()])) as Record<AppIdentityList, z.ZodOptional<z.ZodNumber>>;

/** A saved `AppIdentity`: lists as written (the caps are applied again on restore). */
const SavedAppIdentitySchema = z
  .object({
    hl7_sending_applications: z.array(IdentityText),
    hl7_sending_facilities: z.array(IdentityText),
    hl7_receiving_applications: z.array(IdentityText),
    hl7_receiving_facilities: z.array(IdentityText),
    hl7_message_types: z.array(z.object({ type: IdentityText, count: z.number().int().min(0) }).strict()),
    hl7_versions: z.array(IdentityText),
    hl7_equipment_ids: z.array(z.object({ id: IdentityText, field: z.enum(['OBX-18', 'PRT-10', 'PRT-16']) }).strict()),
    dicom_ae_titles: z.array(IdentityText),
    dicom_peer_ae_titles: z.array(IdentityText),
    dicom_roles: z.array(z.enum(['SCU', 'SCP'])),
    dicom_implementation_class_uids: z.array(IdentityText),
    dicom_implementation_versions: z.array(IdentityText),
    dicom_sop_classes: z.array(z.object({ uid: IdentityText, name: z.string() }).strict()),
    mqtt_client_ids: z.array(IdentityText),
    dhcp_parameter_lists: z.array(IdentityText),
    dropped: z.object(droppedShape).strict(),
  })
  .strict();

const SavedEntrySchema = z.object({
  schema_version: SavedVersionSchema,
  device_id: z.string().regex(/^(mac|ip):/),
  key_kind: z.enum(['mac', 'ip']),
  mac: z.string(),
  ips: z.array(z.string()),
  vendor: z.string(),
  dhcp_hostname: z.string(),
  dhcp_vendor_class: z.string(),
  first_seen: z.number(),
  last_seen: z.number(),
  protocols: z.array(z.string()),
  peers: z.array(z.string()),
  peers_overflow: z.boolean(),
  listening_ports: z.array(z.number().int().min(0).max(65535)),
  device_class: z.enum(DEVICE_CLASSES as [DeviceClass, ...DeviceClass[]]),
  class_source: z.enum(['inventory', 'guess']),
  class_confidence: z.number(),
  class_evidence: z.string().optional(),
  name: z.string(),
  location: z.string(),
  criticality: z.enum(['low', 'medium', 'high', 'life_critical']),
  learning: z.boolean(),
  confirmed_by: z.enum(DEVICE_EVIDENCE as [DeviceEvidence, ...DeviceEvidence[]]).optional(),
  confirmed_at: z.number().optional(),
  app_identity: SavedAppIdentitySchema.optional(),
  feature_history: z
    .object({
      peer_keys: z.array(z.number().int().min(0).max(2 * 0x100000000 - 1)),
      dst_ports: z.array(z.number().int().min(0).max(65535)),
    })
    .strict()
    .optional(),
});

const SavedInventorySchema = z.object({
  schema_version: SavedVersionSchema,
  gateway_macs: z.array(z.string()),
  arp_bindings: z.array(z.tuple([z.string(), z.string()])),
  devices: z.array(SavedEntrySchema),
});

interface SavedInventory {
  schema_version: typeof DEVICE_SCHEMA_VERSION;
  gateway_macs: string[];
  arp_bindings: [string, string][];
  devices: (InventoryEntry & { feature_history?: SavedFeatureHistory })[];
}
