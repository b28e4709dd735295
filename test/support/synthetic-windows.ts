/**
 * Synthetic feature windows for the detect tests and the model benchmark — NOT simulator data (that comes with the
 * sim/flows branches) and never used to choose the shipped defaults on its own.
 *
 * A benign device ("pump-like"): every 10-s window it exchanges a few HL7 messages and heartbeats with one or two
 * internal servers. Its activity follows a daily cycle a(t) = 1 + 0.3·sin(2πt/86400 + phase); packet counts are
 * Poisson(20·a) out / Poisson(18·a) in, sizes normal around 180 B / 120 B, 0–4 flows to 1–2 ports, an occasional DNS
 * query for a short ordinary name (entropy ≈ 2.8 bits/char), a little ICMP and ARP. All other features are 0.
 * Every other derived feature (bytes, mean size, inter-arrival time, TCP flags, protocol shares) is computed from
 * those draws so the vector is internally consistent.
 *
 * Anomalies applied on top of a benign window (each a documented, deliberately plain change):
 *  - `port_scan`: 200 SYNs to 200 new destination ports, 150 rejected (RST), 40 unanswered.
 *  - `dns_tunnel`: 60 queries for 60 distinct long, random-looking names (entropy 4.6 bits/char, 52 characters).
 *  - `flood`: 50× the packets and bytes sent (inter-arrival time ÷ 50), thousands of SYNs.
 *  - `exfiltration`: one new external peer receiving 20× the usual bytes.
 * All randomness comes from a seeded PRNG: same seed ⇒ same windows.
 */
import { FEATURE_NAMES, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION, type FeatureWindow } from '../../src/records/index.js';
import { seededRandom } from '../../src/detect/autoencoder.js';

export type AnomalyKind = 'port_scan' | 'dns_tunnel' | 'flood' | 'exfiltration';
export const ANOMALY_KINDS: readonly AnomalyKind[] = ['port_scan', 'dns_tunnel', 'flood', 'exfiltration'];

const IDX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));
function ix(name: string): number {
  const i = IDX.get(name);
  if (i === undefined) throw new Error(`feature ${name} not in FEATURE_SCHEMA`);
  return i;
}

export class SyntheticRng {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = seededRandom(seed);
  }
  uniform(): number {
    return this.r();
  }
  normal(mean: number, sd: number): number {
    const u = Math.max(this.r(), 1e-12);
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.r());
  }
  poisson(lambda: number): number {
    if (lambda > 30) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.r();
    } while (p > l);
    return k - 1;
  }
  bernoulli(p: number): number {
    return this.r() < p ? 1 : 0;
  }
}

export interface SyntheticOptions {
  device_id: string;
  /** Number of consecutive 10-s windows. */
  count: number;
  seed: number;
  /** First window start (seconds since the epoch). */
  start?: number;
  /** Scales the device's traffic volume (a second device of the same class: 0.8–1.2). */
  volume?: number;
  /** Phase of the daily cycle (radians). */
  phase?: number;
}

export const WINDOW_S = 10;
export const DEFAULT_START = 1_767_225_600; // 2026-01-01T00:00:00Z

