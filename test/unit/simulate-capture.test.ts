/**
 * The simulator's output checked by tshark: valid (no malformed packets or error-level expert items, checksums on),
 * deterministic (same seed and options → same bytes), labels that match the packets (each attack's packets inside its
 * window, with the volume its kind implies), and device archetypes that really speak their protocols.
 *
 * Decode-as used: `-d tcp.port==11112,dicom` (tshark registers DICOM on 104 only). HL7 is dissected on 2575,
 * MQTT on 1883 and BACnet/IP on 47808 by default.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, DEFAULT_DEVICES, parseAttack, type SimulationLabels, type LabelAttack } from '../../src/simulate/index.js';
import { ALL_12_KINDS } from '../support/attacks.js';
import { requireTshark, tsharkFields, tsharkProblems, tsharkSummary } from '../support/tshark.js';

const ATTACKS = ALL_12_KINDS.map(parseAttack);

const SCAN_PORTS = new Set([21, 22, 23, 25, 53, 80, 104, 110, 135, 139, 143, 443, 445, 1433, 1883, 2575, 3306, 3389, 5000, 5900, 8080, 8443, 11112]);

interface Pkt {
  t: number;
  ethSrc: string;
  ethDst: string;
  ipSrc: string;
  ipDst: string;
  tcpFlags: number;
  tcpDport: number;
  udpDport: number;
  arpOp: number;
  arpSpa: string;
  dnsType: number;
  dnsName: string;
  frameLen: number;
}

describe('simulate: capture checked by tshark', function () {
  this.timeout(120_000);
  let dir = '';
  let pcap = '';
  let labels: SimulationLabels;
  let pkts: Pkt[] = [];
  const byName = new Map<string, { ip: string; mac: string }>();

  before(async function () {
    requireTshark(this);
    dir = mkdtempSync(join(tmpdir(), 'ww-simcap-'));
    pcap = join(dir, 'all.pcap');
    const summary = await simulate({ seed: 77, start: Date.parse('2026-01-05T10:00:00Z') / 1000, duration_s: 1200, devices: DEFAULT_DEVICES, attacks: ATTACKS, out: pcap, dicom_image_bytes: 2048 });
    assert.equal(summary.clamped_frames, 0, 'no behaviour emitted a frame in the past');
    labels = JSON.parse(readFileSync(join(dir, 'all.labels.json'), 'utf8')) as SimulationLabels;
    for (const d of labels.devices) byName.set(d.name, { ip: d.ip, mac: d.mac });
    const rows = tsharkFields(pcap, [
      'frame.time_epoch',
      'eth.src',
      'eth.dst',
      'ip.src',
      'ip.dst',
      'tcp.flags',
      'tcp.dstport',
      'udp.dstport',
      'arp.opcode',
      'arp.src.proto_ipv4',
      'dns.qry.type',
      'dns.qry.name',
      'frame.len',
    ]);
    // Only the outer header's values matter (ICMP errors quote an inner IP/UDP header): take the first occurrence.
    const first = (s: string | undefined): string => (s ?? '').split(',')[0] ?? '';
    pkts = rows.map((r) => ({
      t: Number(r[0]),
      ethSrc: first(r[1]),
      ethDst: first(r[2]),
      ipSrc: first(r[3]),
      ipDst: first(r[4]),
      tcpFlags: Number(first(r[5]) || -1),
      tcpDport: Number(first(r[6]) || -1),
      udpDport: Number(first(r[7]) || -1),
      arpOp: Number(first(r[8]) || -1),
      arpSpa: first(r[9]),
      dnsType: Number(first(r[10]) || -1),
      dnsName: first(r[11]),
      frameLen: Number(r[12]),
    }));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const attack = (kind: string): LabelAttack => {
    const a = labels.attacks.find((x) => x.kind === kind);
    assert.ok(a, `no ${kind} in labels`);
    return a;
  };
  const ipOf = (deviceId: string): string => labels.devices.find((d) => d.device_id === deviceId)?.ip ?? 'none';
  const macOf = (deviceId: string): string => labels.devices.find((d) => d.device_id === deviceId)?.mac ?? 'none';
  const inside = (a: LabelAttack, t: number): boolean => t >= a.start && t <= a.end;
  /** Asserts all matching packets lie in the window and returns how many there are. */
  const allInside = (a: LabelAttack, match: (p: Pkt) => boolean): number => {
    const m = pkts.filter(match);
    const out = m.filter((p) => !inside(a, p.t));
    assert.equal(out.length, 0, `${a.kind}: ${out.length} of ${m.length} packets outside [${a.start}, ${a.end}], first at ${out[0]?.t}`);
    return m.length;
  };
  const synOnly = (p: Pkt): boolean => p.tcpFlags >= 0 && (p.tcpFlags & 0x12) === 0x02;

  it('tshark finds no malformed packets, no error-level expert items, no bad checksums', () => {
    const { errors, malformed } = tsharkProblems(pcap, ['-d', 'tcp.port==11112,dicom']);
    assert.equal(errors, '');
    assert.equal(malformed, 0);
  });

  it('models TCP cleanly: no retransmission, lost segment, bad ACK or keep-alive; port reuse only in the SYN flood', () => {
    assert.deepEqual(tsharkFields(pcap, ['frame.number'], 'tcp.analysis.flags && !tcp.analysis.reused_ports'), []);
    const flood = attack('syn_flood');
    const reused = tsharkFields(pcap, ['frame.time_epoch'], 'tcp.analysis.reused_ports').map((r) => Number(r[0]));
    assert.ok(reused.every((t) => inside(flood, t)), 'port reuse outside the SYN flood');
  });

  it('writes frames in time order', () => {
    for (let i = 1; i < pkts.length; i++) assert.ok(pkts[i]!.t >= pkts[i - 1]!.t, `frame ${i + 1} goes back in time`);
    assert.ok(pkts.length > 10_000);
  });

  it('labels every device with the MAC and IP it uses on the wire (DHCP lease = label IP)', () => {
    const leases = tsharkFields(pcap, ['dhcp.hw.mac_addr', 'dhcp.ip.your'], 'dhcp.option.dhcp == 5');
    const leased = new Map(leases.map((r) => [r[0], r[1]]));
    const srcMacs = new Set(pkts.map((p) => p.ethSrc));
    for (const d of labels.devices) {
      assert.equal(d.device_id, `mac:${d.mac}`);
      assert.match(d.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      assert.ok(srcMacs.has(d.mac), `${d.name} (${d.mac}) never sends a frame`);
      if (d.archetype !== 'server' && d.archetype !== 'pacs') assert.equal(leased.get(d.mac), d.ip, `${d.name}: DHCP lease`);
    }
    assert.ok(!labels.devices.some((d) => d.mac === labels.network.gateway_mac), 'the gateway is not a device');
  });

  it('port_scan: the scanner SYNs to scan ports lie in its window, many of them', () => {
    const a = attack('port_scan');
    const ip = ipOf(a.device_id);
    const n = allInside(a, (p) => p.ipSrc === ip && synOnly(p) && SCAN_PORTS.has(p.tcpDport) && p.tcpDport !== 443);
    assert.ok(n >= 200, `only ${n} scan SYNs`);
  });

  it('slow_scan: one probe every 20–40 s inside the window', () => {
    const a = attack('slow_scan');
    const ip = ipOf(a.device_id);
    // A pump's only benign TCP is TLS to its server on 443; every other SYN is a probe.
    const n = allInside(a, (p) => p.ipSrc === ip && synOnly(p) && p.tcpDport !== 443);
    const dur = a.end - a.start;
    assert.ok(n >= dur / 40 - 1 && n <= dur / 20 + 1, `${n} probes in ${dur} s`);
  });

  it('syn_flood: hundreds of SYNs per second inside the window, benign rate outside', () => {
    const a = attack('syn_flood');
    const ip = ipOf(a.device_id);
    const syns = pkts.filter((p) => p.ipSrc === ip && synOnly(p) && p.tcpDport === 443);
    const inWin = syns.filter((p) => inside(a, p.t)).length;
    const outWin = syns.length - inWin;
    assert.ok(inWin / (a.end - a.start) > 100, `${inWin} SYNs in window`);
    assert.ok(outWin / (labels.options.duration_s - (a.end - a.start)) < 1, `${outWin} SYNs outside`);
  });

  it('udp_flood: the flood datagrams lie in the window', () => {
    const a = attack('udp_flood');
    const ip = ipOf(a.device_id);
    const n = allInside(a, (p) => p.ipSrc === ip && p.udpDport >= 40000 && p.udpDport <= 40999);
    assert.ok(n >= 200 * (a.end - a.start - 3), `${n} datagrams`);
  });

  it('exfiltration: all traffic with the external address in the window, mostly uploads', () => {
    const a = attack('exfiltration');
    const ip = ipOf(a.device_id);
    allInside(a, (p) => p.ipSrc === '198.51.100.77' || p.ipDst === '198.51.100.77');
    const up = pkts.filter((p) => p.ipSrc === ip && p.ipDst === '198.51.100.77').reduce((s, p) => s + p.frameLen, 0);
    assert.ok(up > 200_000, `${up} bytes uploaded`);
  });

  it('c2_beacon: connections to the C2 address at a fixed period inside the window', () => {
    const a = attack('c2_beacon');
    allInside(a, (p) => p.ipSrc === '198.51.100.23' || p.ipDst === '198.51.100.23');
    const syns = pkts.filter((p) => p.ipDst === '198.51.100.23' && synOnly(p)).map((p) => p.t);
    assert.ok(syns.length >= 8);
    for (let i = 1; i < syns.length; i++) assert.ok(Math.abs(syns[i]! - syns[i - 1]! - 30) < 1, `beacon gap ${syns[i]! - syns[i - 1]!}`);
  });

  it('dns_tunnel: TXT queries with long names only inside the window', () => {
    const a = attack('dns_tunnel');
    const ip = ipOf(a.device_id);
    const n = allInside(a, (p) => p.ipSrc === ip && p.dnsType === 16);
    assert.ok(n >= 2 * (a.end - a.start - 3), `${n} TXT queries`);
    const names = pkts.filter((p) => p.ipSrc === ip && p.dnsType === 16).map((p) => p.dnsName);
    assert.ok(names.every((q) => q.length > 80));
  });

  it('arp_spoof: replies claiming the gateway IP from the device MAC only inside the window', () => {
    const a = attack('arp_spoof');
    const mac = macOf(a.device_id);
    const n = allInside(a, (p) => p.arpOp === 2 && p.arpSpa === labels.network.gateway_ip && p.ethSrc !== labels.network.gateway_mac);
    assert.ok(n >= 20, `${n} spoofed replies`);
    assert.ok(pkts.filter((p) => p.arpOp === 2 && p.arpSpa === labels.network.gateway_ip && p.ethSrc !== labels.network.gateway_mac).every((p) => p.ethSrc === mac));
  });

  for (const kind of ['brute_force_telnet', 'brute_force_ssh']) {
    it(`${kind}: the new host exists only in the window and attacks the labelled victim`, () => {
      const a = attack(kind);
      assert.equal(a.related_device_ids.length, 1);
      const attacker = labels.devices.find((d) => d.device_id === a.related_device_ids[0]);
      assert.equal(attacker?.archetype, 'intruder');
      const n = allInside(a, (p) => p.ethSrc === attacker.mac || p.ethDst === attacker.mac);
      const port = kind === 'brute_force_ssh' ? 22 : 23;
      const logins = pkts.filter((p) => p.ipSrc === attacker.ip && p.ipDst === ipOf(a.device_id) && synOnly(p) && p.tcpDport === port).length;
      assert.ok(logins >= 5, `${logins} login connections`);
      assert.ok(n > 50);
    });
  }

  it('lateral_movement: SMB/RDP connection attempts from the device only inside the window', () => {
    const a = attack('lateral_movement');
    const ip = ipOf(a.device_id);
    const n = allInside(a, (p) => p.ipSrc === ip && synOnly(p) && (p.tcpDport === 445 || p.tcpDport === 3389));
    assert.ok(n >= 8, `${n} attempts`);
  });

  it('new_peer: the never-seen peer appears only inside the window, talking to the labelled device', () => {
    const a = attack('new_peer');
    const ip = ipOf(a.device_id);
    const n = allInside(a, (p) => p.ipSrc === '203.0.113.66' || p.ipDst === '203.0.113.66');
    assert.ok(n >= 10);
    assert.ok(pkts.filter((p) => p.ipDst === '203.0.113.66').every((p) => p.ipSrc === ip));
    const hl7 = tsharkFields(pcap, ['hl7.message.type'], 'ip.addr == 203.0.113.66 && hl7').length;
    assert.ok(hl7 > 0, 'a monitor speaks HL7 to the new peer');
  });

  it("every attack shows in its device's 10-second window features beyond anything its benign windows reach", () => {
    // Independent, simplified per-device window features (as src/features will compute them), from tshark fields.
    interface Win {
      pktsOut: number;
      bytesOut: number;
      synOut: number;
      synIn: number;
      extPeers: Set<string>;
      newPairs: number;
      arpSpoof: number;
      dnsEntropy: number[];
    }
    const entropy = (s: string): number => {
      const counts = new Map<string, number>();
      for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      let h = 0;
      for (const c of counts.values()) h -= (c / s.length) * Math.log2(c / s.length);
      return h;
    };
    const start = labels.options.start;
    const features = (mac: string, ip: string): Map<number, Win> => {
      const wins = new Map<number, Win>();
      const seenPairs = new Set<string>();
      const get = (t: number): Win => {
        const w = Math.floor((t - start) / 10);
        let x = wins.get(w);
        if (!x) wins.set(w, (x = { pktsOut: 0, bytesOut: 0, synOut: 0, synIn: 0, extPeers: new Set(), newPairs: 0, arpSpoof: 0, dnsEntropy: [] }));
        return x;
      };
      for (const p of pkts) {
        if (p.ethSrc === mac) {
          const w = get(p.t);
          w.pktsOut++;
          w.bytesOut += p.frameLen;
          if (synOnly(p)) {
            w.synOut++;
            const pair = `${p.ipDst}:${p.tcpDport}`;
            if (!seenPairs.has(pair)) w.newPairs++;
            seenPairs.add(pair);
          }
          if (p.ipDst && !p.ipDst.startsWith('10.20.') && p.ipDst !== '255.255.255.255') w.extPeers.add(p.ipDst);
          if (p.arpOp === 2 && p.arpSpa === labels.network.gateway_ip) w.arpSpoof++;
          if (p.ipSrc === ip && p.dnsName) w.dnsEntropy.push(entropy(p.dnsName.split('.')[0] ?? ''));
        } else if (p.ethDst === mac && synOnly(p)) get(p.t).synIn++;
      }
      return wins;
    };
    const measure: Record<string, (w: Win) => number> = {
      port_scan: (w) => w.synOut,
      slow_scan: (w) => w.newPairs,
      syn_flood: (w) => w.synOut,
      udp_flood: (w) => w.pktsOut,
      exfiltration: (w) => w.extPeers.size * 1e9 + w.bytesOut,
      c2_beacon: (w) => w.extPeers.size,
      dns_tunnel: (w) => (w.dnsEntropy.length ? w.dnsEntropy.reduce((a, b) => a + b, 0) / w.dnsEntropy.length : 0),
      arp_spoof: (w) => w.arpSpoof,
      brute_force_telnet: (w) => w.synIn,
      brute_force_ssh: (w) => w.synIn,
      lateral_movement: (w) => w.newPairs,
      new_peer: (w) => w.extPeers.size,
    };
    const warmup = 600; // "new" pairs are only meaningful once the device's history has been learned
    for (const a of labels.attacks) {
      const f = measure[a.kind];
      assert.ok(f, a.kind);
      const wins = features(macOf(a.device_id), ipOf(a.device_id));
      const involved = labels.attacks.filter((x) => x.device_id === a.device_id);
      let benignMax = 0;
      let attackMax = 0;
      for (const [w, x] of wins) {
        const ws = start + w * 10;
        const we = ws + 10;
        if (ws >= a.start && we <= a.end) attackMax = Math.max(attackMax, f(x));
        else if (ws >= start + warmup && !involved.some((i) => we > i.start && ws < i.end)) benignMax = Math.max(benignMax, f(x));
      }
      assert.ok(attackMax > benignMax, `${a.kind}: attack windows reach ${attackMax}, benign windows ${benignMax}`);
    }
  });

  it('patient monitors and lab analysers send HL7 ORU^R01 over MLLP and get ACKs', () => {
    const types = tsharkFields(pcap, ['hl7.message.type', 'hl7.event.type', 'tcp.dstport', 'tcp.srcport'], 'hl7').map((r) => `${r[0]}^${r[1]}`);
    assert.ok(types.filter((t) => t === 'ORU^R01').length > 100);
    assert.ok(types.filter((t) => t === 'ACK^R01').length > 100);
  });

  it('imaging speaks DICOM: A-ASSOCIATE-RQ/AC, P-DATA (C-STORE, C-FIND), A-RELEASE; reading workstations on 11112', () => {
    const rows = tsharkFields(pcap, ['dicom.pdu.type', 'dicom.assoc.ae.calling', 'tcp.dstport', 'tcp.srcport'], 'dicom', ['-d', 'tcp.port==11112,dicom']);
    const pdus = new Set(rows.flatMap((r) => (r[0] ?? '').split(',')).map((x) => Number(x)));
    for (const t of [1, 2, 4, 5, 6]) assert.ok(pdus.has(t), `PDU type ${t} missing`);
    const callers = new Set(rows.map((r) => (r[1] ?? '').trim()).filter(Boolean));
    assert.ok([...callers].some((c) => /^(CT|MR|DX)\d\d$/.test(c ?? '')), `calling AEs ${[...callers].join(' ')}`);
    assert.ok(rows.some((r) => r[2] === '11112'), 'C-FIND association on 11112');
    const info = tsharkSummary(pcap, 'dicom.pdu.type == 4', ['-d', 'tcp.port==11112,dicom']);
    for (const cmd of ['C-STORE-RQ', 'C-STORE-RSP', 'C-FIND-RQ', 'C-FIND-RSP']) assert.ok(info.some((i) => i.includes(cmd)), `${cmd} not seen`);
  });

  it('telemetry gateways speak MQTT: CONNECT, CONNACK, PUBLISH of vitals topics', () => {
    const rows = tsharkFields(pcap, ['mqtt.msgtype', 'mqtt.topic'], 'mqtt');
    const types = new Set(rows.flatMap((r) => (r[0] ?? '').split(',')));
    for (const t of ['1', '2', '3']) assert.ok(types.has(t), `MQTT type ${t}`);
    assert.ok(rows.some((r) => /vitals/.test(r[1] ?? '')));
  });

  it('building controllers speak BACnet/IP; devices use DHCP (options 12, 60, 50), DNS, NTP, TLS with SNI', () => {
    assert.ok(tsharkFields(pcap, ['bvlc.function'], 'bacapp').length > 50);
    const dhcp = tsharkFields(pcap, ['dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.requested_ip_address'], 'dhcp.option.dhcp == 3');
    assert.ok(dhcp.some((r) => r[0] && r[1] && r[2]));
    assert.ok(tsharkFields(pcap, ['ntp.flags.mode'], 'ntp').length > 20);
    const sni = new Set(tsharkFields(pcap, ['tls.handshake.extensions_server_name'], 'tls.handshake.type == 1').map((r) => r[0]));
    for (const n of ['pumpserver.sim-hospital.example', 'ehr.sim-hospital.example']) assert.ok(sni.has(n), `SNI ${n}`);
    assert.ok(tsharkFields(pcap, ['dns.qry.name'], 'dns.flags.response == 0').length > 50);
  });

  it('attack protocols are what tshark says: SMB2, RDP, telnet, SSH', () => {
    assert.ok(tsharkFields(pcap, ['smb2.cmd'], 'smb2').length > 0);
    assert.ok(tsharkFields(pcap, ['rdp.neg_type'], 'rdp').length > 0);
    assert.ok(tsharkFields(pcap, ['telnet.data'], 'telnet').length > 0);
    assert.ok(tsharkFields(pcap, ['ssh.protocol'], 'ssh.protocol').length > 0);
  });

  it('is deterministic: the same seed and options give the same bytes, another seed does not', async () => {
    const opts = { start: 1767596400, duration_s: 300, devices: DEFAULT_DEVICES, attacks: [parseAttack('port_scan@+150s/30s')] };
    await simulate({ ...opts, seed: 5, out: join(dir, 'a.pcap') });
    await simulate({ ...opts, seed: 5, out: join(dir, 'b.pcap') });
    await simulate({ ...opts, seed: 6, out: join(dir, 'c.pcap') });
    const a = readFileSync(join(dir, 'a.pcap'));
    assert.ok(a.equals(readFileSync(join(dir, 'b.pcap'))));
    assert.ok(readFileSync(join(dir, 'a.labels.json')).equals(readFileSync(join(dir, 'b.labels.json'))));
    assert.ok(!a.equals(readFileSync(join(dir, 'c.pcap'))));
  });

  it('pcapng with ns timestamps and an 802.1Q tag is read by tshark without errors and holds the same packets', async () => {
    const opts = { seed: 9, start: 1767596400, duration_s: 240, devices: { pump: 1, monitor: 1, telemetry: 1, bacnet: 1 }, attacks: [] };
    const p1 = await simulate({ ...opts, out: join(dir, 'v.pcap') });
    const p2 = await simulate({ ...opts, out: join(dir, 'v.pcapng'), format: 'pcapng', resolution: 'ns', vlan: 20 });
    assert.equal(p2.frames, p1.frames);
    const { errors, malformed } = tsharkProblems(join(dir, 'v.pcapng'));
    assert.equal(errors, '');
    assert.equal(malformed, 0);
    const vlans = new Set(tsharkFields(join(dir, 'v.pcapng'), ['vlan.id']).map((r) => r[0]));
    assert.deepEqual([...vlans], ['20']);
    const t1 = tsharkFields(join(dir, 'v.pcap'), ['frame.time_epoch']).map((r) => r[0]);
    const t2 = tsharkFields(join(dir, 'v.pcapng'), ['frame.time_epoch']).map((r) => r[0]);
    assert.deepEqual(t2, t1);
  });

  it('keeps memory bounded: frames waiting for output stay few whatever the duration', async () => {
    const s = await simulate({ seed: 3, start: 1767596400, duration_s: 2 * 3600, devices: { pump: 2, monitor: 2, imaging: 1, pacs: 1 }, attacks: [], out: join(dir, 'm.pcap'), dicom_image_bytes: 1024 });
    assert.ok(s.frames > 5 * s.max_pending_frames, `${s.max_pending_frames} pending of ${s.frames}`);
    assert.ok(s.max_pending_frames < 5000);
  });
});
