/**
 * The simulated hospital network: one mirrored clinical L2 segment (10.20.0.0/16, optionally 802.1Q-tagged) behind
 * a Cisco router, the hospital's servers, the device archetypes' vendor catalogue, and the shared services every
 * host uses (ARP resolution, DHCP, DNS, NTP) with per-host caches.
 *
 * External hosts live in the documentation ranges 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737); their frames carry
 * the router's MAC. Internal names are under `sim-hospital.example` (RFC 2606).
 */
import type { DeviceClass } from '../records/device.js';
import type { Engine } from './engine.js';
import { arpFrame, BROADCAST_MAC, macText, parseIpv4, udpFrame, ZERO_MAC, type Station } from './frames.js';
import type { Archetype, LabelArchetype, LabelDevice } from './labels.js';
import { formatIpv4 } from '../records/packet.js';
import { Prng } from './prng.js';
import { dhcpMessage, DHCP_ACK, DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST } from './protocols/dhcp.js';
import { dnsQuery, dnsResponse, QTYPE_A, QTYPE_TXT } from './protocols/dns.js';
import { ntpRequest, ntpResponse } from './protocols/ntp.js';

export const DOMAIN = 'sim-hospital.example';
export const SUBNET = '10.20.0.0/16';
export const SUBNET_MASK = 0xffff0000;
export const EXTERNAL_RANGES = ['198.51.100.0/24', '203.0.113.0/24'];

/** A vendor OUI and the organisation text the IEEE registry (`oui-data`) holds for it (first line). */
export interface VendorOui {
  oui: string;
  vendor: string;
}

export interface ArchetypeSpec {
  archetype: Archetype;
  deviceClass: DeviceClass;
  /** Third octet of the DHCP pool (10.20.<octet>.0/24). */
  poolOctet: number;
  vendors: VendorOui[];
  /** DHCP option 60. */
  vendorClass: string;
  ttl: number;
  /** TCP ports the device listens on (answers SYNs). */
  listening: number[];
  namePrefix: string;
}

