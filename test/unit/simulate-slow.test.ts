/**
 * The slow and periodic attack kinds of issue 19 (c2_beacon_30s / _2min / _10min, slow_exfiltration, lateral_single)
 * and quiet devices, checked on the written pcap read back by wardwatch's own reader and decoder (src/capture,
 * src/decode): what each label claims — beacon periods and a never-seen peer, 25 MB in the window, exactly one new
 * lateral connection — every injected packet inside [start, end], determinism, the share of 10-second windows a quiet
 * device has traffic in, and the slow evaluation scenario of test/eval/scenario.ts. tshark checks the new protocols
 * when it is installed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../src/capture/index.js';
import { PacketDecoder } from '../../src/decode/index.js';
import { formatIpv4, newDecodedPacket, parseMac } from '../../src/records/packet.js';
import { simulate, parseAttack, LATERAL_PORTS, SLOW_EXFIL_BYTES, type LabelAttack, type LabelDevice, type SimulationLabels, type Archetype } from '../../src/simulate/index.js';
import { SLOW_ATTACKS, SLOW_QUIET_DEVICES, SLOW_TUNING_SEEDS, simulateSlowEvaluation, simulateSlowTrainingDay } from '../eval/scenario.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../support/tshark.js';

/** What the tests need of a packet, copied out of the reused DecodedPacket. Times in µs since the epoch. */
interface Pkt {
  t: number;
  ethSrc: number;
  ethDst: number;
  /** Dotted quads; '' without IPv4. */
  ipSrc: string;
  ipDst: string;
  flags: number;
  sport: number;
  dport: number;
  /** Transport payload bytes. */
  payload: number;
  qname: string | undefined;
  /** ARP target protocol address (dotted quad); '' for other packets. */
  arpTpa: string;
}

async function readPackets(file: string): Promise<Pkt[]> {
  const src = await readCapture(file);
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const out: Pkt[] = [];
  await src.forEachFrame((frame) => {
    decoder.decode(frame, p);
    const ip = p.ip_version === 4;
    out.push({
      t: p.ts_sec * 1_000_000 + Math.round(p.ts_nsec / 1000),
      ethSrc: p.eth_src,
      ethDst: p.eth_dst,
      ipSrc: ip ? formatIpv4(p.ip_src) : '',
      ipDst: ip ? formatIpv4(p.ip_dst) : '',
      flags: p.tcp_flags,
      sport: p.src_port,
      dport: p.dst_port,
      payload: p.payload_len,
      qname: p.app_meta?.dns_qname,
      arpTpa: p.arp_op > 0 ? formatIpv4(p.arp_tpa) : '',
    });
  });
  return out;
}

const SYN = (p: Pkt): boolean => (p.flags & 0x12) === 0x02;
const SYN_ACK = (p: Pkt): boolean => (p.flags & 0x12) === 0x12;
const FIN = (p: Pkt): boolean => (p.flags & 0x01) !== 0;
const us = (s: number): number => Math.round(s * 1e6);
const isExternal = (ip: string): boolean => ip.startsWith('198.51.100.') || ip.startsWith('203.0.113.');
const inDocRanges = (ip: string): boolean => /^(198\.51\.100|203\.0\.113)\.\d+$/.test(ip);

/** Packets from or to a device (by MAC or IP). */
const ofDevice = (pkts: Pkt[], d: LabelDevice): Pkt[] => {
  const mac = parseMac(d.mac);
  return pkts.filter((p) => p.ethSrc === mac || p.ethDst === mac || p.ipSrc === d.ip || p.ipDst === d.ip);
};

/** Share of the capture's 10-second windows (from its start) holding at least one packet from or to the device. */
function windowShare(pkts: Pkt[], d: LabelDevice, labels: SimulationLabels): { share: number; worstHour: number } {
  const start = us(labels.options.start);
  const wins = new Set<number>();
  for (const p of ofDevice(pkts, d)) wins.add(Math.floor((p.t - start) / 10e6));
  const perHour = new Map<number, number>();
  for (const w of wins) perHour.set(Math.floor(w / 360), (perHour.get(Math.floor(w / 360)) ?? 0) + 1);
  return { share: wins.size / (labels.options.duration_s / 10), worstHour: Math.max(0, ...perHour.values()) / 360 };
}

