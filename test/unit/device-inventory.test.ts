import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceInventory } from '../../src/flows/device-inventory.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { parseInventoryFile, readInventoryFile } from '../../src/flows/inventory-file.js';
import { guessDeviceClass, protocolBit } from '../../src/flows/device-class.js';
import { macVendor } from '../../src/flows/oui.js';
import type { DeviceIdentityOptions } from '../../src/flows/config.js';
import type { DecodedPacket } from '../../src/records/packet.js';
import { AppProto } from '../../src/records/packet.js';
import { ConfigError } from '../../src/errors.js';
import { ACK, PSHACK, RSTACK, SYN, SYNACK, arp, handshake, mac, tcp, udp } from '../support/packets.js';

const PUMP = { mac: '00:1a:01:00:00:07', ip: '10.0.0.7', port: 49152 }; // 00:1A:01 = ICU Medical, Inc.
const SRV = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 80 };
const ROUTER = '02:00:00:00:00:fe';

/** Runs packets through resolve → flow table → learn, as the pipeline does. */
function feed(inv: DeviceInventory, packets: DecodedPacket[]): { src: number; dst: number; conflict: boolean; overflow: number }[] {
  const flows = new FlowTable();
  return packets.map((p) => {
    const d = inv.resolve(p);
    const r = { src: d.src, dst: d.dst, conflict: d.arp_conflict, overflow: d.overflow };
    const u = flows.process(p, d);
    inv.learn(p, d, u);
    return r;
  });
}

describe('oui-data vendor lookup', () => {
  it('finds MA-L vendors, and none for locally administered or group MACs', () => {
    assert.equal(macVendor(mac('00:1a:01:12:34:56')), 'ICU Medical, Inc.');
    assert.equal(macVendor(mac('00:09:fb:00:00:01')), 'Philips Patient Monitoring');
    assert.equal(macVendor(mac('02:1a:01:12:34:56')), '');
    assert.equal(macVendor(mac('01:00:5e:00:00:01')), '');
  });
});