/** Vendor OUIs: each checked against the IEEE registry in `oui-data` by test/unit/simulate-oui.test.ts. */
export const ARCHETYPES: Record<Archetype, ArchetypeSpec> = {
  pump: {
    archetype: 'pump',
    deviceClass: 'infusion_pump',
    poolOctet: 10,
    vendors: [
      { oui: '58:42:e4', vendor: 'Baxter International Inc' },
      { oui: '9c:c8:ae', vendor: 'Becton, Dickinson and Company' },
      { oui: 'f8:c6:78', vendor: 'Carefusion' },
      { oui: '00:03:b1', vendor: 'ICU Medical, Inc.' },
      { oui: '00:13:38', vendor: 'FRESENIUS-VIAL' },
      { oui: '00:12:21', vendor: 'B.Braun Melsungen AG' },
    ],
    vendorClass: 'udhcp 1.31.1',
    ttl: 64,
    listening: [],
    namePrefix: 'pump',
  },
  monitor: {
    archetype: 'monitor',
    deviceClass: 'patient_monitor',
    poolOctet: 11,
    vendors: [
      { oui: '00:09:fb', vendor: 'Philips Patient Monitoring' },
      { oui: '44:4b:5d', vendor: 'GE Healthcare' },
      { oui: '00:0f:14', vendor: 'Mindray Co., Ltd.' },
      { oui: '00:10:5d', vendor: 'Draeger Medical' },
      { oui: '00:a0:9a', vendor: 'NIHON KOHDEN AMERICA' },
      { oui: '00:a0:aa', vendor: 'SPACELABS MEDICAL' },
    ],
    vendorClass: 'dhcpcd-6.11.5:Linux-4.14:armv7l',
    ttl: 64,
    listening: [],
    namePrefix: 'monitor',
  },
  imaging: {
    archetype: 'imaging',
    deviceClass: 'imaging',
    poolOctet: 12,
    vendors: [
      { oui: '88:4b:39', vendor: 'Siemens AG, Healthcare Sector' },
      { oui: 'a0:f2:17', vendor: 'GE Medical System(China) Co., Ltd.' },
      { oui: '00:1d:4a', vendor: 'Carestream Health, Inc.' },
      { oui: '88:b4:36', vendor: 'FUJIFILM Corporation' },
    ],
    vendorClass: 'MSFT 5.0',
    ttl: 128,
    listening: [104],
    namePrefix: 'imaging',
  },
  pacs: {
    archetype: 'pacs',
    deviceClass: 'pacs',
    poolOctet: 2,
    vendors: [
      { oui: '10:65:30', vendor: 'Dell Inc.' },
      { oui: '14:76:49', vendor: 'Hewlett Packard Enterprise' },
    ],
    vendorClass: '',
    ttl: 64,
    listening: [104, 11112, 443],
    namePrefix: 'pacs',
  },
  reading_ws: {
    archetype: 'reading_ws',
    deviceClass: 'workstation',
    poolOctet: 13,
    vendors: [
      { oui: '10:98:19', vendor: 'Dell Inc.' },
      { oui: '18:60:24', vendor: 'Hewlett Packard' },
    ],
    vendorClass: 'MSFT 5.0',
    ttl: 128,
    listening: [104, 135, 445, 3389],
    namePrefix: 'readws',
  },
  nurse_pc: {
    archetype: 'nurse_pc',
    deviceClass: 'workstation',
    poolOctet: 14,
    vendors: [
      { oui: '10:98:19', vendor: 'Dell Inc.' },
      { oui: '80:96:21', vendor: 'Lenovo' },
      { oui: '18:60:24', vendor: 'Hewlett Packard' },
    ],
    vendorClass: 'MSFT 5.0',
    ttl: 128,
    listening: [135, 139, 445, 3389],
    namePrefix: 'nursepc',
  },
  telemetry: {
    archetype: 'telemetry',
    deviceClass: 'telemetry_gateway',
    poolOctet: 15,
    vendors: [
      { oui: '08:09:b6', vendor: 'Masimo Corp' },
      { oui: '00:09:fb', vendor: 'Philips Patient Monitoring' },
    ],
    vendorClass: 'dhcpcd-8.1.2:Linux-5.4:aarch64',
    ttl: 64,
    listening: [],
    namePrefix: 'telemetry',
  },
  lab: {
    archetype: 'lab',
    deviceClass: 'lab_analyser',
    poolOctet: 16,
    vendors: [
      { oui: '00:0e:2f', vendor: 'Roche Diagnostics GmbH' },
      { oui: '00:13:dd', vendor: 'Abbott Diagnostics' },
      { oui: '00:06:6b', vendor: 'Sysmex Corporation' },
      { oui: '00:18:65', vendor: 'Siemens Healthcare Diagnostics Manufacturing Ltd' },
      { oui: 'd0:d2:86', vendor: 'Beckman Coulter K.K.' },
    ],
    vendorClass: 'MSFT 5.0',
    ttl: 128,
    listening: [23],
    namePrefix: 'lab',
  },
  bacnet: {
    archetype: 'bacnet',
    deviceClass: 'building_system',
    poolOctet: 17,
    vendors: [
      { oui: '00:10:8d', vendor: 'Johnson Controls, Inc.' },
      { oui: '00:01:f0', vendor: 'Tridium, Inc.' },
      { oui: '00:00:54', vendor: 'Schneider Electric' },
    ],
    vendorClass: 'udhcp 1.24.2',
    ttl: 64,
    listening: [23, 80],
    namePrefix: 'bms-ctl',
  },
};

export const ARCHETYPE_ORDER: readonly Archetype[] = ['pump', 'monitor', 'imaging', 'pacs', 'reading_ws', 'nurse_pc', 'telemetry', 'lab', 'bacnet'];