/** Asserts every packet lies in the label's [start, end] (µs, inclusive). */
function allInside(a: LabelAttack, pkts: Pkt[], what: string): void {
  const out = pkts.filter((p) => p.t < us(a.start) || p.t > us(a.end));
  assert.equal(out.length, 0, `${a.kind}: ${out.length} of ${pkts.length} ${what} outside [${a.start}, ${a.end}], first at ${(out[0]?.t ?? 0) / 1e6}`);
}

const START = Date.parse('2026-01-05T08:00:00Z') / 1000;
const DEVICES: Partial<Record<Archetype, number>> = { pump: 3, monitor: 3, imaging: 1, pacs: 1, reading_ws: 1, nurse_pc: 2, telemetry: 1, lab: 2, bacnet: 2 };
const SPECS = [
  'c2_beacon_30s@+600s:pump-01',
  'c2_beacon_2min@+600s:monitor-01',
  'c2_beacon_10min@+600s:lab-01',
  'slow_exfiltration@+900s:nursepc-01',
  'lateral_single@+3000s:monitor-02',
  'port_scan@+4000s:quiet',
  'lateral_single@+5000s:quiet',
];
const OPTIONS = {
  start: START,
  duration_s: 9000,
  devices: DEVICES,
  quiet_devices: { pump: 1, monitor: 1 },
  attacks: SPECS.map(parseAttack),
  dicom_image_bytes: 1024,
};

