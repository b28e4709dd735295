/**
 * The inventory's evidence rule (src/flows/device-inventory.ts, "Evidence"; docs/flows-and-devices.md): a sender is
 * listed only once it shows evidence of being a real host; before that it is a candidate, bounded. One test per
 * evidence kind, the quiet real devices that must be confirmed at their first answered exchange, and what is not
 * evidence (a frame addressed to a MAC, an unsolicited ARP reply, a SYN-ACK to a spoofed source).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CandidateTable } from '../../src/flows/candidate-table.js';
import type { DeviceIdentityOptions } from '../../src/flows/config.js';
import { DeviceInventory } from '../../src/flows/device-inventory.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { parseInventoryFile } from '../../src/flows/inventory-file.js';
import { ConfigError } from '../../src/errors.js';
import { DEVICE_SCHEMA_VERSION } from '../../src/records/device.js';
import type { DecodedPacket } from '../../src/records/packet.js';
import { AppProto } from '../../src/records/packet.js';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import { FEATURE_NAMES, type FeatureWindow } from '../../src/records/features.js';
import { ACK, PSHACK, RSTACK, SYN, SYNACK, arp, handshake, icmpEcho, seqAck, tcp, udp } from '../support/packets.js';

const CAMERA = { mac: '02:00:00:00:00:0c', ip: '10.0.0.12', port: 50000 };
const PUMP = { mac: '00:1a:01:00:00:07', ip: '10.0.0.7', port: 49152 };
const SRV = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 80 };
const DHCP_SRV = { mac: '02:00:00:00:00:43', ip: '10.0.0.67', port: 67 };
const GW = '02:00:00:00:00:fe';
const CLOUD = { mac: GW, ip: '203.0.113.10', port: 443 };

/** An inventory fed as the pipeline does (resolve → flow table → learn), with what each packet resolved to. */
class Sensor {
  readonly inv: DeviceInventory;
  readonly flows = new FlowTable();
  constructor(options: Partial<DeviceIdentityOptions> = {}, inv?: DeviceInventory) {
    this.inv = inv ?? new DeviceInventory({ gateway_macs: [GW], ...options });
  }
  feed(...packets: DecodedPacket[]): { src: number; dst: number; overflow: number }[] {
    return packets.map((p) => {
      const d = this.inv.resolve(p);
      const u = this.flows.process(p, d);
      this.inv.learn(p, d, u);
      return { src: d.src, dst: d.dst, overflow: d.overflow };
    });
  }
  /** Listed devices: id → evidence. */
  listed(): Record<string, string> {
    return Object.fromEntries(this.inv.entries().map((e) => [e.device_id, e.confirmed_by]));
  }
}

const id = (ep: { mac: string }): string => `mac:${ep.mac}`;

