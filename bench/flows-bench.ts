/**
 * Flows + inventory + feature windows throughput on decoded packets (no capture reading or decoding in the loop),
 * and peak memory under a spoofed-source SYN flood.
 *
 *   node dist/bench/flows-bench.js throughput [packets=1000000] [runs=5]
 *   node dist/bench/flows-bench.js flood [packets=1000000]
 *
 * Prints one JSON object. `throughput`: packets/s of the full AnalysisPipeline and of the FlowTable alone, median
 * of the runs. `flood`: RSS sampled every 50k packets while a flood of distinct spoofed external sources goes
 * through the pipeline with default options, the victim answering each SYN with a SYN-ACK; the packets are generated
 * on the fly (no input held in memory).
 */
import { performance } from 'node:perf_hooks';
import { AnalysisPipeline } from '../src/pipeline.js';
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

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'));
if (isMain) {
  const mode = process.argv[2] ?? 'throughput';
  const n = Number(process.argv[3] ?? 1_000_000);
  const result = mode === 'flood' ? flood(n) : throughput(n, Number(process.argv[4] ?? 5));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