export const ROUTER_OUI: VendorOui = { oui: '10:57:25', vendor: 'Cisco Systems, Inc' };
export const SERVER_OUIS: VendorOui[] = [
  { oui: '10:65:30', vendor: 'Dell Inc.' },
  { oui: '14:76:49', vendor: 'Hewlett Packard Enterprise' },
];
export const INTRUDER_OUI: VendorOui = { oui: 'b8:27:eb', vendor: 'Raspberry Pi Foundation' };

/** A host on (or reached through) the segment. */
export class Host implements Station {
  mac: Buffer;
  ip: number;
  ttl: number;
  ipId: number;
  readonly rng: Prng;
  /** ARP cache: next-hop IP → time (µs) the entry was learned. */
  private readonly arpCache = new Map<number, number>();
  /** DNS cache: name → expiry (µs). */
  private readonly dnsCache = new Map<string, number>();
  /**
   * Internal hosts (by IP) this host has exchanged frames with so far: every unicast conversation between two hosts of
   * the segment starts with an ARP resolution (`Hospital.arp`) or is a DHCP exchange, which record it here. Only
   * read (by `lateral_single`, to pick a host the device never talked to); recording it changes no traffic.
   */
  readonly peers = new Set<number>();
  private nextPort: number;
  private dnsId: number;
  listening: Set<number>;
  /** Labelled identity (undefined for external hosts). */
  label: LabelDevice | undefined;
  /** Whether the host has an address yet (false until its DHCP ACK). */
  up: boolean;
  /**
   * Draws of the device's configuration (a telemetry gateway's beds, a BACnet controller's points, a monitor's
   * patient baseline): from the layout seed when one is given (same devices, same configuration, other traffic),
   * else the host's own stream (`rng`, same draws as before layout_seed existed).
   */
  readonly config: Prng;

  constructor(
    readonly name: string,
    mac: Buffer,
    ip: number,
    ttl: number,
    seed: number,
    readonly external = false,
    layoutSeed?: number,
  ) {
    this.mac = mac;
    this.ip = ip;
    this.ttl = ttl;
    this.rng = new Prng(seed, `host:${name}`);
    this.config = layoutSeed === undefined ? this.rng : new Prng(layoutSeed, `config:${name}`);
    this.ipId = this.rng.int(0, 0xffff);
    this.nextPort = this.rng.int(49152, 60000);
    this.dnsId = this.rng.int(0, 0xffff);
    this.listening = new Set();
    this.up = !external;
  }

  ephemeralPort(): number {
    const p = this.nextPort;
    this.nextPort = this.nextPort >= 65000 ? 49152 : this.nextPort + 1;
    return p;
  }

  nextDnsId(): number {
    this.dnsId = (this.dnsId + 1) & 0xffff;
    return this.dnsId;
  }

  arpAge(ip: number, now: number): number {
    const t = this.arpCache.get(ip);
    return t === undefined ? Infinity : now - t;
  }

  learnArp(ip: number, now: number): void {
    this.arpCache.set(ip, now);
  }

  forgetArp(): void {
    this.arpCache.clear();
  }

  dnsFresh(name: string, now: number): boolean {
    return (this.dnsCache.get(name) ?? -1) > now;
  }

  cacheDns(name: string, until: number): void {
    this.dnsCache.set(name, until);
  }
}

export function deviceId(mac: Buffer): string {
  return `mac:${macText(mac)}`;
}

function macFrom(oui: string, rng: Prng, used: Set<string>): Buffer {
  const prefix = Buffer.from(oui.replace(/:/g, ''), 'hex');
  for (;;) {
    const mac = Buffer.concat([prefix, rng.bytes(3)]);
    const t = macText(mac);
    if (!used.has(t)) {
      used.add(t);
      return mac;
    }
  }
}

/** Day/night activity factor for a time (µs): 0.1 at 03:00 UTC, 1.0 at 15:00 UTC, smooth in between. */
export function dayFactor(tUs: number): number {
  const h = (tUs / 3.6e9) % 24;
  return 0.55 - 0.45 * Math.cos((2 * Math.PI * (h - 3)) / 24);
}