describe('DeviceInventory: evidence of a real host', () => {
  it('tcp_handshake: a completed handshake lists client and server; a SYN answered by a SYN-ACK lists neither', () => {
    const s = new Sensor();
    const [syn, synack, ack] = handshake(10, PUMP, SRV);
    s.feed(syn!, synack!);
    assert.deepEqual(s.listed(), {});
    assert.equal(s.inv.size, 2, 'both have a handle: their feature windows are emitted');
    assert.deepEqual(s.inv.identity(0)?.confirmed, false);
    s.feed(ack!);
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'tcp_handshake', [id(SRV)]: 'tcp_handshake' });
    assert.equal(s.inv.entry(0)!.confirmed_at, 10.0002);
    assert.equal(s.inv.entry(0)!.first_seen, 10);
  });

  it('a blind ACK (wrong acknowledgement number) is no handshake', () => {
    const s = new Sensor();
    const [syn, synack] = handshake(10, PUMP, SRV);
    s.feed(syn!, synack!, seqAck(tcp(10.1, PUMP, SRV, ACK), 1001, 4242), seqAck(tcp(10.2, PUMP, SRV, PSHACK, 20), 1001, 4242));
    assert.deepEqual(s.listed(), {});
  });

  it('a camera that only talks TLS to the cloud through the gateway is listed at its first handshake', () => {
    const s = new Sensor();
    s.feed(...handshake(5, CAMERA, CLOUD), tcp(5.1, CAMERA, CLOUD, PSHACK, 300));
    assert.deepEqual(s.listed(), { [id(CAMERA)]: 'tcp_handshake' }); // the gateway and the cloud are no devices
  });

  it('answered: a device that only sends NTP and gets replies is listed at the first reply', () => {
    const s = new Sensor();
    const ntp = { ...CLOUD, ip: '198.51.100.123', port: 123 };
    s.feed(udp(1, { ...CAMERA, port: 123 }, ntp, 48));
    assert.deepEqual(s.listed(), {});
    s.feed(udp(1.05, ntp, { ...CAMERA, port: 123 }, 48));
    assert.deepEqual(s.listed(), { [id(CAMERA)]: 'answered' });
    assert.equal(s.inv.entry(0)!.confirmed_at, 1.05);
  });

  it('answered: a UDP or ICMP exchange between two internal hosts lists both; a unicast request a candidate answers lists it', () => {
    const s = new Sensor();
    s.feed(udp(1, PUMP, { ...SRV, port: 2575 }, 40), udp(1.01, { ...SRV, port: 2575 }, PUMP, 10));
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'answered', [id(SRV)]: 'answered' });
    const t = new Sensor();
    t.feed(icmpEcho(1, PUMP, SRV, false), icmpEcho(1.001, SRV, PUMP, true));
    assert.deepEqual(t.listed(), { [id(PUMP)]: 'answered', [id(SRV)]: 'answered' });
  });

  it('unicast frames addressed to a MAC are no evidence on their own: a flood victim answers every spoofed source', () => {
    const s = new Sensor();
    s.feed(...handshake(1, PUMP, SRV)); // the victim and a real client
    const spoofed = { mac: '02:66:00:00:00:01', ip: '10.9.8.7', port: 4444 };
    // The spoofed source's SYN, the victim's SYN-ACK unicast to its MAC, again; then the victim's RST.
    s.feed(seqAck(tcp(2, spoofed, SRV, SYN), 7, 0), seqAck(tcp(2.001, SRV, spoofed, SYNACK), 99, 8), seqAck(tcp(3, spoofed, SRV, SYN), 7, 0));
    s.feed(tcp(3.001, SRV, spoofed, PSHACK, 10), icmpEcho(4, SRV, spoofed, false));
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'tcp_handshake', [id(SRV)]: 'tcp_handshake' });
    // Only an answer from the addressed host is: it answers the confirmed device's echo request.
    s.feed(icmpEcho(4.001, spoofed, SRV, true));
    assert.equal(s.listed()[id(spoofed)], 'answered');
  });

  it('arp_reply: the host answering a request for its own address is listed; the requester, an unsolicited reply and a claim of a bound address are not', () => {
    const s = new Sensor();
    const a = { mac: '02:00:00:00:00:0a', ip: '10.0.0.10' };
    const b = { mac: '02:00:00:00:00:0b', ip: '10.0.0.11' };
    s.feed(arp(1, 1, a, { ip: b.ip }), arp(1.001, 2, b, a));
    assert.deepEqual(s.listed(), { [id(b)]: 'arp_reply' });
    const rogue = { mac: '02:00:00:00:00:66', ip: '10.0.0.66' };
    s.feed(arp(2, 2, rogue, a)); // gratuitous / unsolicited
    s.feed(arp(3, 1, a, { ip: '10.0.0.11' }), arp(3.001, 2, { mac: rogue.mac, ip: b.ip }, a)); // claims b's address
    assert.deepEqual(s.listed(), { [id(b)]: 'arp_reply' });
  });

  it('dhcp_lease: a DHCPACK unicast to a client that asked lists client and server; without a request or broadcast, nothing', () => {
    const s = new Sensor();
    const client = { mac: '00:1a:01:00:00:99', ip: '0.0.0.0', port: 68 };
    const bcast = { mac: 'ff:ff:ff:ff:ff:ff', ip: '255.255.255.255', port: 67 };
    const dhcp = (ts: number, from: typeof client, to: typeof client, type: number): DecodedPacket =>
      udp(ts, from, to, 300, AppProto.DHCP, { dhcp_msg_type: type, dhcp_hostname: type === 3 ? 'pump-7' : undefined });
    s.feed(dhcp(1, client, bcast, 1), dhcp(1.01, DHCP_SRV, { ...bcast, port: 68 }, 2), dhcp(1.02, client, bcast, 3));
    assert.deepEqual(s.listed(), {});
    s.feed(dhcp(1.03, DHCP_SRV, { mac: client.mac, ip: '10.0.0.99', port: 68 }, 5));
    assert.deepEqual(s.listed(), { [id(client)]: 'dhcp_lease', [id(DHCP_SRV)]: 'dhcp_lease' });
    assert.equal(s.inv.entry(0)!.dhcp_hostname, 'pump-7');
    // A DHCPACK to a MAC that never asked (a spoofed lease), and one broadcast: nothing.
    const t = new Sensor();
    const other = { mac: '00:1a:01:00:00:98', ip: '10.0.0.98', port: 68 };
    t.feed(udp(1, other, SRV, 10), dhcp(2, DHCP_SRV, other, 5), dhcp(3, other, bcast, 3), dhcp(3.01, DHCP_SRV, { ...bcast, port: 68 }, 5));
    assert.deepEqual(t.listed(), {});
    // Too late: an ACK more than 60 s after the request.
    t.feed(dhcp(70, DHCP_SRV, other, 5));
    assert.deepEqual(t.listed(), {});
  });

  it('sustained: a syslog-only sender nobody answers is listed after 10 packets over 10 minutes (0 disables)', () => {
    const syslog = { ...SRV, ip: '10.0.0.5', port: 514 };
    const s = new Sensor();
    const z = new Sensor({ confirm_sustained_ms: 0 });
    for (let i = 0; i <= 10; i++) {
      const p = () => udp(60 * i, { ...CAMERA, port: 40000 + i }, syslog, 120);
      s.feed(p());
      z.feed(p());
      assert.deepEqual(s.listed(), i < 10 ? {} : { [id(CAMERA)]: 'sustained' }, `after ${i + 1} packets`);
    }
    assert.deepEqual(z.listed(), {});
  });

  it('inventory_file: a device the operator lists is confirmed at its first packet, also when matched by its IP later', () => {
    const file = parseInventoryFile({ devices: [{ mac: PUMP.mac, name: 'Pump 7' }, { ip: '10.0.0.12', name: 'Camera' }] });
    const s = new Sensor({}, new DeviceInventory({ gateway_macs: [GW] }, file));
    s.feed(tcp(1, PUMP, SRV, SYN));
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'inventory_file' });
    s.feed(arp(2, 1, { mac: CAMERA.mac, ip: '0.0.0.0' }, { ip: '10.0.0.1' }), tcp(3, CAMERA, SRV, SYN));
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'inventory_file', [id(CAMERA)]: 'inventory_file' });
  });

  it('evidence not required: every sender is listed at its first packet (first_packet)', () => {
    const s = new Sensor({ require_evidence: false });
    s.feed(tcp(1, PUMP, SRV, SYN));
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'first_packet' });
  });
});

