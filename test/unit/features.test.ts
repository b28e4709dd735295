import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import type { AnalysisPipelineOptions } from '../../src/pipeline/analysis.js';
import { renderFeatureDoc } from '../../src/features/schema-doc.js';
import type { FeatureName, FeatureWindow } from '../../src/records/features.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION } from '../../src/records/features.js';
import type { DecodedPacket } from '../../src/records/packet.js';
import { AppProto } from '../../src/records/packet.js';
import { ACK, FINACK, PSHACK, RST, RSTACK, SYN, SYNACK, arp, dnsQuery, tcp, udp } from '../support/packets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const SCANNER = { mac: '02:00:00:00:00:66', ip: '10.0.0.66', port: 61000 };
const SRV = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 80 };
const PUMP = { mac: '00:1a:01:00:00:07', ip: '10.0.0.7', port: 49152 };
const ROUTER = '02:00:00:00:00:fe';

function run(packets: DecodedPacket[], options: AnalysisPipelineOptions = {}): { windows: FeatureWindow[]; pipe: AnalysisPipeline } {
  const windows: FeatureWindow[] = [];
  const pipe = new AnalysisPipeline(options, { onWindow: (w) => windows.push(w) });
  for (const p of packets) pipe.process(p);
  pipe.flush();
  return { windows, pipe };
}

function vals(w: FeatureWindow | undefined): Record<FeatureName, number> {
  assert.ok(w, 'window exists');
  assert.equal(w.values.length, FEATURE_COUNT);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, w.values[i]])) as Record<FeatureName, number>;
}

function find(windows: FeatureWindow[], id: string, start: number): FeatureWindow | undefined {
  return windows.find((w) => w.device_id === id && w.window_start === start);
}

/** Population mean and standard deviation of the gaps between sorted times (ms), rounded as the extractor rounds. */
function gaps(timesSec: number[]): { mean: number; std: number } {
  const t = [...timesSec].sort((a, b) => a - b);
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push((t[i]! - t[i - 1]!) * 1000);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std };
}