export interface ServerSet {
  dhcp: Host;
  dns: Host;
  ntp: Host;
  pumpServer: Host;
  hl7Engine: Host;
  ehr: Host;
  mqttBroker: Host;
  lis: Host;
  bms: Host;
}

export class Hospital {
  readonly gateway: Host;
  readonly servers: ServerSet;
  /** Every labelled host by IP (servers, devices once up, intruders). */
  readonly byIp = new Map<number, Host>();
  readonly devices: Host[] = [];
  readonly labelled: LabelDevice[] = [];
  private readonly usedMacs = new Set<string>();
  private readonly externals = new Map<number, Host>();
  /** DNS zone: name → IPv4 address. */
  readonly zone = new Map<string, number>();
  private readonly rng: Prng;

  constructor(
    readonly engine: Engine,
    readonly seed: number,
    readonly vlan: number,
    /** Seed of the MACs, vendors and device configuration (the layout); hosts' traffic follows `seed`. */
    private readonly layoutSeed?: number,
  ) {
    this.rng = new Prng(layoutSeed ?? seed, 'hospital');
    this.gateway = new Host('gateway', macFrom(ROUTER_OUI.oui, this.rng, this.usedMacs), parseIpv4('10.20.0.1'), 255, seed);
    this.byIp.set(this.gateway.ip, this.gateway);
    const server = (name: string, ip: string, ttl: number, listening: number[]): Host => {
      const vendor = SERVER_OUIS[this.labelled.length % SERVER_OUIS.length]!;
      const h = new Host(name, macFrom(vendor.oui, this.rng, this.usedMacs), parseIpv4(ip), ttl, seed);
      for (const p of listening) h.listening.add(p);
      this.register(h, 'server', 'server', vendor.vendor);
      this.zone.set(`${name}.${DOMAIN}`, h.ip);
      return h;
    };
    this.servers = {
      dhcp: server('dhcp', '10.20.0.2', 128, []),
      dns: server('dns', '10.20.0.3', 128, [53]),
      ntp: server('ntp', '10.20.0.4', 64, []),
      pumpServer: server('pumpserver', '10.20.1.10', 128, [443]),
      hl7Engine: server('hl7engine', '10.20.1.20', 64, [2575, 22]),
      ehr: server('ehr', '10.20.1.40', 128, [443, 80]),
      mqttBroker: server('mqtt', '10.20.1.50', 64, [1883, 22]),
      lis: server('lis', '10.20.1.60', 128, [2575, 5000]),
      bms: server('bms', '10.20.1.70', 128, [443, 47808]),
    };
    this.zone.set(`update.vendor-sim.example`, parseIpv4('203.0.113.10'));
    this.zone.set(`time.vendor-sim.example`, parseIpv4('203.0.113.11'));
  }

  private register(h: Host, archetype: LabelArchetype, deviceClass: DeviceClass, vendor: string): void {
    h.label = {
      device_id: deviceId(h.mac),
      mac: macText(h.mac),
      ip: formatIpv4(h.ip),
      archetype,
      device_class: deviceClass,
      vendor,
      name: h.name,
    };
    this.labelled.push(h.label);
    this.byIp.set(h.ip, h);
  }

  /** Creates a DHCP-configured device of an archetype; `index` is 1-based within the archetype. */
  addDevice(archetype: Archetype, index: number): Host {
    const spec = ARCHETYPES[archetype];
    const vendor = this.rng.pick(spec.vendors);
    const name = `${spec.namePrefix}-${String(index).padStart(2, '0')}`;
    const ip = archetype === 'pacs' ? parseIpv4(`10.20.1.${29 + index}`) : parseIpv4(`10.20.${spec.poolOctet}.${10 + index}`);
    const h = new Host(name, macFrom(vendor.oui, this.rng, this.usedMacs), ip, spec.ttl, this.seed, false, this.layoutSeed);
    for (const p of spec.listening) h.listening.add(p);
    h.up = archetype === 'pacs';
    this.register(h, archetype, spec.deviceClass, vendor.vendor);
    this.zone.set(`${name}.${DOMAIN}`, h.ip);
    this.devices.push(h);
    return h;
  }