describe('DeviceInventory: candidates still have feature windows', () => {
  it('a scanner whose probes are all refused is not listed, but its windows are emitted (the detector sees it)', () => {
    const windows: FeatureWindow[] = [];
    const pipe = new AnalysisPipeline({ devices: { gateway_macs: [GW] } }, { onWindow: (w) => windows.push(w) });
    const scanner = { mac: '02:00:00:00:00:5c', ip: '10.0.0.92', port: 61000 };
    for (const p of [...handshake(1, PUMP, SRV), ...Array.from({ length: 100 }, (_, i) => [tcp(2 + i * 0.01, scanner, { ...SRV, port: 1 + i }, SYN), tcp(2.001 + i * 0.01, { ...SRV, port: 1 + i }, scanner, RSTACK)]).flat()]) pipe.process(p);
    pipe.flush();
    assert.deepEqual(
      pipe.inventory.entries().map((e) => e.device_id),
      [id(PUMP), id(SRV)],
    );
    const w = windows.find((x) => x.device_id === id(scanner));
    assert.ok(w, 'the scanner has a window');
    assert.equal(w.values[FEATURE_NAMES.indexOf('tcp_rejected')], 100);
    assert.equal(w.new_dst_ports.length, 16);
  });
});

describe('DeviceInventory: candidates are bounded', () => {
  it('beyond max_unconfirmed_devices a sender waits in the candidate table without a handle, and gets one at its evidence', () => {
    const s = new Sensor({ max_unconfirmed_devices: 1 });
    const first = s.feed(tcp(1, { ...PUMP, port: 1 }, SRV, SYN));
    assert.deepEqual(first[0], { src: 0, dst: -1, overflow: 0 });
    // The server's SYN-ACK: no room in the pool, counted as overflow, no handle.
    const [, synack, ack] = handshake(2, PUMP, SRV);
    const [syn2] = handshake(2, PUMP, SRV);
    assert.deepEqual(s.feed(syn2!, synack!), [
      { src: 0, dst: -1, overflow: 0 },
      { src: -1, dst: 0, overflow: 1 },
    ]);
    assert.equal(s.inv.counters().get('candidates'), 1);
    // The pump's ACK completes the handshake: both confirmed; the server gets its handle at this packet.
    assert.deepEqual(s.feed(ack!), [{ src: 0, dst: 1, overflow: 0 }]);
    assert.deepEqual(s.listed(), { [id(PUMP)]: 'tcp_handshake', [id(SRV)]: 'tcp_handshake' });
    assert.equal(s.inv.entry(1)!.first_seen, 2.0001, 'first seen when it waited in the table');
    const c = s.inv.counters().snapshot();
    assert.equal(c['candidates'], 0);
    assert.equal(c['candidate_packets'], 1);
  });

  it('a candidate without a handle that keeps sending (a scanner nobody answers) gets one at candidate_track_packets, unlisted', () => {
    const s = new Sensor({ max_unconfirmed_devices: 0, candidate_track_packets: 5 });
    const r = s.feed(...Array.from({ length: 7 }, (_, i) => tcp(1 + i * 0.01, PUMP, { ...SRV, port: 1000 + i }, SYN)));
    assert.deepEqual(
      r.map((x) => x.src),
      [-1, -1, -1, -1, 0, 0, 0],
    );
    assert.equal(s.inv.identity(0)!.first_seen, 1, 'first seen when it entered the table');
    assert.deepEqual(s.listed(), {});
    assert.equal(s.inv.counters().get('candidates_tracked'), 1);
  });

  it('a million spoofed sources beyond the pool cost the fixed table: evictions counted, a real host that sent twice survives', () => {
    const s = new Sensor({ max_unconfirmed_devices: 0, max_candidates: 64 });
    const real = { mac: '02:00:00:00:00:77', ip: '10.0.0.77', port: 5000 };
    s.feed(udp(0.5, real, { ...SRV, port: 514 }, 10), udp(0.6, real, { ...SRV, port: 514 }, 10));
    const p = tcp(1, PUMP, SRV, SYN);
    for (let i = 0; i < 100_000; i++) {
      p.eth_src = 0x020000000000 + i * 7919;
      p.ip_src = (0x0a000000 + 256 + i) >>> 0;
      p.ts_nsec = i * 1000;
      s.feed(p);
    }
    const c = s.inv.counters().snapshot();
    assert.equal(s.inv.size, 0);
    assert.equal(c['candidates'], 64);
    assert.equal(c['candidates_seen'], 100_001);
    assert.equal(c['candidates_evicted'], 100_001 - 64);
    assert.equal(c['sources_unconfirmed'], 100_001);
    // The real host's answer finds it still waiting: listed, first seen at its first packet.
    s.feed(udp(2, { ...SRV, port: 514 }, real, 10));
    assert.equal(s.listed()[id(real)], 'answered');
    assert.equal(s.inv.entry(s.inv.handleOf(id(real)))!.first_seen, 0.5);
  });

  it('the table: 4-way sets, evicts idle then least active entries', () => {
    const t = new CandidateTable(16);
    assert.equal(t.slots, 16);
    const a = t.note(1, 1, 0);
    t.note(1, 1, 0.1);
    assert.equal(t.count[a], 2);
    for (let i = 0; i < 1000; i++) t.note(2, i, 1 + i * 0.001);
    assert.equal(t.find(1, 1), a, 'an entry that sent twice outlives one-packet newcomers');
    assert.ok(t.size <= 16);
    t.note(3, 3, 100);
    for (let i = 0; i < 1000; i++) t.note(4, i, 100 + i * 0.001);
    assert.equal(t.find(1, 1), -1, 'idle for 60 s: evicted first');
  });
});