export function benignWindows(o: SyntheticOptions): FeatureWindow[] {
  const rng = new SyntheticRng(o.seed);
  const start = o.start ?? DEFAULT_START;
  const vol = o.volume ?? 1;
  const phase = o.phase ?? 0;
  const out: FeatureWindow[] = [];
  for (let k = 0; k < o.count; k++) {
    const t = start + k * WINDOW_S;
    const a = vol * (1 + 0.3 * Math.sin((2 * Math.PI * (t % 86400)) / 86400 + phase));
    const v = new Array<number>(FEATURE_NAMES.length).fill(0);
    const set = (n: string, x: number) => (v[ix(n)] = x);
    const flows = rng.poisson(1.5 * a);
    const dns = rng.poisson(0.3);
    const icmp = rng.poisson(0.1);
    const tcpOut = rng.poisson(20 * a);
    const tcpIn = rng.poisson(18 * a);
    const udp = dns * 2;
    const pktsOut = tcpOut + dns + rng.poisson(0.3);
    const pktsIn = tcpIn + dns + icmp;
    const sizeOut = Math.max(60, rng.normal(180, 20));
    const sizeIn = Math.max(60, rng.normal(120, 15));
    const pkts = pktsOut + pktsIn;
    set('pkts_out', pktsOut);
    set('pkts_in', pktsIn);
    set('bytes_out', Math.round(pktsOut * sizeOut));
    set('bytes_in', Math.round(pktsIn * sizeIn));
    set('pkt_size_mean_bytes', pkts > 0 ? (pktsOut * sizeOut + pktsIn * sizeIn) / pkts : 0);
    set('pkt_size_std_bytes', pkts > 1 ? Math.max(0, rng.normal(60, 8)) : 0);
    const iat = pkts > 1 ? 10_000 / pkts : 0;
    set('iat_mean_ms', iat);
    set('iat_std_ms', pkts > 2 ? iat * (0.5 + 0.5 * rng.uniform()) : 0);
    set('flows_started', flows + dns);
    set('flows_accepted', rng.poisson(0.2));
    set('peers_internal', flows + dns > 0 ? 1 + rng.bernoulli(0.3) : 0);
    set('dst_ports', flows > 0 ? Math.min(flows, 1 + rng.bernoulli(0.2)) + (dns > 0 ? 1 : 0) : dns > 0 ? 1 : 0);
    set('tcp_syn', flows);
    set('tcp_synack_in', flows);
    set('tcp_rst', rng.poisson(0.05));
    set('tcp_fin', 2 * flows);
    set('icmp_pkts', icmp);
    set('arp_pkts', rng.poisson(0.3));
    set('dns_queries', dns);
    set('dns_unique_names', Math.min(dns, 1 + rng.bernoulli(0.2)));
    set('dns_name_entropy_bits', dns > 0 ? rng.normal(2.8, 0.2) : 0);
    set('dns_name_len_chars', dns > 0 ? Math.round(rng.normal(18, 2)) : 0);
    const total = tcpOut + tcpIn + udp + icmp || 1;
    set('frac_tcp', (tcpOut + tcpIn) / total);
    set('frac_udp', udp / total);
    set('frac_other', icmp / total);
    set('hl7_msgs', rng.poisson(3 * a));
    out.push({
      schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
      feature_schema_version: FEATURE_SCHEMA_VERSION,
      device_id: o.device_id,
      sensor_id: 'test-sensor',
      run_id: '',
      window_start: t,
      window_end: t + WINDOW_S,
      values: v,
      new_peers: [],
      new_dst_ports: [],
    });
  }
  return out;
}

/** A copy of `w` with the anomaly applied (see the header for what each one changes). */
export function withAnomaly(w: FeatureWindow, kind: AnomalyKind): FeatureWindow {
  const v = [...w.values];
  const add = (n: string, x: number) => (v[ix(n)] = (v[ix(n)] ?? 0) + x);
  const set = (n: string, x: number) => (v[ix(n)] = x);
  let newPeers: string[] = [];
  let newPorts: number[] = [];
  switch (kind) {
    case 'port_scan':
      add('pkts_out', 200);
      add('pkts_in', 150);
      add('bytes_out', 200 * 60);
      add('bytes_in', 150 * 54);
      add('flows_started', 200);
      add('dst_ports', 200);
      add('new_dst_ports', 200);
      add('tcp_syn', 200);
      add('tcp_rst', 150);
      add('tcp_rejected', 150);
      add('tcp_half_open', 40);
      newPorts = Array.from({ length: 16 }, (_, i) => 1000 + i);
      break;
    case 'dns_tunnel':
      add('dns_queries', 60);
      add('dns_unique_names', 60);
      set('dns_name_entropy_bits', 4.6);
      set('dns_name_len_chars', 52);
      add('pkts_out', 60);
      add('pkts_in', 60);
      add('bytes_out', 60 * 110);
      add('bytes_in', 60 * 160);
      add('flows_started', 60);
      set('dst_ports', Math.max(v[ix('dst_ports')] ?? 0, 1)); // port 53
      break;
    case 'flood':
      for (const n of ['pkts_out', 'bytes_out']) set(n, (v[ix(n)] ?? 0) * 50 + 5000);
      set('iat_mean_ms', (v[ix('iat_mean_ms')] ?? 0) / 50);
      set('iat_std_ms', (v[ix('iat_std_ms')] ?? 0) / 50);
      add('tcp_syn', 5000);
      add('tcp_half_open', 3000);
      break;
    case 'exfiltration':
      add('peers_external', 1);
      add('new_peers', 1);
      add('flows_started', 1);
      set('bytes_out', (v[ix('bytes_out')] ?? 0) * 20);
      set('pkt_size_mean_bytes', 1200);
      newPeers = ['203.0.113.50'];
      break;
  }
  return { ...w, values: v, new_peers: newPeers, new_dst_ports: newPorts };
}

export function featureIndex(name: string): number {
  return ix(name);
}