  /** A host an attack brings onto the segment (new MAC, address by DHCP). */
  addIntruder(name: string, ip: number): Host {
    const h = new Host(name, macFrom(INTRUDER_OUI.oui, this.rng, this.usedMacs), ip, 64, this.seed);
    this.register(h, 'intruder', 'unknown', INTRUDER_OUI.vendor);
    h.up = false;
    return h;
  }

  /** An external host (frames carry the router's MAC). */
  external(ip: string, ttl = 52): Host {
    const n = parseIpv4(ip);
    let h = this.externals.get(n);
    if (!h) {
      h = new Host(`ext-${ip}`, this.gateway.mac, n, ttl, this.seed, true);
      h.up = true;
      this.externals.set(n, h);
    }
    return h;
  }

  /** Whether an external host at `ip` exists already (some behaviour or attack of this capture talks to it). */
  hasExternal(ip: string): boolean {
    return this.externals.has(parseIpv4(ip));
  }

  isInternal(ip: number): boolean {
    return (ip & SUBNET_MASK) >>> 0 === parseIpv4('10.20.0.0');
  }

  /**
   * Makes sure `from` knows the MAC of the next hop towards `to` (the host itself or the gateway): if its ARP entry
   * is missing or older than `maxAgeUs`, emits who-has / is-at at `t`. Returns the time the exchange ends.
   */
  arp(from: Host, to: Host, t: number, maxAgeUs = 300e6): number {
    if (from.external) return t;
    const hop = to.external ? this.gateway : to;
    from.peers.add(hop.ip);
    hop.peers.add(from.ip);
    if (from.arpAge(hop.ip, t) < maxAgeUs) return t;
    this.engine.emit(t, arpFrame(this.vlan, 1, from.mac, from.ip, ZERO_MAC, hop.ip));
    const t2 = t + from.rng.int(80, 400);
    this.engine.emit(t2, arpFrame(this.vlan, 2, hop.mac, hop.ip, from.mac, from.ip));
    from.learnArp(hop.ip, t2);
    hop.learnArp(from.ip, t2);
    return t2 + 20;
  }

  /** Resolves `name` through the hospital DNS server unless cached; returns the time the answer arrives. */
  resolve(from: Host, name: string, t: number, ttlSecs = 300): number {
    if (from.dnsFresh(name, t)) return t;
    const dns = this.servers.dns;
    t = this.arp(from, dns, t);
    const id = from.nextDnsId();
    const sport = from.ephemeralPort();
    this.engine.emit(t, udpFrame(this.vlan, from, dns, sport, 53, dnsQuery(id, name, QTYPE_A)));
    const addr = this.zone.get(name);
    const t2 = t + from.rng.int(200, addr === undefined ? 30000 : 1500);
    const answer = addr === undefined ? dnsResponse(id, name, QTYPE_A, [], true) : dnsResponse(id, name, QTYPE_A, [{ a: addr, ttl: ttlSecs }]);
    this.engine.emit(t2, udpFrame(this.vlan, dns, from, 53, sport, answer));
    from.cacheDns(name, t2 + ttlSecs * 1e6);
    return t2 + 50;
  }

  /** A TXT query (DNS tunnelling) answered with `txt`. */
  resolveTxt(from: Host, name: string, txt: string, t: number): number {
    const dns = this.servers.dns;
    const id = from.nextDnsId();
    const sport = from.ephemeralPort();
    this.engine.emit(t, udpFrame(this.vlan, from, dns, sport, 53, dnsQuery(id, name, QTYPE_TXT)));
    const t2 = t + from.rng.int(15000, 60000);
    this.engine.emit(t2, udpFrame(this.vlan, dns, from, 53, sport, dnsResponse(id, name, QTYPE_TXT, [{ txt, ttl: 0 }])));
    return t2;
  }

