/**
 * Baseline-free behavioural detectors: what is anomalous on any device, whatever its baseline (a scan, a flood, ARP
 * poisoning, brute force, a DNS tunnel, a remote-access connection to a host the device never talked to, beaconing to
 * a peer it took up later). Each rule reads one device's feature window and, for the slow ones, a rolling sum over the
 * device's recent windows; it needs no model, so it runs on every device from its first window — a quiet device with
 * too few windows for a model of its own is watched by these from the start.
 *
 * A rule that matches gives a `RuleHit`: the kind (an alert kind of its own), the measure ÷ the rule's threshold (the
 * alert's score), the evidence as feature contributions, and one sentence. Incidents (one alert per burst, updated
 * while it lasts) are kept by the Detector. Rules, parameters and why: src/detect/README.md "Behavioural detectors".
 */
import { featureIndex, type BehaviourAlertKind, type FeatureContribution, type FeatureName } from '../../records/index.js';
import type { BehaviourConfig } from './config.js';

const ix = featureIndex;
const F = {
  dst_ports: ix('dst_ports'),
  flows_started: ix('flows_started'),
  flows_accepted: ix('flows_accepted'),
  tcp_syn: ix('tcp_syn'),
  tcp_synack_in: ix('tcp_synack_in'),
  tcp_rejected: ix('tcp_rejected'),
  frac_udp: ix('frac_udp'),
  frac_other: ix('frac_other'),
  icmp_pkts: ix('icmp_pkts'),
  peers_external: ix('peers_external'),
  new_peers_internal: ix('new_peers_internal'),
  arp_pkts: ix('arp_pkts'),
  arp_spoof_replies: ix('arp_spoof_replies'),
  login_conns_in: ix('login_conns_in'),
  login_conns_out: ix('login_conns_out'),
  dns_queries: ix('dns_queries'),
  dns_unique_names: ix('dns_unique_names'),
  dns_name_len_chars: ix('dns_name_len_chars'),
  dns_name_entropy_bits: ix('dns_name_entropy_bits'),
  lateral_new_peer_conns: ix('lateral_new_peer_conns'),
  beacon_peers: ix('beacon_peers'),
  pkts_in: ix('pkts_in'),
} as const;

/** A window's counts of the slow rules: `v` = [arp_spoof_replies, login_conns_in, login_conns_out]. */
export interface RollingWindow {
  t: number;
  v: number[];
}

/** What a rule found in one window. */
export interface RuleHit {
  kind: BehaviourAlertKind;
  /** The rule's measure ÷ its threshold (≥ 1). */
  score: number;
  threshold: number;
  /** One sentence without the device name. */
  text: string;
  evidence: FeatureContribution[];
}

const NONE: RuleHit[] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ev = (feature: FeatureName, observed: number, expected: number, text: string): FeatureContribution => ({ feature, observed, expected, share: 0, text });

/**
 * The rules, evaluated on one device's window. `recent` holds the device's own rolling sums state (updated here);
 * `settled` is false during the detector's startup grace, when every peer looks new (the rules that count new peers
 * wait for it).
 */
export class BehaviourRules {
  private readonly horizon: number;

  constructor(readonly config: BehaviourConfig) {
    this.horizon = Math.max(config.arp_spoof.horizon_s, config.brute_force.horizon_s);
  }

  /**
   * Appends the window's slow-rule counts to `recent` when any is non-zero (the sums need no zero rows) and drops what
   * is past the horizon.
   */
  private roll(recent: RollingWindow[], start: number, values: readonly number[]): void {
    const a = values[F.arp_spoof_replies] ?? 0;
    const i = values[F.login_conns_in] ?? 0;
    const o = values[F.login_conns_out] ?? 0;
    if (a > 0 || i > 0 || o > 0) recent.push({ t: start, v: [a, i, o] });
    while (recent.length > 0 && (recent[0] as RollingWindow).t <= start - this.horizon) recent.shift();
  }

