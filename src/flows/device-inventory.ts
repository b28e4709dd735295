/**
 * Device identity and inventory.
 *
 * Keying rules (per packet side, `resolve`):
 *  - An address outside every configured internal subnet is an external peer, never a device. If auto_gateway is on,
 *    the MAC that sent a packet from an external address is a gateway.
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
 * subnet) owns it. An ARP packet from another MAC claiming it is a conflict (`PacketDevices.arp_conflict`), unless
 * the owner has been silent for `arp_binding_timeout_ms`, when the binding moves.
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
import { isGroupMac, maskWord, parseCidr, parseIpv4, parseIpv6 } from './address.js';
import type { DeviceIdentityOptions } from './config.js';
import { DeviceIdentityOptionsSchema, parseOptions } from './config.js';
import type { ProtocolName } from './device-class.js';
import { PORT_PROTOCOL, PROTOCOL_NAMES, guessDeviceClass } from './device-class.js';
import type { InventoryFileEntry } from './inventory-file.js';
import { macVendor } from './oui.js';

const EXTERNAL = 0;
const KEY_MAC = 1;
const KEY_IP = 2;
const IP6_KEY_BASE = 0x100000000;

/** AppProto code → protocol bit. */
const APP_BITS: readonly number[] = [0, 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5];

class Device {
  ips: string[] = [];
  ipKeys: number[] = [];
  lastIpKey = -1;
  vendor = '';
  dhcp_hostname = '';
  dhcp_vendor_class = '';
  first_seen = 0;
  last_seen = 0;
  protocols = 0;
  readonly peers = new Map<number, string>();
  peers_overflow = false;
  readonly listening = new Set<number>();
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
}

export type InventoryCounter = 'devices_created' | 'devices_overflow' | 'arp_conflicts' | 'gateways_detected';

export class DeviceInventory implements DeviceDirectory {
  readonly options: DeviceIdentityOptions;
  private readonly subnets4: Subnet[];
  private readonly subnets6: Subnet[];
  private readonly gateways = new Set<number>();
  private readonly devices: Device[] = [];
  private readonly byMac = new Map<number, number>();
  private readonly byIp = new Map<number, number>();
  private readonly ip6Words = new Map<number, Uint32Array>();
  private readonly bindings = new Map<number, number>();
  private readonly overrides = new Map<string, InventoryFileEntry>();
  private readonly out: PacketDevices = {
    src: -1,
    dst: -1,
    src_internal: false,
    dst_internal: false,
    arp_conflict: false,
    overflow: 0,
  };
  private nOverflow = 0;
  private nConflicts = 0;
  private nGateways = 0;

