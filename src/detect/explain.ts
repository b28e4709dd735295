/**
 * Explanations: which features made a window anomalous, in words an analyst reads.
 *
 * The window's error is the mean of per-feature squared errors in scaled space; each feature's share of that sum is
 * its contribution. Observed is the window's raw value; expected is the model's reconstruction mapped back to the
 * feature's unit (inverse of the scaler), so both read in packets, bytes, ms, bits...
 * Sentences come from the table below, one entry per FEATURE_SCHEMA feature (a test fails when one is missing):
 * "12 new destination ports; expected ≤ 1", "DNS name entropy 4.6 bits/char; expected ≈ 2.9".
 */
import { FEATURE_SCHEMA, type FeatureContribution, type FeatureSpec } from '../records/index.js';

type Phrase =
  /** Countable: value + noun, singular and plural. */
  | { count: [string, string] }
  /** Measured quantity: "<label> <value><unit>". */
  | { label: string };

export const FEATURE_PHRASES: Readonly<Record<string, Phrase>> = {
  pkts_out: { count: ['packet sent', 'packets sent'] },
  pkts_in: { count: ['packet received', 'packets received'] },
  bytes_out: { label: 'bytes sent' },
  bytes_in: { label: 'bytes received' },
  pkt_size_mean_bytes: { label: 'mean packet size' },
  pkt_size_std_bytes: { label: 'packet size spread (std)' },
  iat_mean_ms: { label: 'mean gap between packets' },
  iat_std_ms: { label: 'gap between packets spread (std)' },
  flows_started: { count: ['connection started', 'connections started'] },
  flows_accepted: { count: ['connection accepted', 'connections accepted'] },
  peers_internal: { count: ['internal peer', 'internal peers'] },
  peers_external: { count: ['external peer', 'external peers'] },
  dst_ports: { count: ['destination port', 'destination ports'] },
  new_peers: { count: ['new peer', 'new peers'] },
  new_dst_ports: { count: ['new destination port', 'new destination ports'] },
  tcp_syn: { count: ['TCP SYN sent', 'TCP SYNs sent'] },
  tcp_synack_in: { count: ['TCP SYN-ACK received', 'TCP SYN-ACKs received'] },
  tcp_rst: { count: ['TCP reset', 'TCP resets'] },
  tcp_fin: { count: ['TCP FIN', 'TCP FINs'] },
  tcp_rejected: { count: ['rejected connection', 'rejected connections'] },
  tcp_half_open: { count: ['unanswered connection attempt', 'unanswered connection attempts'] },
  icmp_pkts: { count: ['ICMP packet', 'ICMP packets'] },
  arp_pkts: { count: ['ARP packet sent', 'ARP packets sent'] },
  arp_spoof_replies: { count: ['spoofed ARP reply', 'spoofed ARP replies'] },
  dns_queries: { count: ['DNS query', 'DNS queries'] },
  dns_unique_names: { count: ['distinct DNS name', 'distinct DNS names'] },
  dns_name_entropy_bits: { label: 'DNS name entropy' },
  dns_name_len_chars: { label: 'mean DNS name length' },
  frac_tcp: { label: 'TCP share of packets' },
  frac_udp: { label: 'UDP share of packets' },
  frac_other: { label: 'non-TCP/UDP share of packets' },
  hl7_msgs: { count: ['HL7 message', 'HL7 messages'] },
  dicom_pdus: { count: ['DICOM PDU', 'DICOM PDUs'] },
  mqtt_msgs: { count: ['MQTT packet', 'MQTT packets'] },
  new_peers_internal: { count: ['new internal peer', 'new internal peers'] },
  lateral_new_peer_conns: { count: ['remote-access connection to a new internal host', 'remote-access connections to new internal hosts'] },
  login_conns_in: { count: ['remote-access connection received', 'remote-access connections received'] },
  login_conns_out: { count: ['remote-access connection made', 'remote-access connections made'] },
  beacon_peers: { count: ['newly contacted peer reached at a regular rhythm', 'newly contacted peers reached at a regular rhythm'] },
  sensor_overflow: { count: ['flow the sensor could not track', 'flows the sensor could not track'] },
  identity_changes: { count: ['change of its medical identity', 'changes of its medical identity'] },
};

function fmtNumber(v: number): string {
  if (Object.is(v, -0)) v = 0;
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2).replace(/\.?0+$/, '') || '0';
}

