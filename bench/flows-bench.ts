/**
 * Flows + inventory + feature windows throughput on decoded packets (no capture reading or decoding in the loop),
 * and peak memory under a spoofed-source SYN flood.
 *
 *   node dist/bench/flows-bench.js throughput [packets=1000000] [runs=5]
 *   node dist/bench/flows-bench.js flood [packets=1000000]
 *   node dist/bench/flows-bench.js flood-internal [packets=1000000]
 *
 * Prints one JSON object. `throughput`: packets/s of the full AnalysisPipeline and of the FlowTable alone, median
 * of the runs. `flood`: RSS sampled every 50k packets while a flood of distinct spoofed external sources goes
 * through the pipeline with default options, the victim answering each SYN with a SYN-ACK; the packets are generated
 * on the fly (no input held in memory). `flood-internal`: the same flood from random INTERNAL source MACs and
 * addresses (each a would-be device), beside ten real devices, through the pipeline AND the detector (no models:
 * every device it announces is a `new_device` notice), alerts written to an alerts.jsonl and the inventory saved,
 * in a temporary directory: what a spoofed flood costs the analyst (inventory entries, notices, file sizes) and the
 * sensor (peak RSS).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Detector } from '../src/detect/detector.js';
import { parseDetectConfig } from '../src/detect/config.js';
import type { FeatureWindow } from '../src/records/features.js';
import type { DecodedPacket } from '../src/records/packet.js';
import { AlertFileSink } from '../src/sinks/file/alerts.js';
import { AnalysisPipeline } from '../src/pipeline/analysis.js';
import { FlowTable } from '../src/flows/flow-table.js';
import { newDecodedPacket, Proto, TcpFlag } from '../src/records/packet.js';
import { fillPacket, hospitalMix } from './synthetic-traffic.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export interface ThroughputResult {
  packets: number;
  runs: number;
  pipeline_pps_median: number;
  /** Packets per CPU-second (user + system): fairer than wall clock on a shared machine. */
  pipeline_cpu_pps_median: number;
  pipeline_cpu_pps_runs: number[];
  pipeline_pps_runs: number[];
  flow_table_pps_median: number;
  flow_table_pps_runs: number[];
  flows_created: number;
  windows_emitted: number;
  devices: number;
}

export function throughput(n: number, runs: number): ThroughputResult {
  const c = hospitalMix(n);
  const p = newDecodedPacket();
  const pipePps: number[] = [];
  const pipeCpuPps: number[] = [];
  const tablePps: number[] = [];
  let flows = 0;
  let windows = 0;
  let devices = 0;
  for (let r = 0; r < runs; r++) {
    let w = 0;
    const pipe = new AnalysisPipeline({}, { onWindow: () => w++ });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < c.length; i++) {
      fillPacket(p, c, i);
      pipe.process(p);
    }
    pipe.flush();
    const t1 = performance.now();
    const cpu = process.cpuUsage(c0);
    pipePps.push(Math.round(c.length / ((t1 - t0) / 1000)));
    pipeCpuPps.push(Math.round(c.length / ((cpu.user + cpu.system) / 1e6)));
    flows = pipe.flows.counters().get('flows_created');
    windows = w;
    devices = pipe.inventory.size;

    const table = new FlowTable();
    const t2 = performance.now();
    for (let i = 0; i < c.length; i++) {
      fillPacket(p, c, i);
      table.process(p);
    }
    table.flush();
    const t3 = performance.now();
    tablePps.push(Math.round(c.length / ((t3 - t2) / 1000)));
  }
  return {
    packets: c.length,
    runs,
    pipeline_pps_median: median(pipePps),
    pipeline_cpu_pps_median: median(pipeCpuPps),
    pipeline_cpu_pps_runs: pipeCpuPps,
    pipeline_pps_runs: pipePps,
    flow_table_pps_median: median(tablePps),
    flow_table_pps_runs: tablePps,
    flows_created: flows,
    windows_emitted: windows,
    devices,
  };
}

export interface FloodResult {
  /** SYNs from distinct sources; each is answered by a SYN-ACK, so the pipeline sees twice as many packets. */
  packets: number;
  distinct_sources: number;
  rss_mb_samples: number[];
  peak_rss_mb: number;
  rss_growth_last_half_mb: number;
  flows_active: number;
  flows_evicted: number;
  devices: number;
  elapsed_s: number;
}

