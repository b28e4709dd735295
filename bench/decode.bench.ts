/**
 * Capture-file reading and decoding throughput on the generated ≥1M-packet capture, beside tcpdump and tshark run on
 * the same file in the same command. Every measured program runs as its own process pinned to one core
 * (`taskset -c 1` when available), one run at a time; packets/s is computed from each process's wall time
 * (start-up included, as for the reference tools). The decode-loop-only rate is given in the notes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBenchCapture } from './gen-capture.js';
import { registerBenchmark, type BenchRow, type Measurement } from './registry.js';
import { pinned, pinPrefix, pps, timedRun } from './timing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');

const PACKETS = Number(process.env['WW_BENCH_PACKETS'] ?? 1_000_000);
const RUNS = Number(process.env['WW_BENCH_RUNS'] ?? 5);
const TSHARK_RUNS = Number(process.env['WW_BENCH_TSHARK_RUNS'] ?? 3);






interface Both {
  cpu: Measurement;
  wall: Measurement;
}

function measureTool(packets: number, runs: number, argv: string[]): Both {
  const t = Array.from({ length: runs }, () => timedRun(argv, { stdoutToNull: true }));
  return { cpu: pps(packets, t.map((x) => x.cpu)), wall: pps(packets, t.map((x) => x.wall)) };
}

interface WorkerResult {
  packets: number;
  seconds: number;
  cpu_seconds: number;
  rss: number[];
  malformed: number;
}

function measureOurs(file: string, mode: string): Both & { loop: Measurement; loopCpu: Measurement; peakRssMb: number; rssGrowthMb: number; malformed: number } {
  const walls: number[] = [];
  const cpus_: number[] = [];
  const loops: number[] = [];
  const loopCpus: number[] = [];
  let peak = 0;
  let growth = 0;
  let packets = 0;
  let malformed = 0;
  const worker = path.join(repoRoot, 'dist', 'bench', 'decode-worker.js');
  for (let i = 0; i < RUNS; i++) {
    const t = timedRun([process.execPath, worker, file, mode]);
    const res = JSON.parse(t.stdout) as WorkerResult;
    packets = res.packets;
    malformed = res.malformed;
    walls.push(t.wall);
    cpus_.push(t.cpu);
    loops.push(res.seconds);
    loopCpus.push(res.cpu_seconds);
    peak = Math.max(peak, ...res.rss);
    // Growth between the first sample (25 ms into the loop) and the end.
    growth = Math.max(growth, (res.rss[res.rss.length - 1] ?? 0) - (res.rss[0] ?? 0));
  }
  return { wall: pps(packets, walls), cpu: pps(packets, cpus_), loop: pps(packets, loops), loopCpu: pps(packets, loopCpus), peakRssMb: peak / 2 ** 20, rssGrowthMb: growth / 2 ** 20, malformed };
}

const TSHARK_FIELDS = ['frame.time_epoch', 'frame.len', 'eth.src', 'eth.dst', 'vlan.id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.proto', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.flags'];
const TSHARK_APP_FIELDS = [...TSHARK_FIELDS, 'dns.qry.name', 'tls.handshake.extensions_server_name', 'mqtt.topic', 'dhcp.option.hostname'];

registerBenchmark({
  name: 'decode',
  title: 'Capture decode',
  run() {
    const file = ensureBenchCapture(repoRoot, PACKETS);
    const rel = path.relative(repoRoot, file);
    const tcpdumpArgv = ['tcpdump', '-r', file, '-w', '/dev/null'];
    const tsharkArgv = (fields: string[]): string[] => ['tshark', '-n', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];

    const read = measureOurs(file, 'read');
    const l2l4 = measureOurs(file, 'l2l4');
    const full = measureOurs(file, 'full');

    const tcpdump = measureTool(PACKETS, RUNS, tcpdumpArgv);
    const tshark = measureTool(PACKETS, TSHARK_RUNS, tsharkArgv(TSHARK_FIELDS));
    const tsharkApp = measureTool(PACKETS, TSHARK_RUNS, tsharkArgv(TSHARK_APP_FIELDS));

    const ref = (tool: string, m: Both, command: string): BenchRow['references'][number] => ({
      tool,
      measurement: m.cpu,
      command,
      note: `by wall time: median ${fmt(m.wall.median)} packets/s (runs ${m.wall.runs.map(fmt).join(', ')})`,
    });
    const inner = (m: { loopCpu: Measurement }): BenchRow['oursInner'] => ({ label: 'loop only', measurement: m.loopCpu });
    const cmd = (argv: string[]): string => [...pinPrefix, ...argv].join(' ').replace(file, rel);
    const mem = (m: Both & { peakRssMb: number; rssGrowthMb: number; loop: Measurement; malformed: number }): string[] => [
      `by wall time: whole process ${fmt(m.wall.median)} packets/s (runs ${m.wall.runs.map(fmt).join(', ')}); read/decode loop only ${fmt(m.loop.median)} packets/s`,
      `peak RSS ${m.peakRssMb.toFixed(0)} MiB, RSS growth from 25 ms into the run to the end ≤ ${m.rssGrowthMb.toFixed(1)} MiB`,
      `malformed frames: ${m.malformed}`,
    ];
    const rows: BenchRow[] = [
      {
        what: 'read frames (pcap reader, no decode)',
        ours: read.cpu,
        oursInner: inner(read),
        references: [ref('tcpdump -r -w /dev/null', tcpdump, cmd(tcpdumpArgv))],
        notes: mem(read),
      },
      {
        what: 'decode L2–L4',
        ours: l2l4.cpu,
        oursInner: inner(l2l4),
        references: [ref('tcpdump -r -w /dev/null', tcpdump, cmd(tcpdumpArgv)), ref('tshark -T fields (L2–L4 fields)', tshark, `${cmd(tsharkArgv(TSHARK_FIELDS))} > /dev/null`)],
        notes: mem(l2l4),
      },
      {
        what: 'decode L2–L4 + application metadata',
        ours: full.cpu,
        oursInner: inner(full),
        references: [ref('tshark -T fields (+ DNS/TLS/MQTT/DHCP fields)', tsharkApp, `${cmd(tsharkArgv(TSHARK_APP_FIELDS))} > /dev/null`)],
        notes: mem(full),
      },
    ];
    return Promise.resolve({
      description: [
        `Input: \`${rel}\`, ${fmt(PACKETS)} packets generated deterministically by \`bench/gen-capture.ts\` (Ethernet with/without 802.1Q and QinQ, IPv4/IPv6, TCP sessions with handshakes, DNS, other UDP, ARP, ICMP, TLS/HL7/MQTT/DHCP payloads). Not committed; rebuilt by the command when missing.`,
        `Each program is a separate process${pinned ? ' pinned to CPU 1 (`taskset -c 1`)' : ' (not pinned: taskset unavailable or one CPU)'}, run one at a time under bash's \`time\`. The table's packets/s = packets ÷ the process's CPU time (user + system, start-up included): the machine is shared, and CPU time measures the work done on one core even when other jobs take turns on it. Wall-time figures are in the details. "loop only" is wardwatch's steady-state rate: packets ÷ CPU time spent inside the read/decode loop (\`process.cpuUsage\`), without Node's start-up and module loading; that is the figure for the ≥ 2,000,000 packets/s L2–L4 target. wardwatch and tcpdump: median of ${RUNS} runs; tshark: median of ${TSHARK_RUNS} runs (slow).`,
        'tcpdump `-r FILE -w /dev/null` only reads and rewrites records (no dissection), so it bounds what a reader can do; tshark `-T fields` dissects every layer, which is the comparable work.',
      ],
      rows,
    });
  },
});

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