  /** Sum of rolling column k over the windows starting after `start` − horizon. */
  private static sum(recent: readonly RollingWindow[], k: number, start: number, horizon: number): number {
    let s = 0;
    for (const r of recent) if (r.t > start - horizon) s += r.v[k] ?? 0;
    return s;
  }

  /** Whether any rule could match this window (most windows: no), checked before anything is built. */
  private quiet(v: readonly number[]): boolean {
    const c = this.config;
    return (
      (v[F.dst_ports] ?? 0) < c.port_scan.min_ports &&
      (v[F.new_peers_internal] ?? 0) < c.host_sweep.min_new_internal_peers &&
      (v[F.peers_external] ?? 0) < c.host_sweep.min_external_peers &&
      (v[F.arp_pkts] ?? 0) < c.host_sweep.min_arp_requests &&
      (v[F.tcp_syn] ?? 0) < c.flood.min_syn &&
      (v[F.flows_accepted] ?? 0) < c.flood.min_accepted &&
      (v[F.arp_spoof_replies] ?? 0) === 0 &&
      (v[F.login_conns_in] ?? 0) === 0 &&
      (v[F.login_conns_out] ?? 0) === 0 &&
      (v[F.dns_queries] ?? 0) < c.dns_tunnel.min_queries &&
      (v[F.lateral_new_peer_conns] ?? 0) === 0 &&
      (v[F.beacon_peers] ?? 0) === 0
    );
  }