describe('DeviceInventory: identity', () => {
  it('keys devices on the L2 segment by MAC and learns IP, vendor, peers, listening ports and protocols', () => {
    const inv = new DeviceInventory();
    // A complete handshake: evidence that both are real hosts, so both are listed.
    const r = feed(inv, [...handshake(10, PUMP, SRV), tcp(10.3, PUMP, SRV, PSHACK, 50)]);
    assert.deepEqual(r[0], { src: 0, dst: -1, conflict: false, overflow: 0 }); // server not yet known: not created by being addressed
    assert.deepEqual(r[1], { src: 1, dst: 0, conflict: false, overflow: 0 });
    const pump = inv.entry(0)!;
    assert.equal(pump.device_id, 'mac:00:1a:01:00:00:07');
    assert.equal(pump.key_kind, 'mac');
    assert.equal(pump.vendor, 'ICU Medical, Inc.');
    assert.deepEqual(pump.ips, ['10.0.0.7']);
    assert.deepEqual(pump.peers, ['10.0.0.2']);
    assert.deepEqual(pump.listening_ports, []);
    assert.deepEqual(pump.protocols, ['http']);
    assert.equal(pump.first_seen, 10);
    assert.equal(pump.last_seen, 10.3);
    assert.equal(pump.device_class, 'infusion_pump');
    assert.equal(pump.class_source, 'guess');
    assert.equal(pump.class_confidence, 0.7);
    const srv = inv.entry(1)!;
    assert.equal(srv.device_id, 'mac:02:00:00:00:00:02');
    assert.equal(srv.vendor, '');
    assert.deepEqual(srv.listening_ports, [80]);
    assert.deepEqual(srv.peers, ['10.0.0.7']);
  });

  it('external sources are no devices; a MAC forwarding from 4 distinct external sources is a gateway, whose own traffic is then keyed by IP', () => {
    const inv = new DeviceInventory();
    const ext = { mac: ROUTER, ip: '8.8.8.8', port: 53 };
    const r = feed(inv, [
      udp(1, ext, { ...PUMP, port: 5000 }, 40),
      udp(1.1, ext, { ...PUMP, port: 5000 }, 40),
      udp(1.2, { ...ext, ip: '8.8.4.4' }, { ...PUMP, port: 5000 }, 40),
      udp(1.3, { ...ext, ip: '9.9.9.9' }, { ...PUMP, port: 5000 }, 40),
    ]);
    assert.equal(r[0]!.src, -1);
    assert.equal(r[0]!.dst, -1); // the pump has not sent anything yet
    assert.ok(!inv.isGateway(mac(ROUTER)), 'three distinct external sources are not enough (a host may have a few addresses)');
    const r2 = feed(inv, [
      udp(1.4, { ...ext, ip: '1.1.1.1' }, { ...PUMP, port: 5000 }, 40),
      udp(2, { mac: ROUTER, ip: '10.0.0.254', port: 123 }, { ...PUMP, port: 123 }, 48),
    ]);
    assert.ok(inv.isGateway(mac(ROUTER)));
    assert.equal(inv.deviceId(r2[1]!.src), 'ip:10.0.0.254');
    assert.equal(inv.counters().get('gateways_detected'), 1);
  });

  it('keys devices of `key: ip` subnets by IP (longest prefix wins) and never creates devices for destinations', () => {
    const opts: Partial<DeviceIdentityOptions> = {
      subnets: [
        { cidr: '10.0.0.0/8', key: 'mac' },
        { cidr: '10.9.0.0/16', key: 'ip' },
      ],
    };
    const inv = new DeviceInventory(opts);
    const remote = { mac: ROUTER, ip: '10.9.1.5', port: 2575 };
    const r = feed(inv, [udp(1, remote, PUMP, 10)]);
    assert.equal(inv.deviceId(r[0]!.src), 'ip:10.9.1.5');
    // A scan of 200 internal addresses creates no device but the scanner.
    const scan: DecodedPacket[] = [];
    for (let i = 0; i < 200; i++) scan.push(tcp(2 + i / 1000, PUMP, { mac: ROUTER, ip: `10.9.2.${i}`, port: 22 }, SYN));
    feed(inv, scan);
    assert.equal(inv.size, 2);
  });

  it('is bounded: senders beyond max_devices are refused and counted per packet', () => {
    const inv = new DeviceInventory({ subnets: [{ cidr: '10.0.0.0/8', key: 'ip' }], max_devices: 4 });
    const pkts: DecodedPacket[] = [];
    for (let i = 0; i < 10; i++) pkts.push(tcp(1, { ip: `10.0.1.${i}`, port: 1000 }, SRV, SYN));
    pkts.push(tcp(2, { ip: '10.0.1.9', port: 1000 }, SRV, SYN));
    const r = feed(inv, pkts);
    assert.equal(inv.size, 4);
    assert.equal(inv.overflow, 7);
    assert.deepEqual(
      r.map((x) => x.overflow),
      [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    );
    assert.equal(inv.counters().get('devices_overflow'), 7);
  });

  it('keys a DHCP client without an address by MAC and learns its host name and vendor class', () => {
    const inv = new DeviceInventory();
    const discover = udp(1, { mac: PUMP.mac, ip: '0.0.0.0', port: 68 }, { mac: 'ff:ff:ff:ff:ff:ff', ip: '255.255.255.255', port: 67 }, 300, AppProto.DHCP, {
      dhcp_msg_type: 1,
      dhcp_hostname: 'pump-icu2-04',
      dhcp_vendor_class: 'ICU Medical Plum 360',
    });
    const r = feed(inv, [
      discover,
      udp(5, { ...PUMP, port: 5000 }, { ...SRV, port: 2575 }, 10),
      udp(5.1, { ...SRV, port: 2575 }, { ...PUMP, port: 5000 }, 10), // the answer teaches 'hl7' (port 2575)
    ]);
    assert.equal(r[0]!.src, 0);
    assert.equal(r[0]!.dst, -1);
    assert.equal(r[1]!.src, 0);
    const e = inv.entry(0)!;
    assert.equal(e.dhcp_hostname, 'pump-icu2-04');
    assert.equal(e.dhcp_vendor_class, 'ICU Medical Plum 360');
    assert.deepEqual(e.ips, ['10.0.0.7']);
    assert.deepEqual(e.protocols, ['dhcp', 'hl7']);
    assert.equal(e.class_confidence, 0.85);
  });

  it('flags ARP claims of an IP bound to another MAC, until the owner has been silent for the binding timeout', () => {
    const inv = new DeviceInventory({ arp_binding_timeout_ms: 60_000 });
    const attacker = { mac: '02:00:00:00:00:66', ip: '10.0.0.66' };
    const replacement = '02:00:00:00:00:77';
    const r = feed(inv, [
      tcp(1, PUMP, SRV, SYN), // binds 10.0.0.7 → pump MAC
      arp(2, 1, attacker, { ip: '10.0.0.2' }), // attacker's own address: fine
      arp(3, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV), // claims the pump's IP
      // Pump silent since t=1 (> 60 s), but the attacker answers for an address that is not its own while it uses
      // 10.0.0.66: still a spoof, the binding does not move to it.
      arp(200, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      arp(201, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      // A new MAC with no other address takes over the silent pump's address (a replaced device): the binding moves.
      arp(202, 2, { mac: replacement, ip: PUMP.ip }, SRV),
      arp(203, 2, { mac: replacement, ip: PUMP.ip }, SRV),
    ]);
    assert.deepEqual(
      r.map((x) => x.conflict),
      [false, false, true, true, true, false, false],
    );
    assert.equal(inv.counters().get('arp_conflicts'), 3);
    assert.equal(inv.deviceId(r[2]!.src), 'mac:02:00:00:00:00:66');
  });

  it('after a spoof, the owner it displaced takes its address back once the spoofer stops claiming it (no "spoof" then)', () => {
    const inv = new DeviceInventory({ arp_binding_timeout_ms: 60_000, arp_reclaim_ms: 60_000, require_evidence: false });
    const attacker = { mac: '02:00:00:00:00:66', ip: '10.0.0.66', port: 50000 };
    const r = feed(inv, [
      tcp(1, PUMP, SRV, SYN), // binds 10.0.0.7 → pump MAC
      arp(200, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV), // pump silent > 60 s, attacker with no other address yet: it takes the binding
      arp(202, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV), // still spoofing: its own binding, no conflict
      arp(203, 2, { mac: PUMP.mac, ip: PUMP.ip }, SRV), // the pump answers for itself while the attacker claims it: conflict
      tcp(210, attacker, SRV, SYN), // the attacker goes on with its own traffic (alive) but no longer claims 10.0.0.7
      arp(270, 2, { mac: PUMP.mac, ip: PUMP.ip }, SRV), // 68 s after the last spoof the pump's claim takes it back
      arp(271, 2, { mac: PUMP.mac, ip: PUMP.ip }, SRV),
      arp(272, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV), // a new spoof of the (alive) pump: conflict again
    ]);
    assert.deepEqual(
      r.map((x) => x.conflict),
      [false, false, false, true, false, false, false, true],
    );
  });

  it('flags an ARP reply claiming a not yet bound address from a device that uses another one (quiet gateway spoofed)', () => {
    // About ARP bindings, not evidence: every sender listed (the attacker shows none).
    const inv = new DeviceInventory({ require_evidence: false });
    const attacker = { mac: '02:00:00:00:00:66', ip: '10.0.0.66' };
    const r = feed(inv, [
      arp(1, 1, attacker, { ip: '10.0.0.7' }), // its own address, learned from the request
      arp(2, 2, { mac: attacker.mac, ip: '10.0.0.1' }, PUMP), // claims the (silent) gateway's address
      arp(3, 2, { mac: '02:00:00:00:00:77', ip: '10.0.0.77' }, PUMP), // a new device answering for itself: fine
    ]);
    assert.deepEqual(
      r.map((x) => x.conflict),
      [false, true, false],
    );
    assert.deepEqual(inv.entry(0)!.ips, ['10.0.0.66']);
  });

  it('learns protocols by port only from answers, so a scan does not teach its target protocols', () => {
    // About protocol learning, not evidence (no handshake completes here): every sender listed.
    const inv = new DeviceInventory({ require_evidence: false });
    const pkts: DecodedPacket[] = [tcp(0, SRV, PUMP, SYN)];
    for (const port of [104, 2575, 1883, 22]) {
      pkts.push(tcp(1, PUMP, { ...SRV, port }, SYN), tcp(1.001, { ...SRV, port }, PUMP, RSTACK));
    }
    pkts.push(tcp(2, PUMP, { ...SRV, port: 443 }, SYN), tcp(2.001, { ...SRV, port: 443 }, PUMP, SYNACK));
    feed(inv, pkts);
    const srv = inv.entry(0)!;
    assert.equal(srv.device_id, 'mac:02:00:00:00:00:02');
    assert.deepEqual(srv.protocols, ['tls']);
    assert.deepEqual(srv.listening_ports, [443]);
  });

  it('rejects invalid options with the field named', () => {
    assert.throws(
      () => new DeviceInventory({ subnets: [{ cidr: '10.0.0.0/33', key: 'mac' }] }),
      (e: unknown) => e instanceof ConfigError && e.field === 'devices.subnets.0.cidr',
    );
  });
});

describe('Device class guessing', () => {
  const g = (vendor: string, protocols: string[], listening: number[] = [], gateway = false): [string, number] => {
    const mask = protocols.reduce((m, p) => m | protocolBit(p as Parameters<typeof protocolBit>[0]), 0);
    const r = guessDeviceClass({ vendor, protocols: mask, listening_ports: listening, gateway });
    return [r.device_class, r.confidence];
  };
  it('applies the documented rules in order', () => {
    assert.deepEqual(g('Cisco Systems, Inc', [], [], true), ['network', 0.9]);
    assert.deepEqual(g('GE Healthcare', ['dicom']), ['imaging', 0.8]);
    assert.deepEqual(g('Hewlett Packard Enterprise', ['dicom'], [104]), ['pacs', 0.7]);
    assert.deepEqual(g('', ['dicom']), ['imaging', 0.6]);
    assert.deepEqual(g('Siemens Healthcare Diagnostics Manufacturing Ltd', ['hl7']), ['lab_analyser', 0.85]);
    assert.deepEqual(g('B.Braun Melsungen AG', []), ['infusion_pump', 0.7]);
    assert.deepEqual(g('Masimo Corp', ['mqtt', 'dns']), ['telemetry_gateway', 0.8]);
    assert.deepEqual(g('', ['mqtt']), ['telemetry_gateway', 0.5]);
    assert.deepEqual(g('GE Healthcare', ['hl7']), ['patient_monitor', 0.85]);
    assert.deepEqual(g('Siemens AG, Healthcare Sector', []), ['imaging', 0.5]);
    assert.deepEqual(g('Dell Inc.', ['dns'], [53]), ['server', 0.6]);
    assert.deepEqual(g('Dell Inc.', ['bacnet'], [47808]), ['server', 0.5]);
    assert.deepEqual(g('', ['bacnet'], [47808]), ['building_system', 0.7]);
    assert.deepEqual(g('Tridium, Inc.', []), ['building_system', 0.7]);
    assert.deepEqual(g('', ['hl7']), ['patient_monitor', 0.4]);
    assert.deepEqual(g('Cisco Systems, Inc', []), ['network', 0.6]);
    assert.deepEqual(g('Dell Inc.', ['dns', 'tls']), ['workstation', 0.7]);
    assert.deepEqual(g('Dell Inc.', ['hl7', 'smb']), ['workstation', 0.7]);
    assert.deepEqual(g('', ['rdp']), ['workstation', 0.5]);
    assert.deepEqual(g('', [], [22, 3389, 5900]), ['server', 0.4]);
    assert.deepEqual(g('', ['dns']), ['unknown', 0]);
  });
});

describe('Inventory file and persistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-inv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a YAML inventory whose entries override the guesses', () => {
    const path = join(dir, 'inventory.yaml');
    writeFileSync(
      path,
      [
        'devices:',
        '  - mac: "00:1A:01:00:00:07"',
        '    name: ICU-2 pump 4',
        '    class: infusion_pump',
        '    location: ICU-2 bed 4',
        '    criticality: life_critical',
        '  - ip: 10.0.0.2',
        '    name: HL7 interface engine',
        '    class: server',
        '',
      ].join('\n'),
    );
    const file = readInventoryFile(path);
    assert.deepEqual(file[0], {
      device_id: 'mac:00:1a:01:00:00:07',
      name: 'ICU-2 pump 4',
      device_class: 'infusion_pump',
      location: 'ICU-2 bed 4',
      criticality: 'life_critical',
    });
    const inv = new DeviceInventory({}, file);
    feed(inv, [tcp(1, PUMP, SRV, SYN), tcp(1.1, SRV, PUMP, SYNACK)]);
    const pump = inv.entry(0)!;
    assert.deepEqual([pump.device_class, pump.class_source, pump.class_confidence, pump.name, pump.criticality], [
      'infusion_pump',
      'inventory',
      1,
      'ICU-2 pump 4',
      'life_critical',
    ]);
    // The server is keyed by MAC but listed by IP: matched through its learned IP.
    const srv = inv.entry(1)!;
    assert.deepEqual([srv.device_class, srv.name, srv.criticality], ['server', 'HL7 interface engine', 'medium']);
  });

  it('rejects invalid inventory files naming the field', () => {
    const field = (content: unknown): string => {
      try {
        parseInventoryFile(content);
      } catch (e) {
        if (e instanceof ConfigError) return e.field;
        throw e;
      }
      return 'no error';
    };
    assert.equal(field({ devices: [{ mac: '00:1a:01:00:00:07', class: 'toaster' }] }), 'inventory.devices.0.class');
    assert.equal(field({ devices: [{ mac: '00:1a:01:00:00:07', ip: '10.0.0.1' }] }), 'inventory.devices.0');
    assert.equal(field({ devices: [{ ip: '10.0.0.1', colour: 'red' }] }), 'inventory.devices.0');
    assert.equal(field({ devices: [{ ip: '10.0.0.1' }, { ip: '10.0.0.1' }] }), 'inventory.devices.1');
    assert.equal(field({ devices: [{ ip: '10.0.0.300' }] }), 'inventory.devices.0.ip');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'devices: [\n');
    assert.throws(() => readInventoryFile(bad), (e: unknown) => e instanceof ConfigError && /not valid YAML/.test(e.message));
  });

  it('saves and reloads: same entries, same handles, learning continues', () => {
    const inv = new DeviceInventory();
    feed(inv, [
      ...handshake(1, PUMP, SRV),
      udp(2, { mac: ROUTER, ip: '8.8.8.8', port: 53 }, { ...PUMP, port: 5000 }, 40),
      udp(2, { mac: ROUTER, ip: '8.8.4.4', port: 53 }, { ...PUMP, port: 5000 }, 40),
      udp(2, { mac: ROUTER, ip: '9.9.9.9', port: 53 }, { ...PUMP, port: 5000 }, 40),
      udp(2, { mac: ROUTER, ip: '1.1.1.1', port: 53 }, { ...PUMP, port: 5000 }, 40),
    ]);
    const path = join(dir, 'inventory.json');
    inv.save(path);
    const back = DeviceInventory.load(path);
    assert.deepEqual(back.entries(), inv.entries());
    assert.ok(back.isGateway(mac(ROUTER)));
    const r = feed(back, [tcp(3, PUMP, SRV, PSHACK, 10), tcp(4, { mac: '02:00:00:00:00:09', ip: '10.0.0.9', port: 1 }, SRV, SYN)]);
    assert.deepEqual([r[0]!.src, r[0]!.dst, r[1]!.src], [0, 1, 2]);
    assert.equal(back.entry(0)!.last_seen, 3);
    writeFileSync(path, '{"schema_version":1,"devices":"x"}');
    assert.throws(() => DeviceInventory.load(path), ConfigError);
  });
});

