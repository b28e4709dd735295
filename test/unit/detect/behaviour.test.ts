/**
 * The baseline-free behavioural detectors (src/detect/behaviour/): each rule on crafted windows (fires on the pattern,
 * stays quiet just below its threshold and on the benign synthetic device), and the Detector's rule incidents (one
 * alert per burst, severity, gap, startup grace, state hand-over, no model needed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BehaviourRules, type RollingWindow } from '../../../src/detect/behaviour/rules.js';
import { Detector, ModelStore, parseDetectConfig } from '../../../src/detect/index.js';
import { sourceSegment } from '../../../src/detect/detector.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION, type FeatureWindow } from '../../../src/records/index.js';
import { benignWindows } from '../../support/synthetic-windows.js';

const D = 'mac:02:00:00:00:00:07';
const T0 = 1_767_225_600;

function values(set: Record<string, number>): number[] {
  const v = new Array<number>(FEATURE_COUNT).fill(0);
  for (const [k, x] of Object.entries(set)) {
    const i = FEATURE_NAMES.indexOf(k);
    assert.ok(i >= 0, k);
    v[i] = x;
  }
  return v;
}

function win(start: number, set: Record<string, number>, device = D): FeatureWindow {
  return {
    schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    device_id: device,
    sensor_id: 's',
    run_id: '',
    window_start: start,
    window_end: start + 10,
    values: values(set),
    new_peers: [],
    new_dst_ports: [],
  };
}

const rules = new BehaviourRules(parseDetectConfig().behaviour);
const kinds = (set: Record<string, number>, settled = true, recent: RollingWindow[] = []) => rules.evaluate(values(set), T0, recent, settled).map((h) => h.kind);

describe('detect: behavioural rules', () => {
  it('port scan: ≥ 15 destination ports with probe evidence (SYNs, rejected probes, or UDP); not mid-stream pick-ups', () => {
    assert.deepEqual(kinds({ dst_ports: 1000, tcp_syn: 1994, flows_started: 1997 }), ['port_scan']); // SYN scan
    assert.deepEqual(kinds({ dst_ports: 1000, tcp_rejected: 1000, tcp_fin: 1000 }), ['port_scan']); // XMAS scan
    assert.deepEqual(kinds({ dst_ports: 300, frac_udp: 0.9 }), ['port_scan']); // UDP scan
    assert.deepEqual(kinds({ dst_ports: 14, tcp_syn: 14 }), []);
    assert.deepEqual(kinds({ dst_ports: 60, frac_tcp: 1 }), [], 'a server side picked up mid-stream has neither SYNs nor rejections');
    const [hit] = rules.evaluate(values({ dst_ports: 1000, tcp_syn: 1000 }), T0, [], true);
    assert.equal(hit?.score, 1000 / 15);
    assert.match(hit?.text ?? '', /1,000 destination ports/);
  });

  it('host sweep: ≥ 10 new internal hosts (after the startup grace), ≥ 25 external hosts with ≤ 25 % of SYNs answered, or ≥ 25 ARP requests', () => {
    assert.deepEqual(kinds({ new_peers_internal: 17, peers_internal: 18, icmp_pkts: 37, frac_other: 1 }), ['host_sweep']);
    assert.deepEqual(kinds({ new_peers_internal: 17, peers_internal: 18 }, false), [], 'every peer is new while the sensor starts');
    assert.deepEqual(kinds({ peers_external: 35, tcp_syn: 48, tcp_synack_in: 2 }), ['host_sweep']); // worm-style
    assert.deepEqual(kinds({ peers_external: 35, tcp_syn: 48, tcp_synack_in: 40 }), [], 'a browser reaching many answered hosts');
    assert.deepEqual(kinds({ new_peers_internal: 9 }), []);
    // ARP sweep: requests for many addresses (not the spoofed replies of an ARP poisoner, its own rule's).
    assert.deepEqual(kinds({ arp_pkts: 254, frac_other: 1 }), ['host_sweep']);
    assert.deepEqual(kinds({ arp_pkts: 24, frac_other: 1 }), []);
    assert.ok(!kinds({ arp_pkts: 36, arp_spoof_replies: 30 }).includes('host_sweep'));
  });

  it('flood: ≥ 500 SYNs mostly unanswered, or ≥ 1,000 connections accepted in a window', () => {
    assert.deepEqual(kinds({ tcp_syn: 3000, tcp_synack_in: 128 }), ['flood']);
    assert.deepEqual(kinds({ tcp_syn: 3000, tcp_synack_in: 2900 }), []);
    assert.deepEqual(kinds({ flows_accepted: 5000, pkts_in: 5000 }), ['flood']);
    assert.deepEqual(kinds({ flows_accepted: 999 }), []);
  });

  it('ARP spoofing and brute force sum over their horizon (a slow spoofer or guesser is caught)', () => {
    const recent: RollingWindow[] = [];
    const seq = (set: Record<string, number>, n: number, step = 10) => Array.from({ length: n }, (_, i) => rules.evaluate(values(set), T0 + i * step, recent, true).map((h) => h.kind));
    assert.deepEqual(seq({ arp_spoof_replies: 1 }, 5).map((k) => k.join()), ['', '', '', '', 'arp_spoof']);
    recent.length = 0;
    // One telnet login attempt every 10 s against the device: the 8th within 120 s alerts.
    assert.deepEqual(seq({ login_conns_in: 1 }, 8).map((k) => k.join()), ['', '', '', '', '', '', '', 'brute_force']);
    recent.length = 0;
    // The same attempts 30 s apart never reach 8 within 120 s.
    assert.ok(seq({ login_conns_in: 1 }, 12, 30).every((k) => k.length === 0));
  });

  it('DNS tunnel: many distinct long high-entropy names; a busy resolver client with short names is not one', () => {
    assert.deepEqual(kinds({ dns_queries: 40, dns_unique_names: 40, dns_name_len_chars: 95, dns_name_entropy_bits: 4.7 }), ['dns_tunnel']);
    assert.deepEqual(kinds({ dns_queries: 40, dns_unique_names: 40, dns_name_len_chars: 22, dns_name_entropy_bits: 3.0 }), []);
    assert.deepEqual(kinds({ dns_queries: 40, dns_unique_names: 3, dns_name_len_chars: 95, dns_name_entropy_bits: 4.7 }), [], 'the same names again');
  });

  it('lateral movement (one connection is enough) and beaconing wait for the startup grace; a scan explains lateral connections', () => {
    assert.deepEqual(kinds({ lateral_new_peer_conns: 1 }), ['lateral_movement']);
    assert.deepEqual(kinds({ lateral_new_peer_conns: 1 }, false), []);
    assert.deepEqual(kinds({ dst_ports: 1000, tcp_syn: 1000, lateral_new_peer_conns: 8 }), ['port_scan']);
    assert.deepEqual(kinds({ beacon_peers: 1 }), ['beaconing']);
    assert.deepEqual(kinds({ beacon_peers: 1 }, false), []);
  });

  it('no rule fires on a synthetic benign device for a day (8,640 windows)', () => {
    const recent: RollingWindow[] = [];
    const fired = benignWindows({ device_id: D, seed: 5, count: 8640 }).flatMap((w) => rules.evaluate(w.values, w.window_start, recent, true));
    assert.deepEqual(fired, []);
  });

  it('rules can be switched off one by one', () => {
    const off = new BehaviourRules(parseDetectConfig({ behaviour: { port_scan: { enabled: false } } }).behaviour);
    assert.deepEqual(off.evaluate(values({ dst_ports: 300, frac_udp: 0.9 }), T0, [], true), []);
    assert.throws(() => parseDetectConfig({ behaviour: { port_scan: { min_port: 3 } } }), /detect\.behaviour\.port_scan/);
  });
});

describe('detect: Detector runs the behavioural rules on every device, without a model', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-behaviour-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a burst is one incident (one alert, re-emitted only when severity rises); after the gap a new one opens; state survives a hand-over', async () => {
    const config = parseDetectConfig({ models_dir: join(dir, 'empty'), startup_grace_s: 0 });
    const detector = await Detector.open(config, new ModelStore(join(dir, 'empty')));
    const scan = (t: number, ports: number) => win(t, { dst_ports: ports, tcp_syn: ports, pkts_out: ports });
    const quiet = (t: number) => win(t, { pkts_out: 3, pkts_in: 3 });
    const lookup = () => ({ device_class: 'infusion_pump' as const, criticality: 'life_critical' as const, name: 'pump-7', vendor: '', first_seen: T0 });
    const out1 = await detector.score([scan(T0, 30), scan(T0 + 10, 40), quiet(T0 + 20), scan(T0 + 30, 2000)], lookup);
    const scans = out1.alerts.filter((a) => a.kind === 'port_scan');
    // Opened at 30 ports (score 1.2 → the rule floor: high, life-critical → critical); 2,000 ports do not raise it further.
    assert.equal(scans.length, 1);
    assert.equal(scans[0]?.severity, 'critical');
    assert.equal(scans[0]?.since, T0);
    assert.equal(scans[0]?.model, 'rule:port_scan');
    assert.equal(scans[0]?.device_name, 'pump-7');
    assert.match(scans[0]?.summary ?? '', /port scan: 30 destination ports/);
    assert.equal(out1.alerts.filter((a) => a.kind === 'new_device').length, 1, 'still announced as new (it has no model)');
    assert.ok(out1.scores.every((s) => s.learning), 'no model scored it');
    // Hand the device's state to another detector: the open incident continues (same id, no new alert).
    const other = await Detector.open(config, new ModelStore(join(dir, 'empty')));
    other.restoreState(detector.exportState());
    const out2 = await other.score([scan(T0 + 60, 50)], lookup);
    assert.deepEqual(out2.alerts.filter((a) => a.kind === 'port_scan'), []);
    // More than incident_gap_s (120 s) later: a new incident, a new id.
    const out3 = await other.score([scan(T0 + 300, 50)], lookup);
    const again = out3.alerts.filter((a) => a.kind === 'port_scan');
    assert.equal(again.length, 1);
    assert.notEqual(again[0]?.alert_id, scans[0]?.alert_id);
    assert.ok(other.alertedRanges().some((r) => r.since === T0 + 300), 'rule incidents are excluded from the next training');
  });

  it('startup grace: a sweep in the first minutes (every peer is new to a starting sensor) is not alerted', async () => {
    const config = parseDetectConfig({ models_dir: join(dir, 'empty') });
    const detector = await Detector.open(config, new ModelStore(join(dir, 'empty')));
    const sweep = (t: number) => win(t, { new_peers_internal: 30, peers_internal: 30 });
    const early = await detector.score([sweep(T0), sweep(T0 + 100)], () => undefined);
    assert.deepEqual(early.alerts.filter((a) => a.kind === 'host_sweep'), []);
    const later = await detector.score([sweep(T0 + 400)], () => undefined);
    assert.equal(later.alerts.filter((a) => a.kind === 'host_sweep').length, 1);
  });

  it('a flood alert names the segment its sources are in', () => {
    assert.equal(sourceSegment(['10.20.1.5', '10.20.7.9', '10.20.255.1']), '10.20.0.0/16');
    assert.equal(sourceSegment(['10.20.1.5', '10.20.1.9']), '10.20.1.0/24');
    assert.equal(sourceSegment(['10.1.1.1', '172.16.0.1']), 'several networks (e.g. 10.1.1.1, 172.16.0.1)');
  });
});