function fmtBytes(v: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** A value in the feature's unit, as text. */
export function formatValue(spec: FeatureSpec, v: number): string {
  switch (spec.unit) {
    case 'bytes':
      return fmtBytes(v);
    case 'ms':
      return v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${fmtNumber(v)} ms`;
    case 'bits':
      return `${v.toFixed(1)} bits/char`;
    case 'characters':
      return `${v.toFixed(0)} characters`;
    case 'fraction':
      return `${Math.round(v * 100)} %`;
    default:
      return fmtNumber(v);
  }
}

const INTEGER_UNITS = new Set<FeatureSpec['unit']>(['packets', 'count']);

/**
 * One sentence for one feature: "12 new destination ports; expected ≤ 1". Counts say the bound the model expected
 * (≤ ⌈expected⌉ when observed is above it, ≥ ⌊expected⌋ when below); measured quantities say "≈ expected".
 */
export function describeFeature(spec: FeatureSpec, observed: number, expected: number): string {
  const phrase = FEATURE_PHRASES[spec.name] ?? { label: spec.name.replace(/_/g, ' ') };
  if ('count' in phrase && INTEGER_UNITS.has(spec.unit)) {
    const obs = Math.round(observed);
    const noun = obs === 1 ? phrase.count[0] : phrase.count[1];
    const bound = observed >= expected ? `≤ ${fmtNumber(Math.max(0, Math.ceil(expected - 0.05)))}` : `≥ ${fmtNumber(Math.max(0, Math.floor(expected + 0.05)))}`;
    return `${fmtNumber(obs)} ${noun}; expected ${bound}`;
  }
  const label = 'label' in phrase ? phrase.label : spec.name.replace(/_/g, ' ');
  return `${label} ${formatValue(spec, observed)}; expected ≈ ${formatValue(spec, expected)}`;
}

/** A feature whose scaled observed value is further than this from the baseline median (in robust SDs) is "unusual". */
export const UNUSUAL_Z = 2;

/**
 * Top contributors of one window. `sqErr[j]` is feature j's squared error in scaled space, `observed[j]` its raw
 * value, `expected[j]` the reconstruction in the feature's unit, `deviation[j]` the scaled observed value
 * (robust z-score against the baseline).
 *
 * Ranking: an autoencoder fed an out-of-baseline window also mis-reconstructs features that are perfectly normal
 * (a DNS tunnel's 60 flows make it "expect" more destination ports), so features whose observed value is itself
 * unusual (|deviation| > UNUSUAL_Z) come first, by squared error; the others only when no feature is unusual (a
 * deviation in how normal-looking values combine). `share` is always the feature's true share of the squared error.
 * Returns at most `top` features, skipping those with a negligible share (< 2 %). Feature `include` (an index, -1 for
 * none), when its observed value is not 0, is always listed (in the place of the last when the list is full): a
 * window's identity change is named even where other features dominate the error.
 */
export function topContributions(
  sqErr: ArrayLike<number>,
  observed: readonly number[],
  expected: ArrayLike<number>,
  deviation: ArrayLike<number>,
  top = 5,
  schema: readonly FeatureSpec[] = FEATURE_SCHEMA,
  include = -1,
): FeatureContribution[] {
  let total = 0;
  for (let j = 0; j < sqErr.length; j++) total += sqErr[j] as number;
  if (!(total > 0)) return [];
  const all = Array.from({ length: sqErr.length }, (_, j) => j).sort((a, b) => (sqErr[b] as number) - (sqErr[a] as number));
  const unusual = all.filter((j) => Math.abs(deviation[j] as number) > UNUSUAL_Z);
  const ranked = unusual.some((j) => (sqErr[j] as number) / total >= 0.02) ? unusual : all;
  const out: FeatureContribution[] = [];
  const contribution = (j: number): FeatureContribution => {
    const share = (sqErr[j] as number) / total;
    const spec = schema[j] as FeatureSpec;
    const obs = observed[j] ?? 0;
    const exp = expected[j] as number;
    return {
      feature: spec.name,
      observed: obs,
      expected: Math.round(exp * 1000) / 1000,
      share: Math.round(share * 1000) / 1000,
      text: describeFeature(spec, obs, exp),
    };
  };
  const listed: number[] = [];
  for (const j of ranked.slice(0, top)) {
    if ((sqErr[j] as number) / total < 0.02) break;
    listed.push(j);
  }
  if (include >= 0 && include < sqErr.length && (observed[include] ?? 0) !== 0 && !listed.includes(include)) {
    if (listed.length >= top) listed.pop();
    listed.push(include);
    listed.sort((a, b) => (sqErr[b] as number) - (sqErr[a] as number));
  }
  for (const j of listed) out.push(contribution(j));
  return out;
}