describe('DeviceInventory: IPv4 resolution cache', () => {
  it('answers and learns exactly as without the cache, on a random stream with devices, gateways, ARP and overflow', () => {
    // Reference: the same inventory code with its cache made stale before every packet (the generation moved), so
    // every packet takes the full resolution.
    const macs = ['00:1a:01:00:00:01', '00:09:fb:00:00:02', '02:00:00:00:00:03', '02:00:00:00:00:04', '02:00:00:00:00:fe', 'ff:ff:ff:ff:ff:ff'];
    const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '0.0.0.0', '255.255.255.255', '8.8.8.8', '1.1.1.1', '9.9.9.9', '4.4.4.4', '172.16.0.9', '192.168.1.1'];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const packets: DecodedPacket[] = [];
    for (let i = 0; i < 20_000; i++) {
      const src = { mac: macs[rnd(macs.length - 1)]!, ip: ips[rnd(ips.length)]!, port: 1000 + rnd(3) };
      const dst = { mac: macs[rnd(macs.length)]!, ip: ips[rnd(ips.length)]!, port: 80 + rnd(2) };
      const ts = 100 + i * 0.5;
      const k = rnd(10);
      packets.push(k === 0 ? arp(ts, rnd(2) === 0 ? 1 : 2, src, dst) : k < 5 ? tcp(ts, src, dst, [SYN, SYNACK, ACK, PSHACK, RSTACK][rnd(5)]!, rnd(100)) : udp(ts, src, dst, rnd(200)));
    }
    for (const max of [16384, 5]) {
      const cached = new DeviceInventory({ max_devices: max });
      const plain = new DeviceInventory({ max_devices: max });
      const stale = plain as unknown as { resolveGen: number };
      const flowsA = new FlowTable();
      const flowsB = new FlowTable();
      let attributed = 0;
      let steady = 0;
      const gen = cached as unknown as { resolveGen: number };
      for (const p of packets) {
        const g = gen.resolveGen;
        const a = cached.resolve(p);
        if (gen.resolveGen === g) steady++;
        const ra = JSON.stringify(a);
        stale.resolveGen++;
        const b = plain.resolve(p);
        assert.equal(ra, JSON.stringify(b));
        cached.learn(p, a, flowsA.process(p, a));
        plain.learn(p, b, flowsB.process(p, b));
        if (a.src >= 0) attributed++;
      }
      // The stream exercises the cache: most packets meet an unchanged generation, and many are attributed.
      assert.ok(steady > packets.length / 2, `${steady} packets with the cache valid`);
      assert.ok(attributed > (max > 5 ? 5000 : 50), `${attributed} packets attributed`);
      assert.deepEqual(cached.entries(), plain.entries());
      assert.deepEqual(cached.counters().snapshot(), plain.counters().snapshot());
    }
  });
});