  /** NTP poll to the hospital NTP server. */
  ntp(from: Host, t: number): number {
    const srv = this.servers.ntp;
    t = this.arp(from, srv, t);
    const req = ntpRequest(t);
    this.engine.emit(t, udpFrame(this.vlan, from, srv, 123, 123, req));
    const rx = t + from.rng.int(150, 600);
    const tx = rx + from.rng.int(10, 60);
    this.engine.emit(tx, udpFrame(this.vlan, srv, from, 123, 123, ntpResponse(t, rx, tx, parseIpv4('203.0.113.11'))));
    return tx + 20;
  }

  /**
   * DHCP DISCOVER/OFFER/REQUEST/ACK for a booting host (then a gratuitous ARP), or REQUEST/ACK when `renew`.
   * The address offered is the host's planned address. Returns the time the host is configured.
   */
  dhcp(h: Host, t: number, hostname: string, vendorClass: string, renew = false): number {
    const srv = this.servers.dhcp;
    h.peers.add(srv.ip);
    srv.peers.add(h.ip);
    const xid = h.rng.u32();
    const unknown: Station = { mac: ZERO_MAC, ip: 0, ttl: h.ttl, ipId: h.ipId };
    const bcast: Station = { mac: BROADCAST_MAC, ip: 0xffffffff, ttl: 128, ipId: 0 };
    const common = { xid, chaddr: h.mac, hostname, vendorClass: vendorClass || undefined };
    const offer = {
      op: 2 as const,
      xid,
      chaddr: h.mac,
      yiaddr: h.ip,
      siaddr: srv.ip,
      serverId: srv.ip,
      leaseSecs: 21600,
      subnetMask: SUBNET_MASK,
      router: this.gateway.ip,
      dns: this.servers.dns.ip,
      ntp: this.servers.ntp.ip,
      domain: DOMAIN,
    };
    const client = { ...unknown, mac: h.mac };
    if (renew) {
      t = this.arp(h, srv, t);
      this.engine.emit(t, udpFrame(this.vlan, h, srv, 68, 67, dhcpMessage({ op: 1, ...common, ciaddr: h.ip, msgType: DHCP_REQUEST })));
      const t2 = t + h.rng.int(500, 3000);
      this.engine.emit(t2, udpFrame(this.vlan, srv, h, 67, 68, dhcpMessage({ ...offer, ciaddr: h.ip, msgType: DHCP_ACK })));
      return t2 + 50;
    }
    const toClient: Station = { mac: h.mac, ip: h.ip, ttl: 128, ipId: 0 };
    this.engine.emit(t, udpFrame(this.vlan, client, bcast, 68, 67, dhcpMessage({ op: 1, ...common, msgType: DHCP_DISCOVER, secs: 0 })));
    let tt = t + h.rng.int(1000, 4000);
    this.engine.emit(tt, udpFrame(this.vlan, srv, toClient, 67, 68, dhcpMessage({ ...offer, msgType: DHCP_OFFER })));
    tt += h.rng.int(500, 3000);
    this.engine.emit(
      tt,
      udpFrame(this.vlan, client, bcast, 68, 67, dhcpMessage({ op: 1, ...common, msgType: DHCP_REQUEST, requestedIp: h.ip, serverId: srv.ip, secs: 1 })),
    );
    tt += h.rng.int(500, 3000);
    this.engine.emit(tt, udpFrame(this.vlan, srv, toClient, 67, 68, dhcpMessage({ ...offer, msgType: DHCP_ACK })));
    h.ipId = client.ipId;
    h.up = true;
    // Gratuitous ARP announcing the leased address.
    tt += h.rng.int(5000, 50000);
    this.engine.emit(tt, arpFrame(this.vlan, 1, h.mac, h.ip, ZERO_MAC, h.ip));
    h.forgetArp();
    return tt + 100;
  }
}