export function flood(n: number): FloodResult {
  const pipe = new AnalysisPipeline();
  const p = newDecodedPacket();
  p.ip_version = 4;
  p.ethertype = 0x0800;
  p.proto = Proto.TCP;
  p.ip_proto = 6;
  p.tcp_flags = TcpFlag.SYN;
  p.ip_len = 40;
  p.orig_len = p.cap_len = 60;
  p.eth_src = 0x00095b0000fe;
  p.eth_dst = 0x00095b000002;
  p.ip_dst = 0x0a000002;
  p.dst_port = 80;
  // Distinct sources: a full-period LCG over 2^32 visits each value once; map into external space.
  let x = 12345;
  const samples: number[] = [];
  let peak = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    p.ip_src = (x & 0x3fffffff) + 0x40000000; // 64.0.0.0 – 127.255.255.255: external
    p.src_port = 1024 + (i % 60000);
    const t = 1_700_000_000 + i * 0.000002;
    p.ts_sec = Math.floor(t);
    p.ts_nsec = Math.floor((t - p.ts_sec) * 1e9);
    pipe.process(p);
    // The victim answers every SYN with a SYN-ACK (through the gateway), so it is a device whose peers, histories
    // and window sets face a million distinct addresses.
    const src = p.ip_src;
    const sport = p.src_port;
    p.ip_src = p.ip_dst;
    p.ip_dst = src;
    p.src_port = 80;
    p.dst_port = sport;
    p.eth_src = 0x00095b000002;
    p.eth_dst = 0x00095b0000fe;
    p.tcp_flags = TcpFlag.SYN | TcpFlag.ACK;
    pipe.process(p);
    p.ip_dst = p.ip_src;
    p.dst_port = 80;
    p.eth_src = 0x00095b0000fe;
    p.eth_dst = 0x00095b000002;
    p.tcp_flags = TcpFlag.SYN;
    if (i % 50_000 === 49_999) {
      const rss = process.memoryUsage().rss / 1048576;
      samples.push(Math.round(rss));
      if (rss > peak) peak = rss;
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  const m = pipe.metrics();
  pipe.flush();
  const half = samples.slice(Math.floor(samples.length / 2));
  return {
    packets: n,
    distinct_sources: n,
    rss_mb_samples: samples,
    peak_rss_mb: Math.round(peak),
    rss_growth_last_half_mb: half.length > 1 ? half[half.length - 1]! - half[0]! : 0,
    flows_active: m['flows_active'] ?? -1,
    flows_evicted: m['flows_evicted'] ?? -1,
    devices: pipe.inventory.size,
    elapsed_s: Math.round(elapsed * 100) / 100,
  };
}

export interface InternalFloodResult {
  /** SYNs from distinct random internal sources (each answered by the victim's SYN-ACK). */
  packets: number;
  /** The real devices of the scenario: the victim, 8 clients that open TCP sessions to it, a DNS server. */
  real_devices: string[];
  /** Entries the inventory lists (`entries()`), and whether every real device is among them. */
  inventory_entries: number;
  real_devices_listed: number;
  /** Devices with a handle (listed or not). */
  device_handles: number;
  windows_emitted: number;
  victim_windows: number;
  alerts: number;
  /** Detection alerts (every kind but new_device): the flood should be one incident on the victim. */
  detections: { kind: string; device_id: string; summary: string }[];
  victim: string;
  new_device_notices: number;
  alerts_file_bytes: number;
  inventory_file_bytes: number;
  peak_rss_mb: number;
  rss_mb_samples: number[];
  inventory_counters: Record<string, number>;
  elapsed_s: number;
}

const VICTIM_MAC = 0x00095b000002;
const VICTIM_IP = 0x0a000002;
const DNS_MAC = 0x00095b000035;
const DNS_IP = 0x0a000035;
const CLIENTS = 8;
/** Time between spoofed SYNs: 50,000 SYNs/s (100,000 packets/s with the answers), 1 M SYNs over 20 s (three windows). */
const FLOOD_GAP_S = 0.00002;

function macText(m: number): string {
  return Array.from({ length: 6 }, (_, i) => Math.floor(m / 2 ** (8 * (5 - i))) % 256)
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

function setTime(p: DecodedPacket, t: number): void {
  p.ts_sec = Math.floor(t);
  p.ts_nsec = Math.floor((t - p.ts_sec) * 1e9);
}

function setTcp(p: DecodedPacket, sm: number, si: number, sp: number, dm: number, di: number, dp: number, flags: number, seq: number, ack: number, payload: number): void {
  p.ip_version = 4;
  p.ethertype = 0x0800;
  p.proto = Proto.TCP;
  p.ip_proto = 6;
  p.app = 0;
  p.app_meta = undefined;
  p.eth_src = sm;
  p.eth_dst = dm;
  p.ip_src = si;
  p.ip_dst = di;
  p.src_port = sp;
  p.dst_port = dp;
  p.tcp_flags = flags;
  p.tcp_seq = seq >>> 0;
  p.tcp_ack = ack >>> 0;
  p.payload_len = payload;
  p.ip_len = 40 + payload;
  p.orig_len = p.cap_len = Math.max(60, 14 + p.ip_len);
}

/**
 * A real client's TCP session with the victim (handshake with correct sequence numbers, a request, an answer, FIN
 * both ways) and its DNS query answered by the DNS server, at time `t`.
 */
function realExchange(pipe: AnalysisPipeline, p: DecodedPacket, k: number, t: number, session: number): void {
  const cm = 0x00095b000010 + k;
  const ci = 0x0a000010 + k;
  const cp = 20000 + (session % 40000);
  const cs = (session * 7919 + 11) >>> 0;
  const vs = (session * 104729 + 17) >>> 0;
  const seg = (dt: number, fromClient: boolean, flags: number, seq: number, ack: number, payload: number): void => {
    setTime(p, t + dt);
    if (fromClient) setTcp(p, cm, ci, cp, VICTIM_MAC, VICTIM_IP, 80, flags, seq, ack, payload);
    else setTcp(p, VICTIM_MAC, VICTIM_IP, 80, cm, ci, cp, flags, seq, ack, payload);
    pipe.process(p);
  };
  seg(0, true, TcpFlag.SYN, cs, 0, 0);
  seg(0.0001, false, TcpFlag.SYN | TcpFlag.ACK, vs, cs + 1, 0);
  seg(0.0002, true, TcpFlag.ACK, cs + 1, vs + 1, 0);
  seg(0.0003, true, TcpFlag.PSH | TcpFlag.ACK, cs + 1, vs + 1, 200);
  seg(0.0004, false, TcpFlag.PSH | TcpFlag.ACK, vs + 1, cs + 201, 800);
  seg(0.0005, true, TcpFlag.FIN | TcpFlag.ACK, cs + 201, vs + 801, 0);
  seg(0.0006, false, TcpFlag.FIN | TcpFlag.ACK, vs + 801, cs + 202, 0);
  seg(0.0007, true, TcpFlag.ACK, cs + 202, vs + 802, 0);
  // DNS: query and answer.
  for (const answer of [false, true]) {
    setTime(p, t + (answer ? 0.0009 : 0.0008));
    p.ip_version = 4;
    p.ethertype = 0x0800;
    p.proto = Proto.UDP;
    p.ip_proto = 17;
    p.tcp_flags = 0;
    p.eth_src = answer ? DNS_MAC : cm;
    p.eth_dst = answer ? cm : DNS_MAC;
    p.ip_src = answer ? DNS_IP : ci;
    p.ip_dst = answer ? ci : DNS_IP;
    p.src_port = answer ? 53 : cp;
    p.dst_port = answer ? cp : 53;
    p.payload_len = answer ? 80 : 40;
    p.ip_len = 28 + p.payload_len;
    p.orig_len = p.cap_len = Math.max(60, 14 + p.ip_len);
    p.app = 0;
    p.app_meta = undefined;
    pipe.process(p);
  }
}

/**
 * 1 M spoofed SYNs from random internal sources (random unicast MAC, random address in 10.0.0.0/8 outside
 * 10.0.0.0/24), each answered by the victim's SYN-ACK, 20 µs apart; real sessions before (1 s of them) and every
 * 25,000 SYNs during the flood. Pipeline → detector (no models) → alerts.jsonl; the inventory saved at the end.
 */
export async function floodInternal(n: number): Promise<InternalFloodResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ww-flood-'));
  try {
    const windows: FeatureWindow[] = [];
    let victimWindows = 0;
    let windowsEmitted = 0;
    const victimId = `mac:${macText(VICTIM_MAC)}`;
    const pipe = new AnalysisPipeline({}, {
      onWindow: (w) => {
        windowsEmitted++;
        if (w.device_id === victimId) victimWindows++;
        windows.push(w);
      },
    });
    const detector = await Detector.open(parseDetectConfig({ models_dir: path.join(dir, 'models'), reload_check_ms: 0 }));
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const sink = new AlertFileSink({ file: alertsFile });
    let alerts = 0;
    let notices = 0;
    const detections: { kind: string; device_id: string; summary: string }[] = [];
    const identity = (id: string) => {
      const h = pipe.inventory.handleOf(id);
      return h < 0 ? undefined : pipe.inventory.identity(h);
    };
    const drain = async (): Promise<void> => {
      if (windows.length === 0) return;
      const batch = windows.splice(0, windows.length);
      const out = await detector.score(batch, identity);
      alerts += out.alerts.length;
      notices += out.alerts.filter((a) => a.kind === 'new_device').length;
      for (const a of out.alerts) if (a.kind !== 'new_device') detections.push({ kind: a.kind, device_id: a.device_id, summary: a.summary });
      sink.write(out.alerts);
    };
    const p = newDecodedPacket();
    let session = 0;
    const t0 = 1_700_000_000;
    // One second of real traffic before the flood.
    for (let i = 0; i < 40; i++) realExchange(pipe, p, i % CLIENTS, t0 + i * 0.025, session++);
    const samples: number[] = [];
    let peak = 0;
    let x = 12345;
    let y = 67890;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t = t0 + 1 + i * FLOOD_GAP_S;
      if (i % 25_000 === 0) realExchange(pipe, p, session % CLIENTS, t, session++);
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      y = (Math.imul(y, 22695477) + 1) >>> 0;
      // Random unicast source MAC (the group bit cleared), random internal address outside 10.0.0.0/24.
      const mac = (((y >>> 8) & 0xfeffff) * 16777216) + (x & 0xffffff);
      const ip = (0x0a000000 | (x >>> 8)) >>> 0;
      const src = ip < 0x0a000100 ? ip + 0x100 : ip;
      const sport = 1024 + (i % 60000);
      setTime(p, t);
      setTcp(p, mac, src, sport, VICTIM_MAC, VICTIM_IP, 80, TcpFlag.SYN, x, 0, 0);
      pipe.process(p);
      setTime(p, t + 0.000001);
      setTcp(p, VICTIM_MAC, VICTIM_IP, 80, mac, src, sport, TcpFlag.SYN | TcpFlag.ACK, y, x + 1, 0);
      pipe.process(p);
      if (i % 50_000 === 49_999) {
        const rss = process.memoryUsage().rss / 1048576;
        samples.push(Math.round(rss));
        if (rss > peak) peak = rss;
        await drain();
      }
    }
    // One more second of real traffic after the flood, then the end of the capture.
    for (let i = 0; i < 40; i++) realExchange(pipe, p, i % CLIENTS, t0 + 1 + n * FLOOD_GAP_S + 0.1 + i * 0.025, session++);
    pipe.flush();
    await drain();
    // The summary of the new devices beyond the notice limit in the last interval, if any.
    const tail = detector.flushNotices();
    alerts += tail.length;
    notices += tail.length;
    sink.write(tail);
    const elapsed = (performance.now() - start) / 1000;
    const invFile = path.join(dir, 'inventory.json');
    pipe.saveInventory(invFile);
    const entries = pipe.inventory.entries();
    const real = [victimId, `mac:${macText(DNS_MAC)}`, ...Array.from({ length: CLIENTS }, (_, k) => `mac:${macText(0x00095b000010 + k)}`)];
    const listed = new Set(entries.map((e) => e.device_id));
    return {
      packets: n,
      real_devices: real,
      inventory_entries: entries.length,
      real_devices_listed: real.filter((id) => listed.has(id)).length,
      device_handles: pipe.inventory.size,
      windows_emitted: windowsEmitted,
      victim_windows: victimWindows,
      alerts,
      new_device_notices: notices,
      detections,
      victim: victimId,
      alerts_file_bytes: statSync(alertsFile, { throwIfNoEntry: false })?.size ?? 0,
      inventory_file_bytes: statSync(invFile).size,
      peak_rss_mb: Math.round(peak),
      rss_mb_samples: samples,
      inventory_counters: pipe.inventory.counters().snapshot(),
      elapsed_s: Math.round(elapsed * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'));
if (isMain) {
  const mode = process.argv[2] ?? 'throughput';
  const n = Number(process.argv[3] ?? 1_000_000);
  if (mode === 'flood-internal') {
    floodInternal(n).then(
      (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
      (err: unknown) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(1);
      },
    );
  } else {
    const result = mode === 'flood' ? flood(n) : throughput(n, Number(process.argv[4] ?? 5));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}