  constructor(options: Partial<DeviceIdentityOptions> = {}, inventoryFile: readonly InventoryFileEntry[] = []) {
    this.options = parseOptions(DeviceIdentityOptionsSchema, options, 'devices');
    const subnets = this.options.subnets.map((s) => ({ cidr: parseCidr(s.cidr)!, kind: s.key === 'mac' ? KEY_MAC : KEY_IP }));
    subnets.sort((a, b) => b.cidr.prefix - a.cidr.prefix);
    this.subnets4 = subnets.filter((s) => s.cidr.version === 4);
    this.subnets6 = subnets.filter((s) => s.cidr.version === 6);
    for (const g of this.options.gateway_macs) this.gateways.add(parseMac(g));
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
    return this.gateways.has(mac);
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
    const d = this.out;
    d.src = -1;
    d.dst = -1;
    d.src_internal = false;
    d.dst_internal = false;
    d.arp_conflict = false;
    d.overflow = 0;
    const ts = p.ts_sec + p.ts_nsec * 1e-9;
    if (p.proto === Proto.ARP) {
      this.resolveArp(p, ts, d);
      return d;
    }
    if (p.ip_version === 4) {
      const s = p.ip_src >>> 0;
      const sk = this.kind4(s);
      d.src_internal = sk !== EXTERNAL;
      if (sk === EXTERNAL) {
        if (s === 0) d.src = this.macDevice(p.eth_src, ts, true);
        else if (this.options.auto_gateway) this.noteGateway(p.eth_src);
      } else if (sk === KEY_MAC && p.eth_src >= 0 && !this.gateways.has(p.eth_src) && !isGroupMac(p.eth_src)) {
        d.src = this.macDevice(p.eth_src, ts, true);
        if (!this.bindings.has(s)) this.bindings.set(s, p.eth_src);
      } else {
        d.src = this.ipDevice(s, undefined, ts, true);
      }
      const t = p.ip_dst >>> 0;
      const tk = this.kind4(t);
      d.dst_internal = tk !== EXTERNAL;
      if (tk !== EXTERNAL && t !== 0xffffffff && t >>> 28 !== 14) {
        if (tk === KEY_MAC && p.eth_dst >= 0 && !this.gateways.has(p.eth_dst) && !isGroupMac(p.eth_dst)) {
          d.dst = this.byMac.get(p.eth_dst) ?? this.byIp.get(t) ?? -1;
        } else {
          d.dst = this.byIp.get(t) ?? -1;
        }
      }
    } else if (p.ip_version === 6) {
      const sk = this.kind6(p.ip6_src);
      d.src_internal = sk !== EXTERNAL;
      const unspecified = p.ip6_src[0] === 0 && p.ip6_src[1] === 0 && p.ip6_src[2] === 0 && p.ip6_src[3] === 0;
      if (sk === EXTERNAL) {
        if (unspecified) d.src = this.macDevice(p.eth_src, ts, true);
        else if (this.options.auto_gateway) this.noteGateway(p.eth_src);
      } else if (sk === KEY_MAC && p.eth_src >= 0 && !this.gateways.has(p.eth_src) && !isGroupMac(p.eth_src)) {
        d.src = this.macDevice(p.eth_src, ts, true);
      } else {
        d.src = this.ipDevice(IP6_KEY_BASE + fold6(p.ip6_src), p.ip6_src, ts, true);
      }
      const tk = this.kind6(p.ip6_dst);
      d.dst_internal = tk !== EXTERNAL;
      if (tk !== EXTERNAL && p.ip6_dst[0]! >>> 24 !== 0xff) {
        if (tk === KEY_MAC && p.eth_dst >= 0 && !this.gateways.has(p.eth_dst) && !isGroupMac(p.eth_dst)) {
          d.dst = this.byMac.get(p.eth_dst) ?? -1;
        } else {
          d.dst = this.ipDeviceLookup(IP6_KEY_BASE + fold6(p.ip6_dst), p.ip6_dst);
        }
      }
    } else if (p.eth_src >= 0) {
      // Other L2 traffic: attributed to known MAC devices, creates none.
      d.src = this.gateways.has(p.eth_src) ? -1 : (this.byMac.get(p.eth_src) ?? -1);
      d.dst = p.eth_dst >= 0 && !isGroupMac(p.eth_dst) ? (this.byMac.get(p.eth_dst) ?? -1) : -1;
      d.src_internal = d.src >= 0;
      d.dst_internal = d.dst >= 0;
    }
    return d;
  }