describe('DeviceInventory: saved and restored devices are confirmed', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-evidence-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves only the listed devices and their ARP bindings; reloads them with their evidence; a version 1 file loads as restored', () => {
    const s = new Sensor();
    s.feed(...handshake(1, PUMP, SRV), tcp(2, CAMERA, SRV, SYN));
    const file = join(dir, 'inventory.json');
    s.inv.save(file);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { schema_version: number; devices: { device_id: string; confirmed_by: string }[]; arp_bindings: [string, string][] };
    assert.equal(saved.schema_version, DEVICE_SCHEMA_VERSION);
    assert.deepEqual(
      saved.devices.map((d) => [d.device_id, d.confirmed_by]),
      [
        [id(PUMP), 'tcp_handshake'],
        [id(SRV), 'tcp_handshake'],
      ],
    );
    assert.deepEqual(saved.arp_bindings.map(([ip]) => ip).sort(), ['10.0.0.2', '10.0.0.7']); // not the camera's
    const back = DeviceInventory.load(file);
    assert.deepEqual(back.entries(), s.inv.entries());
    // Version 1 (before the evidence rule): no evidence fields; every device is confirmed as restored.
    const v1 = { ...saved, schema_version: 1, devices: saved.devices.map((d) => ({ ...d, schema_version: 1, confirmed_by: undefined, confirmed_at: undefined })) };
    writeFileSync(file, JSON.stringify(v1));
    const old = DeviceInventory.load(file);
    assert.deepEqual(
      old.entries().map((e) => [e.device_id, e.confirmed_by, e.confirmed_at]),
      [
        [id(PUMP), 'restored', 1],
        [id(SRV), 'restored', 1.0001],
      ],
    );
    writeFileSync(file, JSON.stringify({ ...saved, devices: [{ ...saved.devices[0], confirmed_by: 'hearsay' }] }));
    assert.throws(() => DeviceInventory.load(file), (e: unknown) => e instanceof ConfigError && e.field === 'inventory_state.devices.0.confirmed_by');
  });

  it('rejects invalid evidence options with the field named', () => {
    assert.throws(() => new DeviceInventory({ max_candidates: 4 }), (e: unknown) => e instanceof ConfigError && e.field === 'devices.max_candidates');
    assert.throws(() => new DeviceInventory({ candidate_track_packets: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'devices.candidate_track_packets');
  });
});
