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
 * Learning (`learn`, after the flow table): first/last seen (packet time, as sender), IPs (≤ 8, most recent last),
 * vendor from the OUI registry (on creation), DHCP host name and vendor class, protocols (by content, and by the
 * responder's well-known port when a flow starts), peers (≤ 256), ports it answered on (≤ 64). Classes are guessed
 * when entries are read (`device-class.ts`); the inventory file overrides them.
 *
 * ARP bindings: the first MAC seen claiming an IPv4 address (by ARP, or as the source of IP traffic in a MAC-keyed
 * subnet, gateways included) owns it. An ARP packet from another MAC claiming it is a conflict
 * (`PacketDevices.arp_conflict`), unless the owner is a device silent for `arp_binding_timeout_ms`, when the binding
 * moves. A gateway's binding never moves silently. An ARP reply claiming a still unbound address is also a conflict
 * when its sender is a device known to use another address (the spoofed owner has not spoken yet). ARP senders'
 * addresses are learned as device IPs only when they are not in conflict.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { Counters } from '../metrics.js';
import type { DeviceDirectory, InventoryEntry, PacketDevices } from '../records/device.js';
import { DEVICE_CLASSES, DEVICE_SCHEMA_VERSION } from '../records/device.js';
import type { DeviceClass } from '../records/device.js';
import type { FlowUpdate } from '../records/flow.js';
import type { DecodedPacket } from '../records/packet.js';
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
/** A device's identity as the detector reads it (see `DeviceInventory.identity`). */
export type DeviceIdentitySnapshot = Pick<InventoryEntry, 'device_class' | 'criticality' | 'name' | 'vendor' | 'first_seen'>;

export interface SavedFeatureHistory {
  peer_keys: number[];
  dst_ports: number[];
}

export type InventoryCounter = 'devices_created' | 'devices_overflow' | 'arp_conflicts' | 'gateways_detected';

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
  /** Auto-gateway evidence: MAC → row of distinct external source keys (`extKeys`, `extCounts`). */
  private readonly extRow = new NumberMap(64);
  private extRowCount = 0;
  private extKeys = new Float64Array(0);
  private extCounts = new Uint16Array(0);
  /** [0] current packet time (seconds): kept in a typed array so it is never boxed. */
  private readonly now = new Float64Array(1);
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

  constructor(options: Partial<DeviceIdentityOptions> = {}, inventoryFile: readonly InventoryFileEntry[] = []) {
    this.options = parseOptions(DeviceIdentityOptionsSchema, options, 'devices');
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
  }

  get size(): number {
    return this.devices.length;
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

  /** Learns from the packet once the flow table has seen it. */
  learn(p: DecodedPacket, d: PacketDevices, flow: FlowUpdate): void {
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
  }

  /** The inventory entry of one device (class guessed unless the inventory file gives it). */
  entry(handle: number): InventoryEntry | undefined {
    const dv = this.devices[handle];
    if (dv === undefined) return undefined;
    const listening = [...dv.listening].sort((a, b) => a - b);
    const protocols = PROTOCOL_NAMES.filter((_, i) => (dv.protocols & (1 << i)) !== 0);
    const o = dv.override;
    let device_class: DeviceClass;
    let class_source: 'inventory' | 'guess';
    let class_confidence: number;
    if (o?.device_class !== undefined) {
      device_class = o.device_class;
      class_source = 'inventory';
      class_confidence = 1;
    } else {
      const g = guessDeviceClass({ vendor: dv.vendor, protocols: dv.protocols, listening_ports: listening, gateway: dv.gateway });
      device_class = g.device_class;
      class_source = 'guess';
      class_confidence = g.confidence;
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
      name: o?.name ?? '',
      location: o?.location ?? '',
      criticality: o?.criticality ?? 'medium',
      learning: dv.learning,
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
    const device_class =
      o?.device_class ??
      guessDeviceClass({ vendor: dv.vendor, protocols: dv.protocols, listening_ports: [...dv.listening].sort((a, b) => a - b), gateway: dv.gateway }).device_class;
    return { device_class, criticality: o?.criticality ?? 'medium', name: o?.name || dv.dhcp_hostname, vendor: dv.vendor, first_seen: round6(dv.first_seen) };
  }

  /** All entries, in device creation order. */
  entries(): InventoryEntry[] {
    const out: InventoryEntry[] = [];
    for (let i = 0; i < this.devices.length; i++) out.push(this.entry(i)!);
    return out;
  }

  /**
   * Writes the inventory as JSON (atomically: temp file + rename). `featureHistory` (by handle, from the feature
   * stage) is saved in each device's entry as `feature_history`.
   */
  save(path: string, featureHistory?: ReadonlyMap<number, SavedFeatureHistory>): void {
    const doc: SavedInventory = {
      schema_version: DEVICE_SCHEMA_VERSION,
      gateway_macs: numberKeys(this.gateways).map(formatMac).sort(),
      arp_bindings: numberEntries(this.bindings).map(([ip, mac]) => [formatIpv4(ip), formatMac(mac)] as [string, string]),
      devices: this.entries().map((e, h) => {
        const fh = featureHistory?.get(h);
        return fh === undefined ? e : { ...e, feature_history: { peer_keys: fh.peer_keys, dst_ports: fh.dst_ports } };
      }),
    };
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
    renameSync(tmp, path);
  }

  /** Restores an inventory saved by `save`. Options and the inventory file are the current ones (not saved). */
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
        // has sent within the binding timeout.
        const oh = this.byMac.getKey(owner);
        const ownerLast = oh === GATEWAY ? Infinity : oh >= 0 ? this.devices[oh]!.last_seen : -Infinity;
        if ((ts - ownerLast) * 1000 >= this.options.arp_binding_timeout_ms) this.bind(spa >>> 24, spa & 0xffffff, sha);
        else {
          d.arp_conflict = true;
          this.nConflicts++;
        }
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

  private admit(): boolean {
    if (this.devices.length < this.options.max_devices) return true;
    this.nOverflow++;
    this.out.overflow = 1;
    return false;
  }

  private createMacDevice(hi: number, lo: number): number {
    if (!this.admit()) return -1;
    this.resolveGen++;
    const mac = hi * 16777216 + lo;
    const ts = this.now[0]!;
    const dv = new Device(this.devices.length, `mac:${formatMac(mac)}`, 'mac', mac);
    dv.vendor = macVendor(mac);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
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
    if (!this.admit()) return -1;
    this.resolveGen++;
    const ts = this.now[0]!;
    const key = words === undefined ? hi16 * 65536 + lo16 : IP6_KEY_BASE + fold6(words);
    const text = words === undefined ? formatIpv4(key) : formatIpv6(words);
    const dv = new Device(this.devices.length, `ip:${text}`, 'ip', -1);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
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
    if (this.overrides.size > 0 && dv.override === undefined && dv.key_kind === 'mac')
      dv.override = this.overrides.get(`ip:${words === undefined ? formatIpv4(key) : formatIpv6(words)}`);
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

const SavedEntrySchema = z.object({
  schema_version: z.literal(DEVICE_SCHEMA_VERSION),
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
  name: z.string(),
  location: z.string(),
  criticality: z.enum(['low', 'medium', 'high', 'life_critical']),
  learning: z.boolean(),
  feature_history: z
    .object({
      peer_keys: z.array(z.number().int().min(0).max(2 * 0x100000000 - 1)),
      dst_ports: z.array(z.number().int().min(0).max(65535)),
    })
    .strict()
    .optional(),
});

const SavedInventorySchema = z.object({
  schema_version: z.literal(DEVICE_SCHEMA_VERSION),
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