  /** Learns from the packet once the flow table has seen it. */
  learn(p: DecodedPacket, d: PacketDevices, flow: FlowUpdate): void {
    const appBit = APP_BITS[p.app] ?? 0;
    let portBit = 0;
    if (flow.started && (p.proto === Proto.TCP || p.proto === Proto.UDP)) {
      const pp = PORT_PROTOCOL[flow.from_orig ? p.dst_port : p.src_port] ?? 0;
      if (pp > 0) portBit = 1 << (pp - 1);
    }
    if (d.src >= 0) {
      const dv = this.devices[d.src]!;
      const ts = p.ts_sec + p.ts_nsec * 1e-9;
      if (ts > dv.last_seen) dv.last_seen = ts;
      dv.protocols |= appBit | portBit;
      if (p.ip_version === 4 && p.ip_src !== 0) {
        if (p.ip_src >>> 0 !== dv.lastIpKey) this.addIp(dv, p.ip_src >>> 0, undefined);
      } else if (p.ip_version === 6 && IP6_KEY_BASE + fold6(p.ip6_src) !== dv.lastIpKey) {
        const unspecified = p.ip6_src[0] === 0 && p.ip6_src[1] === 0 && p.ip6_src[2] === 0 && p.ip6_src[3] === 0;
        if (!unspecified) this.addIp(dv, IP6_KEY_BASE + fold6(p.ip6_src), p.ip6_src);
      }
      if (p.ip_version !== 0) this.addPeer(dv, p, false);
      if (flow.flow >= 0 && !flow.from_orig && p.src_port >= 0) {
        const answered = p.proto === Proto.UDP || (p.proto === Proto.TCP && (p.tcp_flags & TcpFlag.RST) === 0);
        if (answered && !dv.listening.has(p.src_port) && dv.listening.size < this.options.max_listening_ports_per_device)
          dv.listening.add(p.src_port);
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
      ips: [...dv.ips],
      vendor: dv.vendor,
      dhcp_hostname: dv.dhcp_hostname,
      dhcp_vendor_class: dv.dhcp_vendor_class,
      first_seen: round6(dv.first_seen),
      last_seen: round6(dv.last_seen),
      protocols,
      peers: [...dv.peers.values()],
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

  /** All entries, in device creation order. */
  entries(): InventoryEntry[] {
    const out: InventoryEntry[] = [];
    for (let i = 0; i < this.devices.length; i++) out.push(this.entry(i)!);
    return out;
  }

  /** Writes the inventory as JSON (atomically: temp file + rename). */
  save(path: string): void {
    const doc: SavedInventory = {
      schema_version: DEVICE_SCHEMA_VERSION,
      gateway_macs: [...this.gateways].map(formatMac).sort(),
      arp_bindings: [...this.bindings].map(([ip, mac]) => [formatIpv4(ip), formatMac(mac)] as [string, string]),
      devices: this.entries(),
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
    for (const g of r.data.gateway_macs) inv.gateways.add(parseMac(g));
    for (const [ip, mac] of r.data.arp_bindings) inv.bindings.set(parseIpv4(ip), parseMac(mac));
    for (const e of r.data.devices) inv.restore(e);
    return inv;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private restore(e: z.infer<typeof SavedEntrySchema>): void {
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
        dv.ips.push(ip);
        dv.ipKeys.push(key.key);
      }
    }
    for (const peer of e.peers) {
      const key = ipKeyOf(peer);
      if (key !== undefined) dv.peers.set(key.key, peer);
    }
    dv.peers_overflow = e.peers_overflow;
    for (const port of e.listening_ports) dv.listening.add(port);
    if (mac >= 0) dv.gateway = this.gateways.has(mac);
    dv.override = this.overrides.get(dv.device_id);
    this.devices.push(dv);
    if (e.key_kind === 'mac') this.byMac.set(mac, dv.handle);
    else {
      const key = ipKeyOf(e.device_id.slice(3));
      if (key !== undefined) {
        this.byIp.set(key.key, dv.handle);
        if (key.words) this.ip6Words.set(key.key, key.words);
      }
    }
  }

  private resolveArp(p: DecodedPacket, ts: number, d: PacketDevices): void {
    const sha = p.arp_sha >= 0 ? p.arp_sha : p.eth_src;
    const spa = p.arp_spa >>> 0;
    const sk = spa !== 0 ? this.kind4(spa) : KEY_MAC;
    d.src_internal = sk !== EXTERNAL;
    if (sha >= 0 && !this.gateways.has(sha) && !isGroupMac(sha)) {
      d.src = sk === KEY_IP ? this.ipDevice(spa, undefined, ts, true) : this.macDevice(sha, ts, true);
    }
    if (spa !== 0 && sha >= 0 && sk !== KEY_IP) {
      const owner = this.bindings.get(spa);
      if (owner === undefined) this.bindings.set(spa, sha);
      else if (owner !== sha) {
        const oh = this.byMac.get(owner);
        const ownerLast = oh !== undefined ? this.devices[oh]!.last_seen : -Infinity;
        if ((ts - ownerLast) * 1000 >= this.options.arp_binding_timeout_ms) this.bindings.set(spa, sha);
        else {
          d.arp_conflict = true;
          this.nConflicts++;
        }
      }
    }
    const tpa = p.arp_tpa >>> 0;
    d.dst_internal = this.kind4(tpa) !== EXTERNAL;
    if (p.eth_dst >= 0 && !isGroupMac(p.eth_dst)) d.dst = this.byMac.get(p.eth_dst) ?? -1;
  }

  private kind4(ip: number): number {
    const subs = this.subnets4;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (((ip & maskWord(s.cidr.prefix)) >>> 0) === s.cidr.words[0]) return s.kind;
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

  private noteGateway(mac: number): void {
    if (mac < 0 || isGroupMac(mac) || this.gateways.has(mac)) return;
    this.gateways.add(mac);
    this.nGateways++;
    const h = this.byMac.get(mac);
    if (h !== undefined) this.devices[h]!.gateway = true;
  }

  private admit(): boolean {
    if (this.devices.length < this.options.max_devices) return true;
    this.nOverflow++;
    this.out.overflow = 1;
    return false;
  }

  private macDevice(mac: number, ts: number, create: boolean): number {
    if (mac < 0 || isGroupMac(mac)) return -1;
    const h = this.byMac.get(mac);
    if (h !== undefined) return h;
    if (!create || !this.admit()) return -1;
    const dv = new Device(this.devices.length, `mac:${formatMac(mac)}`, 'mac', mac);
    dv.vendor = macVendor(mac);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
    this.devices.push(dv);
    this.byMac.set(mac, dv.handle);
    return dv.handle;
  }

  private ipDeviceLookup(key: number, words: Uint32Array | undefined): number {
    const h = this.byIp.get(key);
    if (h === undefined) return -1;
    if (words !== undefined) {
      const w = this.ip6Words.get(key);
      if (w === undefined || w[0] !== words[0] || w[1] !== words[1] || w[2] !== words[2] || w[3] !== words[3]) return -1;
    }
    return h;
  }

  private ipDevice(key: number, words: Uint32Array | undefined, ts: number, create: boolean): number {
    const h = this.byIp.get(key);
    if (h !== undefined) return words === undefined ? h : this.ipDeviceLookup(key, words);
    if (!create || !this.admit()) return -1;
    const text = words === undefined ? formatIpv4(key) : formatIpv6(words);
    const dv = new Device(this.devices.length, `ip:${text}`, 'ip', -1);
    dv.first_seen = ts;
    dv.last_seen = ts;
    dv.override = this.overrides.get(dv.device_id);
    this.devices.push(dv);
    this.byIp.set(key, dv.handle);
    if (words !== undefined) this.ip6Words.set(key, Uint32Array.from(words));
    return dv.handle;
  }

  /** Slow path (the device's source IP changed): record the IP, most recent last, bounded. */
  private addIp(dv: Device, key: number, words: Uint32Array | undefined): void {
    dv.lastIpKey = key;
    const i = dv.ipKeys.indexOf(key);
    if (i >= 0) {
      if (i !== dv.ipKeys.length - 1) {
        dv.ipKeys.push(dv.ipKeys.splice(i, 1)[0]!);
        dv.ips.push(dv.ips.splice(i, 1)[0]!);
      }
      return;
    }
    const text = words === undefined ? formatIpv4(key) : formatIpv6(words);
    dv.ipKeys.push(key);
    dv.ips.push(text);
    if (dv.ips.length > this.options.max_ips_per_device) {
      dv.ipKeys.shift();
      dv.ips.shift();
    }
    if (dv.override === undefined && dv.key_kind === 'mac') dv.override = this.overrides.get(`ip:${text}`);
  }

  private addPeer(dv: Device, p: DecodedPacket, incoming: boolean): void {
    const key =
      p.ip_version === 4 ? (incoming ? p.ip_src : p.ip_dst) >>> 0 : IP6_KEY_BASE + fold6(incoming ? p.ip6_src : p.ip6_dst);
    if (dv.peers.has(key)) return;
    if (dv.peers.size >= this.options.max_peers_per_device) {
      dv.peers_overflow = true;
      return;
    }
    const text = p.ip_version === 4 ? formatIpv4(key) : formatIpv6(incoming ? p.ip6_src : p.ip6_dst);
    dv.peers.set(key, text);
  }
}

/** 32-bit XOR fold of an IPv6 address (inventory map key; the full address is verified on lookup). */
function fold6(w: Uint32Array): number {
  return (w[0]! ^ w[1]! ^ w[2]! ^ w[3]!) >>> 0;
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
  devices: InventoryEntry[];
}