describe('simulate: slow and periodic attacks read back from the pcap', function () {
  this.timeout(120_000);
  let dir = '';
  let pcap = '';
  let labels: SimulationLabels;
  let pkts: Pkt[] = [];
  /** A lateral_single capture per service seen (port → file), from the seeds test, for tshark. */
  const lateralCaptures = new Map<number, string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simslow-'));
    pcap = join(dir, 'slow.pcap');
    const summary = await simulate({ ...OPTIONS, seed: 31, out: pcap });
    assert.equal(summary.clamped_frames, 0);
    labels = JSON.parse(readFileSync(join(dir, 'slow.labels.json'), 'utf8')) as SimulationLabels;
    pkts = await readPackets(pcap);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const device = (id: string): LabelDevice => {
    const d = labels.devices.find((x) => x.device_id === id);
    assert.ok(d, id);
    return d;
  };
  const attacksOf = (kind: string): LabelAttack[] => labels.attacks.filter((a) => a.kind === kind);
  /** The external address a label names (its description). */
  const peerOf = (a: LabelAttack): string => {
    const m = /(?:external|to) ((?:198\.51\.100|203\.0\.113)\.\d+)/.exec(a.description);
    assert.ok(m?.[1], a.description);
    return m[1];
  };

  for (const [kind, period] of [
    ['c2_beacon_30s', 30],
    ['c2_beacon_2min', 120],
    ['c2_beacon_10min', 600],
  ] as const) {
    it(`${kind}: SYNs every ${period} s ± 20 % to one never-seen external peer, answered, a few hundred bytes each way, all inside the label`, () => {
      const [a] = attacksOf(kind);
      assert.ok(a);
      const d = device(a.device_id);
      const peer = peerOf(a);
      assert.ok(inDocRanges(peer));
      // Never used by anyone before the attack; the only external host this device ever talks to.
      assert.equal(pkts.filter((p) => (p.ipSrc === peer || p.ipDst === peer) && p.t < us(a.start)).length, 0);
      assert.deepEqual([...new Set(ofDevice(pkts, d).flatMap((p) => [p.ipSrc, p.ipDst]).filter(isExternal))], [peer]);
      const withPeer = pkts.filter((p) => p.ipSrc === peer || p.ipDst === peer);
      assert.ok(withPeer.every((p) => p.ipSrc === d.ip || p.ipDst === d.ip), 'only the labelled device talks to the peer');
      allInside(a, withPeer, 'packets with the peer');
      const name = /\(([a-z0-9.-]+):443\)/.exec(a.description)?.[1];
      assert.ok(name);
      const dns = pkts.filter((p) => p.qname === name);
      assert.ok(dns.length >= 2);
      allInside(a, dns, 'DNS packets of the C2 name');

      const syns = withPeer.filter((p) => p.ipSrc === d.ip && SYN(p)).map((p) => p.t);
      const gaps = syns.slice(1).map((t, i) => t - syns[i]!);
      for (const g of gaps) assert.ok(g >= 0.8 * period * 1e6 - 1 && g <= 1.2 * period * 1e6 + 1, `beacon gap ${g / 1e6} s, period ${period} s`);
      const span = (a.end - a.start) * 1e6;
      assert.ok(syns.length >= Math.floor(span / (1.2 * period * 1e6)) && syns.length <= Math.ceil(span / (0.8 * period * 1e6)) + 1, `${syns.length} beacons in ${span / 1e6} s`);
      assert.ok(syns.length >= 10, `${syns.length} beacons`);
      assert.equal(withPeer.filter((p) => p.ipSrc === peer && SYN_ACK(p)).length, syns.length, 'every beacon answered');
      const up = withPeer.filter((p) => p.ipSrc === d.ip).reduce((s, p) => s + p.payload, 0) / syns.length;
      const down = withPeer.filter((p) => p.ipSrc === peer).reduce((s, p) => s + p.payload, 0) / syns.length;
      assert.ok(up >= 200 && up <= 1500 && down >= 200 && down <= 1500, `per beacon ${up} bytes up, ${down} down`);
      // Labelled by what was injected: the last packet is the last one with the peer; the first one is the first
      // beacon's SYN or, at most 50 ms earlier, its DNS/ARP lookups.
      assert.equal(us(a.end), withPeer[withPeer.length - 1]!.t);
      const firstPacket = Math.min(withPeer[0]!.t, dns[0]!.t);
      assert.ok(us(a.start) <= firstPacket && us(a.start) >= syns[0]! - 50_000, `start ${a.start} vs first packet ${firstPacket / 1e6}`);
    });
  }

  it('slow_exfiltration: 25 MB up to one never-seen external peer in the 30 min window, steady, over answered connections', () => {
    const [a] = attacksOf('slow_exfiltration');
    assert.ok(a);
    const d = device(a.device_id);
    const peer = peerOf(a);
    assert.ok(inDocRanges(peer));
    const withPeer = pkts.filter((p) => p.ipSrc === peer || p.ipDst === peer);
    assert.equal(pkts.filter((p) => (p.ipSrc === peer || p.ipDst === peer) && p.t < us(a.start)).length, 0, 'peer never used before');
    assert.ok(withPeer.every((p) => p.ipSrc === d.ip || p.ipDst === d.ip));
    allInside(a, withPeer, 'packets with the peer');
    assert.ok(a.end - a.start <= 1800 && a.end - a.start >= 1750, `span ${a.end - a.start} s`);

    const up = withPeer.filter((p) => p.ipSrc === d.ip);
    const bytes = up.reduce((s, p) => s + p.payload, 0);
    // 25,000,000 application bytes + 22 bytes of TLS framing per 16 KiB record + handshakes: ≤ 1 % more.
    assert.ok(bytes >= SLOW_EXFIL_BYTES && bytes <= SLOW_EXFIL_BYTES * 1.01, `${bytes} bytes uploaded`);
    const down = withPeer.filter((p) => p.ipSrc === peer).reduce((s, p) => s + p.payload, 0);
    assert.ok(down < bytes / 20, `${down} bytes down`);

    const conns = up.filter(SYN).length;
    assert.ok(conns >= 30 && conns <= 90, `${conns} connections`);
    assert.equal(withPeer.filter((p) => p.ipSrc === peer && SYN_ACK(p)).length, conns);
    assert.equal(up.filter(FIN).length, conns, 'each chunk upload closed by the device');

    // Steady: every whole minute of the window carries 0.7–1.3 × the mean; no 10-s window above 200 kB.
    const minutes = new Array<number>(Math.floor((a.end - a.start) / 60)).fill(0);
    for (const p of up) {
      const m = Math.floor((p.t - us(a.start)) / 60e6);
      if (m < minutes.length) minutes[m]! += p.payload;
    }
    const mean = minutes.reduce((s, x) => s + x, 0) / minutes.length;
    for (const m of minutes) assert.ok(m >= 0.7 * mean && m <= 1.3 * mean, `minute with ${m} bytes, mean ${mean}`);
    const perWindow = new Map<number, number>();
    for (const p of up) perWindow.set(Math.floor(p.t / 10e6), (perWindow.get(Math.floor(p.t / 10e6)) ?? 0) + p.payload);
    assert.ok(Math.max(...perWindow.values()) <= 200_000, `max ${Math.max(...perWindow.values())} bytes in a 10-s window`);
  });

  it('lateral_single: exactly one answered TCP connection on a lateral port to an internal host the device never talked to, inside the label', () => {
    const all = attacksOf('lateral_single');
    assert.equal(all.length, 2);
    for (const a of all) {
      const d = device(a.device_id);
      assert.equal(a.related_device_ids.length, 1);
      const target = device(a.related_device_ids[0]!);
      const dm = parseMac(d.mac);
      const tm = parseMac(target.mac);
      // IP packets either way, frames between their MACs, and the device's broadcast ARP who-has for the target.
      const between = pkts.filter(
        (p) =>
          (p.ipSrc === d.ip && p.ipDst === target.ip) ||
          (p.ipSrc === target.ip && p.ipDst === d.ip) ||
          (p.ethSrc === dm && p.ethDst === tm) ||
          (p.ethSrc === tm && p.ethDst === dm) ||
          (p.ethSrc === dm && p.arpTpa === target.ip),
      );
      assert.equal(between.filter((p) => p.t < us(a.start)).length, 0, `${d.name} talked to ${target.name} before`);
      // After the label too: nothing else between them in the whole capture.
      allInside(a, between, 'packets between device and target');
      const syns = between.filter((p) => p.ipSrc === d.ip && SYN(p));
      assert.equal(syns.length, 1, `${syns.length} connections`);
      const port = syns[0]!.dport;
      assert.ok((LATERAL_PORTS as readonly number[]).includes(port), `port ${port}`);
      assert.ok(a.description.includes(`port ${port}`));
      assert.equal(between.filter((p) => p.ipSrc === target.ip && SYN_ACK(p)).length, 1, 'answered');
      const data = between.filter((p) => p.payload > 0);
      assert.ok(data.length >= 2 && data.length <= 20, `${data.length} data packets`);
      assert.ok(between.some((p) => p.ipSrc === d.ip && FIN(p)) && between.some((p) => p.ipSrc === target.ip && FIN(p)), 'closed');
      assert.equal(us(a.start), between[0]!.t);
      assert.equal(us(a.end), between[between.length - 1]!.t);
      // The only new internal peer of the device in the window.
      const before = new Set(ofDevice(pkts, d).filter((p) => p.t < us(a.start)).flatMap((p) => [p.ipSrc, p.ipDst]));
      const fresh = new Set(ofDevice(pkts, d).filter((p) => p.t >= us(a.start) && p.t <= us(a.end) && p.ipSrc === d.ip && p.ipDst.startsWith('10.20.') && !before.has(p.ipDst)).map((p) => p.ipDst));
      assert.deepEqual([...fresh], [target.ip]);
    }
  });

  it(':quiet puts the attack on a quiet device; quiet devices are labelled and never picked by default', () => {
    const quiet = new Set(labels.devices.filter((d) => d.quiet).map((d) => d.name));
    assert.deepEqual([...quiet].sort(), ['monitor-03', 'pump-03']);
    assert.deepEqual(labels.options.quiet_devices, { pump: 1, monitor: 1 });
    const scan = attacksOf('port_scan')[0];
    assert.ok(scan);
    assert.equal(device(scan.device_id).name, 'pump-03', 'nurse_pc has no quiet device: the next actor archetype, pump');
    const lateral = attacksOf('lateral_single').find((a) => a.start > START + 4500);
    assert.ok(lateral);
    assert.equal(device(lateral.device_id).name, 'monitor-03');
    assert.deepEqual(labels.options.attacks.slice(-2), ['port_scan@+4000s:quiet', 'lateral_single@+5000s:quiet']);
  });

  it('is deterministic: the same seed gives the same bytes and labels, another seed does not', async () => {
    await simulate({ ...OPTIONS, seed: 31, out: join(dir, 'again.pcap') });
    assert.ok(readFileSync(pcap).equals(readFileSync(join(dir, 'again.pcap'))));
    assert.ok(readFileSync(join(dir, 'slow.labels.json')).equals(readFileSync(join(dir, 'again.labels.json'))));
    await simulate({ ...OPTIONS, seed: 32, out: join(dir, 'other.pcap') });
    assert.ok(!readFileSync(pcap).equals(readFileSync(join(dir, 'other.pcap'))));
  });

  it('lateral_single draws its port from the seeded stream: several services over seeds, each answered', async () => {
    const ports = new Map<number, number>();
    for (let seed = 1; seed <= 14; seed++) {
      const out = join(dir, `lat${seed}.pcap`);
      const s = await simulate({ seed, start: START, duration_s: 200, devices: { pump: 1, monitor: 1, nurse_pc: 2, lab: 1, bacnet: 1, reading_ws: 1, pacs: 1 }, attacks: [parseAttack('lateral_single@+130s:monitor-01')], out });
      const a = s.attacks[0]!;
      const from = s.attacks[0]!.device_id;
      const ip = JSON.parse(readFileSync(out.replace(/\.pcap$/, '.labels.json'), 'utf8')) as SimulationLabels;
      const d = ip.devices.find((x) => x.device_id === from)!;
      const target = ip.devices.find((x) => x.device_id === a.related_device_ids[0])!;
      const p = await readPackets(out);
      const syn = p.filter((x) => x.ipSrc === d.ip && x.ipDst === target.ip && SYN(x));
      assert.equal(syn.length, 1, `seed ${seed}`);
      assert.ok(p.some((x) => x.ipSrc === target.ip && x.ipDst === d.ip && SYN_ACK(x)), `seed ${seed}: answered`);
      ports.set(syn[0]!.dport, (ports.get(syn[0]!.dport) ?? 0) + 1);
      if (!lateralCaptures.has(syn[0]!.dport)) lateralCaptures.set(syn[0]!.dport, out);
    }
    for (const port of ports.keys()) assert.ok((LATERAL_PORTS as readonly number[]).includes(port));
    assert.ok(ports.size >= 4, `ports seen: ${[...ports.keys()].join(', ')}`);
  });

  it('tshark reads the capture cleanly: no malformed packets, no error-level expert items, no TCP analysis flags', function () {
    if (!tsharkAvailable()) this.skip();
    const { errors, malformed } = tsharkProblems(pcap, ['-d', 'tcp.port==11112,dicom']);
    assert.equal(errors, '');
    assert.equal(malformed, 0);
    assert.deepEqual(tsharkFields(pcap, ['frame.number'], 'tcp.analysis.flags && !tcp.analysis.reused_ports'), []);
    // Each lateral service the previous test drew (WinRM's NTLM, VNC, SSH, SMB2, ...) is clean and dissected.
    const protos = new Set<string>();
    for (const [port, f] of lateralCaptures) {
      const { errors: e, malformed: m } = tsharkProblems(f);
      assert.equal(e, '', `port ${port}`);
      assert.equal(m, 0, `port ${port}`);
      for (const r of tsharkFields(f, ['frame.protocols'], `tcp.len > 0 && tcp.port == ${port}`)) protos.add((r[0] ?? '').split(':').pop() ?? '');
    }
    assert.ok(protos.size >= 4, [...protos].join(' '));
  });
});