  evaluate(values: readonly number[], windowStart: number, recent: RollingWindow[], settled: boolean): RuleHit[] {
    this.roll(recent, windowStart, values);
    if (this.quiet(values)) return NONE;
    const v = (i: number) => values[i] ?? 0;
    const c = this.config;
    const hits: RuleHit[] = [];

    // Vertical scan: many destination ports, with probe evidence (SYNs or rejected probes for TCP, mostly UDP
    // otherwise). Mid-stream pick-ups (a server's side of long connections seen first) have neither.
    let scanned = false;
    const ports = v(F.dst_ports);
    if (c.port_scan.enabled && ports >= c.port_scan.min_ports && (v(F.tcp_syn) + v(F.tcp_rejected) >= ports / 2 || v(F.frac_udp) >= 0.5)) {
      scanned = true;
      const udp = v(F.frac_udp) >= 0.5;
      hits.push({
        kind: 'port_scan',
        score: ports / c.port_scan.min_ports,
        threshold: c.port_scan.min_ports,
        text: `port scan: ${fmt(ports)} destination ports in one window (${udp ? 'mostly UDP' : `${fmt(v(F.tcp_syn))} SYNs sent, ${fmt(v(F.tcp_synack_in))} answered, ${fmt(v(F.tcp_rejected))} rejected`}); rule: ≥ ${c.port_scan.min_ports} ports`,
        evidence: [ev('dst_ports', ports, c.port_scan.min_ports, `${fmt(ports)} destination ports; rule ≥ ${c.port_scan.min_ports}`), ev('tcp_rejected', v(F.tcp_rejected), 0, `${fmt(v(F.tcp_rejected))} rejected connections`)],
      });
    }

    // Horizontal scan: new internal hosts (after the startup grace), or many external hosts mostly unanswered.
    const syn = v(F.tcp_syn);
    const answered = syn > 0 ? v(F.tcp_synack_in) / syn : 1;
    const newInternal = v(F.new_peers_internal);
    const ext = v(F.peers_external);
    const sweepInternal = settled && newInternal >= c.host_sweep.min_new_internal_peers;
    const sweepExternal = ext >= c.host_sweep.min_external_peers && syn >= c.host_sweep.min_external_peers && answered <= c.host_sweep.max_answered_fraction;
    const arpRequests = v(F.arp_pkts) - v(F.arp_spoof_replies);
    const sweepArp = arpRequests >= c.host_sweep.min_arp_requests;
    if (c.host_sweep.enabled && (sweepInternal || sweepExternal || sweepArp)) {
      scanned = true;
      const how = sweepArp && !sweepInternal ? 'ARP' : v(F.frac_other) >= 0.5 ? (v(F.icmp_pkts) > 0 ? 'ICMP' : 'ARP') : syn > 0 ? 'TCP' : 'UDP';
      const [measure, threshold] = sweepInternal
        ? [newInternal, c.host_sweep.min_new_internal_peers]
        : sweepExternal
          ? [ext, c.host_sweep.min_external_peers]
          : [arpRequests, c.host_sweep.min_arp_requests];
      hits.push({
        kind: 'host_sweep',
        score: measure / threshold,
        threshold,
        text: sweepInternal
          ? `host sweep (${how}): ${fmt(newInternal)} internal hosts never contacted before, in one window; rule: ≥ ${c.host_sweep.min_new_internal_peers}`
          : sweepExternal
            ? `host sweep (${how}): ${fmt(ext)} external hosts in one window, ${fmt(v(F.tcp_synack_in))} of ${fmt(syn)} SYNs answered; rule: ≥ ${c.host_sweep.min_external_peers} hosts, ≤ ${Math.round(c.host_sweep.max_answered_fraction * 100)} % answered`
            : `host sweep (ARP): ${fmt(arpRequests)} ARP requests in one window; rule: ≥ ${c.host_sweep.min_arp_requests}`,
        evidence: [
          ev('new_peers_internal', newInternal, 0, `${fmt(newInternal)} new internal peers`),
          ev('peers_external', ext, 0, `${fmt(ext)} external peers`),
        ],
      });
    }

    // Floods: SYNs from the device mostly unanswered (to few ports and hosts: else it is a scan), or connections
    // accepted by it.
    if (c.flood.enabled) {
      const out = !scanned && syn >= c.flood.min_syn && answered <= c.flood.max_answered_fraction;
      const accepted = v(F.flows_accepted);
      const inbound = accepted >= c.flood.min_accepted;
      if (out || inbound) {
        hits.push({
          kind: 'flood',
          score: out ? syn / c.flood.min_syn : accepted / c.flood.min_accepted,
          threshold: out ? c.flood.min_syn : c.flood.min_accepted,
          text: out
            ? `SYN flood from the device: ${fmt(syn)} SYNs in one window (${fmt(syn / 10)}/s), ${fmt(v(F.tcp_synack_in))} answered; rule: ≥ ${c.flood.min_syn}`
            : `flood against the device: ${fmt(accepted)} connections accepted in one window (${fmt(accepted / 10)}/s), ${fmt(v(F.pkts_in))} packets in; rule: ≥ ${c.flood.min_accepted}`,
          evidence: [ev(out ? 'tcp_syn' : 'flows_accepted', out ? syn : accepted, out ? c.flood.min_syn : c.flood.min_accepted, out ? `${fmt(syn)} SYNs sent` : `${fmt(accepted)} connections accepted`)],
        });
      }
    }

    // ARP spoofing over the horizon.
    const spoofed = BehaviourRules.sum(recent, 0, windowStart, c.arp_spoof.horizon_s);
    if (c.arp_spoof.enabled && v(F.arp_spoof_replies) > 0 && spoofed >= c.arp_spoof.min_replies) {
      hits.push({
        kind: 'arp_spoof',
        score: spoofed / c.arp_spoof.min_replies,
        threshold: c.arp_spoof.min_replies,
        text: `ARP spoofing: ${fmt(spoofed)} ARP replies claiming other devices' addresses in ${c.arp_spoof.horizon_s} s; rule: ≥ ${c.arp_spoof.min_replies}`,
        evidence: [ev('arp_spoof_replies', v(F.arp_spoof_replies), 0, `${fmt(v(F.arp_spoof_replies))} spoofed ARP replies in the window`)],
      });
    }

    // Brute force against the device (remote-access connections received) or by it (made), over the horizon; a scan
    // of remote-access ports is reported as the scan.
    if (c.brute_force.enabled && !scanned) {
      const h = c.brute_force.horizon_s;
      const inSum = BehaviourRules.sum(recent, 1, windowStart, h);
      const outSum = BehaviourRules.sum(recent, 2, windowStart, h);
      const against = v(F.login_conns_in) > 0 && inSum >= c.brute_force.min_connections;
      const by = v(F.login_conns_out) > 0 && outSum >= c.brute_force.min_connections;
      if (against || by) {
        const n = against ? inSum : outSum;
        hits.push({
          kind: 'brute_force',
          score: n / c.brute_force.min_connections,
          threshold: c.brute_force.min_connections,
          text: `brute force ${against ? 'against the device' : 'from the device'}: ${fmt(n)} remote-access connections (SSH, telnet, RDP, SMB, FTP, VNC, WinRM) ${against ? 'received' : 'made'} in ${h} s; rule: ≥ ${c.brute_force.min_connections}`,
          evidence: [ev(against ? 'login_conns_in' : 'login_conns_out', against ? v(F.login_conns_in) : v(F.login_conns_out), 0, `${fmt(n)} remote-access connections in ${h} s`)],
        });
      }
    }

    // DNS tunnelling: many distinct, long, high-entropy names.
    const q = v(F.dns_queries);
    if (
      c.dns_tunnel.enabled &&
      q >= c.dns_tunnel.min_queries &&
      v(F.dns_unique_names) >= c.dns_tunnel.min_unique_fraction * q &&
      v(F.dns_name_len_chars) >= c.dns_tunnel.min_name_len_chars &&
      v(F.dns_name_entropy_bits) >= c.dns_tunnel.min_entropy_bits
    ) {
      hits.push({
        kind: 'dns_tunnel',
        score: q / c.dns_tunnel.min_queries,
        threshold: c.dns_tunnel.min_queries,
        text: `DNS tunnelling: ${fmt(q)} queries for ${fmt(v(F.dns_unique_names))} distinct names in one window, mean length ${v(F.dns_name_len_chars).toFixed(0)} characters, entropy ${v(F.dns_name_entropy_bits).toFixed(1)} bits/char; rule: ≥ ${c.dns_tunnel.min_queries} queries, ≥ ${c.dns_tunnel.min_name_len_chars} characters, ≥ ${c.dns_tunnel.min_entropy_bits} bits/char`,
        evidence: [ev('dns_queries', q, 0, `${fmt(q)} DNS queries`), ev('dns_name_entropy_bits', v(F.dns_name_entropy_bits), 0, `DNS name entropy ${v(F.dns_name_entropy_bits).toFixed(1)} bits/char`)],
      });
    }

    // Lateral movement: a remote-access connection to an internal host never contacted before (a scan explains it
    // better when one matched in the same window).
    const lateral = v(F.lateral_new_peer_conns);
    if (c.lateral_movement.enabled && settled && !scanned && lateral >= c.lateral_movement.min_connections) {
      hits.push({
        kind: 'lateral_movement',
        score: lateral / c.lateral_movement.min_connections,
        threshold: c.lateral_movement.min_connections,
        text: `lateral movement: ${fmt(lateral)} remote-access connection${lateral === 1 ? '' : 's'} (SSH, telnet, RDP, SMB, RPC, VNC, WinRM, FTP) to an internal host it never talked to`,
        evidence: [ev('lateral_new_peer_conns', lateral, 0, `${fmt(lateral)} remote-access connections to new internal hosts`)],
      });
    }

    // Beaconing to a peer taken up later.
    const beacons = v(F.beacon_peers);
    if (c.beaconing.enabled && settled && beacons >= c.beaconing.min_peers) {
      hits.push({
        kind: 'beaconing',
        score: beacons / c.beaconing.min_peers,
        threshold: c.beaconing.min_peers,
        text: `beaconing: connections at a regular rhythm to ${fmt(beacons)} peer${beacons === 1 ? '' : 's'} it began contacting recently`,
        evidence: [ev('beacon_peers', beacons, 0, `${fmt(beacons)} newly contacted peers reached at a regular rhythm`)],
      });
    }
    return hits;
  }
}