describe('features: crafted captures with hand-computed values', () => {
  it('a TCP port scan: 100 ports, 2 open (SYN-ACK then scanner RST), 98 closed (RST-ACK)', () => {
    const pkts: DecodedPacket[] = [];
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const port = i + 1;
      const t = 1000 + i * 0.05;
      const target = { ...SRV, port };
      pkts.push(tcp(t, SCANNER, target, SYN));
      times.push(t, t + 0.001);
      if (port === 22 || port === 80) {
        pkts.push(tcp(t + 0.001, target, SCANNER, SYNACK));
        pkts.push(tcp(t + 0.002, SCANNER, target, RST));
        times.push(t + 0.002);
      } else {
        pkts.push(tcp(t + 0.001, target, SCANNER, RSTACK));
      }
    }
    // The target spoke first (so it is a known device when the scan starts).
    const { windows } = run([udp(999, { ...SRV, port: 123 }, { mac: ROUTER, ip: '10.0.0.1', port: 123 }, 48), ...pkts]);
    const s = vals(find(windows, 'mac:02:00:00:00:00:66', 1000));
    const g = gaps(times);
    assert.deepEqual(s, {
      pkts_out: 102,
      pkts_in: 100,
      bytes_out: 102 * 40,
      bytes_in: 100 * 40,
      pkt_size_mean_bytes: 40,
      pkt_size_std_bytes: 0,
      iat_mean_ms: Math.round(g.mean * 1e6) / 1e6,
      iat_std_ms: Math.round(g.std * 1e6) / 1e6,
      flows_started: 100,
      flows_accepted: 0,
      peers_internal: 1,
      peers_external: 0,
      dst_ports: 100,
      new_peers: 1,
      new_dst_ports: 100,
      tcp_syn: 100,
      tcp_synack_in: 2,
      tcp_rst: 100, // 98 received + 2 sent
      tcp_fin: 0,
      tcp_rejected: 98,
      tcp_half_open: 0,
      icmp_pkts: 0,
      arp_pkts: 0,
      arp_spoof_replies: 0,
      dns_queries: 0,
      dns_unique_names: 0,
      dns_name_entropy_bits: 0,
      dns_name_len_chars: 0,
      frac_tcp: 1,
      frac_udp: 0,
      frac_other: 0,
      hl7_msgs: 0,
      dicom_pdus: 0,
      mqtt_msgs: 0,
      // The target was known to the inventory but never contacted by the scanner: a new internal peer; the probes of
      // FTP 21, SSH 22 and telnet 23 are remote-access connections to it, and of those only SSH was accepted.
      new_peers_internal: 1,
      lateral_new_peer_conns: 3,
      login_conns_in: 0,
      login_conns_out: 1,
      beacon_peers: 0,
      sensor_overflow: 0,
      identity_changes: 0,
    });
    // iat check by hand for the telescoping mean: 202 packets from 1000.000 to 1004.951 → 4951 ms / 201 gaps.
    assert.equal(s.iat_mean_ms, Math.round((4951 / 201) * 1e6) / 1e6);
    const w = find(windows, 'mac:02:00:00:00:00:66', 1000)!;
    assert.deepEqual(w.new_peers, ['10.0.0.2']);
    assert.deepEqual(w.new_dst_ports, Array.from({ length: 16 }, (_, i) => i + 1));
    assert.deepEqual([w.window_start, w.window_end, w.feature_schema_version], [1000, 1010, FEATURE_SCHEMA_VERSION]);
    const t = vals(find(windows, 'mac:02:00:00:00:00:02', 1000));
    assert.deepEqual(
      [t.pkts_in, t.pkts_out, t.flows_accepted, t.flows_started, t.tcp_syn, t.tcp_synack_in, t.tcp_rst, t.new_peers, t.tcp_rejected],
      [102, 100, 100, 0, 0, 0, 100, 1, 0],
    );
  });

  it('a SYN flood from 1000 spoofed external sources: flows stay bounded, overflow is a feature', () => {
    const pkts: DecodedPacket[] = [udp(1999, { ...SRV, port: 123 }, { mac: ROUTER, ip: '10.0.0.1', port: 123 }, 48)];
    for (let i = 0; i < 1000; i++) {
      const src = { mac: ROUTER, ip: `203.0.${113 + (i >> 8)}.${i & 255}`, port: 1024 + i };
      const t = 2000 + i * 0.005;
      pkts.push(tcp(t, src, SRV, SYN));
      pkts.push(tcp(t + 0.001, SRV, src, SYNACK));
    }
    const { windows, pipe } = run(pkts, { flows: { max_flows: 64 } });
    const v = vals(find(windows, 'mac:02:00:00:00:00:02', 2000));
    assert.deepEqual(
      [v.pkts_in, v.pkts_out, v.bytes_in, v.flows_accepted, v.flows_started, v.peers_external, v.peers_internal, v.new_peers],
      [1000, 1000, 40000, 1000, 0, 1000, 0, 1000],
    );
    assert.deepEqual([v.tcp_syn, v.tcp_synack_in, v.tcp_half_open, v.frac_tcp], [0, 0, 0, 1]);
    // 64 slots: the NTP flow and the first 63 flood flows fit; each of the other 937 SYNs evicted one.
    assert.equal(v.sensor_overflow, 937);
    assert.equal(pipe.flows.evictions, 937);
    // Spoofed external sources are no devices; the router is a gateway.
    assert.equal(pipe.inventory.size, 1);
    assert.deepEqual(
      windows.map((w) => w.device_id),
      ['mac:02:00:00:00:00:02', 'mac:02:00:00:00:00:02'],
    );
    const m = pipe.metrics();
    assert.equal(m['flows_evicted'], 937);
    assert.equal(m['flows_active'], 0);
  });

  it('an ARP spoof: replies claiming the pump\'s IP from another MAC', () => {
    const attacker = { mac: SCANNER.mac, ip: SCANNER.ip };
    const { windows } = run([
      udp(3000, { ...SRV, port: 123 }, { ...PUMP, port: 123 }, 48),
      udp(3000.2, { ...PUMP, port: 123 }, { ...SRV, port: 123 }, 48),
      arp(3000.5, 1, attacker, { ip: '10.0.0.2' }),
      arp(3001, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      arp(3002, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      arp(3003, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      arp(3004, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
      arp(3005, 2, { mac: attacker.mac, ip: PUMP.ip }, SRV),
    ]);
    const a = vals(find(windows, 'mac:02:00:00:00:00:66', 3000));
    // Gaps 500, 1000, 1000, 1000, 1000 ms: mean 900, std sqrt((500²+4·1000²)/5 − 900²) = 200.
    assert.deepEqual(
      [a.pkts_out, a.pkts_in, a.bytes_out, a.arp_pkts, a.arp_spoof_replies, a.frac_other, a.iat_mean_ms, a.iat_std_ms, a.new_peers],
      [6, 0, 252, 6, 5, 1, 900, 200, 0],
    );
    const s = vals(find(windows, 'mac:02:00:00:00:00:02', 3000));
    assert.deepEqual([s.pkts_in, s.arp_pkts, s.arp_spoof_replies], [6, 0, 0]);
  });

  it('a DNS tunnel: 20 high-entropy query names beside one ordinary name', () => {
    const ws = { mac: '02:00:00:00:00:50', ip: '10.0.0.50', port: 40000 };
    const resolver = { mac: '02:00:00:00:00:53', ip: '10.0.0.53' };
    const alphabet = 'abcdefghijklmnop';
    const pkts: DecodedPacket[] = [];
    for (let i = 0; i < 20; i++) {
      // 16 distinct characters in each label (a rotation): exactly 4 bits per character; name length 16 + 14 = 30.
      const label = alphabet.slice(i % 16) + alphabet.slice(0, i % 16);
      pkts.push(dnsQuery(4000 + i * 0.1, ws, resolver, `${label}.t${i >= 16 ? 'x' : ''}.example.com`.replace('.tx.', '.u.')));
    }
    pkts.push(dnsQuery(4003, ws, resolver, 'www.example.com'));
    const { windows } = run(pkts);
    const v = vals(find(windows, 'mac:02:00:00:00:00:50', 4000));
    assert.equal(v.dns_queries, 21);
    assert.equal(v.dns_unique_names, 21);
    assert.equal(v.dns_name_entropy_bits, Math.round((80 / 21) * 1e6) / 1e6); // 20 × 4 bits + 'www' 0 bits
    assert.equal(v.dns_name_len_chars, Math.round((615 / 21) * 1e6) / 1e6); // 20 × 30 + 15
    assert.deepEqual([v.flows_started, v.dst_ports, v.new_dst_ports, v.peers_internal, v.frac_udp], [1, 1, 1, 1, 1]);
  });

  it('a normal session across a window boundary; an unanswered SYN counts as half-open when it ends', () => {
    const C = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 40000 };
    const pkts = [
      tcp(105, C, SRV, SYN),
      tcp(105.01, SRV, C, SYNACK),
      tcp(105.02, C, SRV, ACK),
      tcp(109.5, C, SRV, PSHACK, 200),
      tcp(110, SRV, C, PSHACK, 1000), // exactly at the boundary: next window
      tcp(110.5, C, { ...SRV, port: 443 }, SYN), // never answered
      tcp(111, C, SRV, FINACK),
      tcp(111.01, SRV, C, FINACK),
      tcp(111.02, C, SRV, ACK),
      udp(125, { ...C, port: 5000 }, { ...SRV, port: 514 }, 100), // t=125: the SYN (idle since 110.5 > 10 s) ends as S0
    ];
    const { windows } = run(pkts);
    const w1 = vals(find(windows, 'mac:02:00:00:00:00:01', 100));
    assert.deepEqual(
      [w1.pkts_out, w1.pkts_in, w1.bytes_out, w1.bytes_in, w1.flows_started, w1.tcp_syn, w1.tcp_synack_in, w1.tcp_fin],
      [3, 1, 320, 40, 1, 1, 1, 0],
    );
    // Sizes 40, 40, 40, 240: mean 90, std sqrt((3·50² + 150²)/4) = 86.602540.
    assert.equal(w1.pkt_size_mean_bytes, 90);
    assert.equal(w1.pkt_size_std_bytes, Math.round(Math.sqrt((3 * 2500 + 22500) / 4) * 1e6) / 1e6);
    const w2 = vals(find(windows, 'mac:02:00:00:00:00:01', 110));
    assert.deepEqual(
      [w2.pkts_out, w2.pkts_in, w2.flows_started, w2.dst_ports, w2.new_dst_ports, w2.tcp_syn, w2.tcp_fin, w2.tcp_half_open],
      [3, 2, 1, 1, 1, 1, 2, 0],
    );
    const w3 = vals(find(windows, 'mac:02:00:00:00:00:01', 120));
    assert.deepEqual([w3.pkts_out, w3.tcp_half_open, w3.flows_started, w3.new_dst_ports, w3.new_peers], [1, 1, 1, 1, 0]);
    assert.equal(windows.length, 6); // client and server, three windows each (the server receives the syslog packet)
  });

  it('counts HL7, DICOM and MQTT messages by their metadata', () => {
    const pkts = [
      udp(50, { ...PUMP, port: 1 }, { ...SRV, port: 2575 }, 10, AppProto.HL7, { hl7_msg_type: 'ORU^R01', hl7_sending_app: 'PUMP' }),
      udp(50.1, { ...PUMP, port: 1 }, { ...SRV, port: 2575 }, 10, AppProto.HL7, {}),
      udp(50.2, { ...PUMP, port: 1 }, { ...SRV, port: 104 }, 10, AppProto.DICOM, { dicom_pdu_type: 1 }),
      udp(50.3, { ...PUMP, port: 1 }, { ...SRV, port: 1883 }, 10, AppProto.MQTT, { mqtt_msg_type: 3, mqtt_topic: 't' }),
    ];
    const v = vals(run(pkts).windows.find((w) => w.device_id === 'mac:00:1a:01:00:00:07'));
    // The two HL7 packets share one flow: 3 flows, 3 responder ports.
    assert.deepEqual([v.hl7_msgs, v.dicom_pdus, v.mqtt_msgs, v.dst_ports], [1, 1, 1, 3]);
  });

  it('windows depend on packet time only: the same packets give identical windows', () => {
    const mk = (): DecodedPacket[] => {
      const out: DecodedPacket[] = [];
      for (let i = 0; i < 300; i++) out.push(udp(7000 + i * 0.37, { ...PUMP, port: 2000 + (i % 7) }, { ...SRV, port: 2575 }, 10 + (i % 13)));
      return out;
    };
    const a = run(mk()).windows;
    const b = run(mk()).windows;
    assert.equal(a.length, 12); // 7000 … 7110.63 s: windows 7000 … 7110 of the pump (the server never sends: no device)
    assert.deepEqual(a, b);
    assert.ok(a.every((w) => w.window_end - w.window_start === 10 && w.window_start % 10 === 0));
    const five = run(mk(), { features: { window_ms: 5000 } }).windows;
    assert.ok(five.every((w) => w.window_end - w.window_start === 5));
  });
});

describe('feature schema', () => {
  it('docs/features.md is generated from FEATURE_SCHEMA and up to date (run: node dist/scripts/gen-feature-doc.js)', () => {
    const committed = readFileSync(resolve(repoRoot, 'docs', 'features.md'), 'utf8');
    assert.equal(committed, renderFeatureDoc());
    for (const f of FEATURE_SCHEMA) assert.ok(committed.includes(`| \`${f.name}\` | ${f.unit} |`), f.name);
  });

  it('the extractor emits exactly the schema: one value per feature, in order, all finite', () => {
    const { windows } = run([tcp(1, PUMP, SRV, SYN), tcp(1.5, SRV, PUMP, SYNACK), dnsQuery(2, PUMP, SRV, 'a.b')]);
    assert.ok(windows.length > 0);
    for (const w of windows) {
      assert.equal(w.values.length, FEATURE_SCHEMA.length);
      assert.ok(w.values.every((x) => Number.isFinite(x)));
    }
    // Every feature's unit and meaning is documented.
    for (const f of FEATURE_SCHEMA) assert.ok(f.meaning.length > 10 && f.unit.length > 0, f.name);
  });

  it('beacon_peers: a peer taken up after the settle time, reached at a regular rhythm (±20 % jitter), counts from its 4th start', () => {
    const C2 = { mac: ROUTER, ip: '203.0.113.9', port: 443 };
    const NTP = { mac: ROUTER, ip: '192.0.2.123', port: 123 };
    const opts = { features: { beacon_settle_ms: 600_000 } };
    const jitter = [0, 1.15, 0.85, 1.2, 0.9, 1.1];
    const starts: number[] = [];
    let t = 2000;
    for (const j of jitter) starts.push((t += 120 * j));
    const pkts: DecodedPacket[] = [
      // The device's regular server from its first packet (never "taken up later")…
      ...Array.from({ length: 60 }, (_, i) => udp(1000 + 60 * i, { ...PUMP, port: 123 }, NTP, 48)),
      // …and a new external peer every ~2 min from t = 2120 s (more than 600 s after the device's first packet).
      ...starts.map((s, i) => tcp(s, { ...PUMP, port: 50000 + i }, C2, SYN)),
    ].sort((x, y) => x.ts_sec + x.ts_nsec / 1e9 - (y.ts_sec + y.ts_nsec / 1e9));
    const { windows } = run(pkts, opts);
    const beacon = (w: FeatureWindow) => vals(w).beacon_peers;
    const at = (s: number) => windows.find((w) => w.device_id === `mac:${PUMP.mac}` && w.window_start <= s && s < w.window_end)!;
    assert.deepEqual(starts.map((s) => beacon(at(s))), [0, 0, 0, 1, 1, 1]);
    assert.equal(windows.filter((w) => w.device_id === `mac:${PUMP.mac}`).reduce((n, w) => n + beacon(w), 0), 3, 'NTP every 60 s is the device\'s own server');
    // Irregular contacts (intervals 20 s, 200 s, 45 s) never count; nor does a regular peer taken up before the settle time.
    const irregular = [2000, 2020, 2220, 2265, 2300].map((s, i) => tcp(s, { ...PUMP, port: 51000 + i }, C2, SYN));
    assert.equal(run([udp(1000, { ...PUMP, port: 123 }, NTP, 48), ...irregular], opts).windows.reduce((n, w) => n + vals(w).beacon_peers, 0), 0);
    const early = [1100, 1160, 1220, 1280, 1340].map((s, i) => tcp(s, { ...PUMP, port: 52000 + i }, C2, SYN));
    assert.equal(run([udp(1000, { ...PUMP, port: 123 }, NTP, 48), ...early], opts).windows.reduce((n, w) => n + vals(w).beacon_peers, 0), 0);
  });
});