describe('simulate: quiet devices have traffic in at most 10 % of 10-second windows (counted from the pcap)', function () {
  this.timeout(120_000);
  let dir = '';
  let labels: SimulationLabels;
  let pkts: Pkt[] = [];
  const quietArchetypes: Archetype[] = ['pump', 'monitor', 'imaging', 'reading_ws', 'nurse_pc', 'telemetry', 'lab', 'bacnet'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simquiet-'));
    const out = join(dir, 'day.pcap');
    // A whole day (the busy afternoon included): two of each archetype, the second quiet.
    await simulate({
      seed: 41,
      start: Date.parse('2026-01-05T00:00:00Z') / 1000,
      duration_s: 86400,
      devices: { pump: 2, monitor: 2, imaging: 2, pacs: 1, reading_ws: 2, nurse_pc: 2, telemetry: 2, lab: 2, bacnet: 2 },
      quiet_devices: Object.fromEntries(quietArchetypes.map((a) => [a, 1])),
      attacks: [],
      out,
      dicom_image_bytes: 1024,
    });
    labels = JSON.parse(readFileSync(join(dir, 'day.labels.json'), 'utf8')) as SimulationLabels;
    pkts = await readPackets(out);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every quiet device: ≤ 10 % of the day’s windows and ≤ 10 % in its busiest hour', () => {
    const quiet = labels.devices.filter((d) => d.quiet);
    assert.deepEqual(quiet.map((d) => d.archetype).sort(), [...quietArchetypes].sort());
    for (const d of quiet) {
      assert.ok(d.name.endsWith('-02'), `${d.name}: the last of its archetype`);
      const { share, worstHour } = windowShare(pkts, d, labels);
      assert.ok(share > 0 && share <= 0.1, `${d.name}: ${(share * 100).toFixed(1)} % of windows`);
      assert.ok(worstHour <= 0.1, `${d.name}: ${(worstHour * 100).toFixed(1)} % of windows in its busiest hour`);
    }
  });

  it('quiet devices still speak their protocols, on the minutes scale; their busy siblings are far busier', () => {
    const byName = (n: string): LabelDevice => labels.devices.find((d) => d.name === n)!;
    // Reports to their servers: ~5 min apart for pumps, monitors, telemetry (24 h → ~288) and BMS polls of a controller.
    const reports = (name: string, port: number, fromDevice: boolean): number => {
      const d = byName(name);
      return pkts.filter((p) => (fromDevice ? p.ipSrc === d.ip && p.dport === port : p.ipDst === d.ip && p.dport === port) && p.payload > 0).length;
    };
    for (const [name, port, fromDevice] of [
      ['pump-02', 443, true],
      ['monitor-02', 2575, true],
      ['telemetry-02', 1883, true],
      ['bms-ctl-02', 47808, false],
    ] as const) {
      const n = reports(name, port, fromDevice);
      assert.ok(n >= 250, `${name}: ${n} report packets in 24 h`);
    }
    for (const sibling of ['pump-01', 'monitor-01', 'telemetry-01', 'bms-ctl-01']) {
      const { share } = windowShare(pkts, byName(sibling), labels);
      assert.ok(share > 0.15, `${sibling}: ${(share * 100).toFixed(1)} %`);
    }
  });
});

describe('test/eval/scenario.ts: the slow scenario', function () {
  this.timeout(120_000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simslowsc-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the evaluation capture holds one attack of each new kind and a port scan from a quiet device, no two on one device; quiet devices stay quiet', async () => {
    const t0 = Date.now();
    const s = await simulateSlowEvaluation(join(dir, 'eval.pcap'), SLOW_TUNING_SEEDS[0]);
    const ms = Date.now() - t0;
    assert.ok(ms < 10_000, `${ms} ms`);
    const labels = JSON.parse(readFileSync(join(dir, 'eval.labels.json'), 'utf8')) as SimulationLabels;
    const kinds = s.attacks.map((a) => a.kind).sort();
    assert.deepEqual(kinds, ['c2_beacon_10min', 'c2_beacon_2min', 'c2_beacon_30s', 'lateral_single', 'port_scan', 'slow_exfiltration']);
    assert.equal(s.attacks.length, SLOW_ATTACKS.length);
    const quiet = new Set(labels.devices.filter((d) => d.quiet).map((d) => d.device_id));
    assert.equal(quiet.size, Object.values(SLOW_QUIET_DEVICES).reduce((x, y) => x + y, 0));
    assert.ok(quiet.has(s.attacks.find((a) => a.kind === 'port_scan')!.device_id), 'the port scan comes from a quiet device');
    const devices = s.attacks.map((a) => a.device_id);
    assert.equal(new Set(devices).size, devices.length, 'no two attacks on one device');
    const pkts = await readPackets(join(dir, 'eval.pcap'));
    for (const d of labels.devices.filter((x) => x.quiet)) {
      const { share } = windowShare(pkts, d, labels);
      assert.ok(share <= 0.1, `${d.name}: ${(share * 100).toFixed(1)} %`);
    }
  });

  it('the training day is fast, has no attacks and the same devices', async () => {
    const t0 = Date.now();
    const s = await simulateSlowTrainingDay(join(dir, 'train.pcap'));
    const ms = Date.now() - t0;
    assert.ok(ms < 30_000, `${ms} ms`);
    assert.equal(s.attacks.length, 0);
    const train = JSON.parse(readFileSync(join(dir, 'train.labels.json'), 'utf8')) as SimulationLabels;
    const evalLabels = JSON.parse(readFileSync(join(dir, 'eval.labels.json'), 'utf8')) as SimulationLabels;
    assert.deepEqual(
      train.devices.map((d) => [d.device_id, d.name, d.quiet]),
      evalLabels.devices.map((d) => [d.device_id, d.name, d.quiet]),
    );
  });
});
