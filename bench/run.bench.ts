/**
 * Issue 19, cost: `wardwatch run` (pcap → decode → flows → features → detector with models and behavioural rules →
 * alerts.jsonl) on the flows benchmark's simulated hospital capture, whole process on one core, beside tcpdump on the
 * same file and — when `WW_BENCH_BEFORE=<repo root of an older build>` is given — the same command of that build (its
 * own dist/ and models/), measured in the same run. Same method as the flows benchmark: separate processes pinned to
 * one core, packets ÷ CPU time of the process, medians.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureHospitalCapture } from './gen-hospital.js';
import { fmt, repoRoot } from './decode.bench.js';
import { median, registerBenchmark, type BenchRow, type Measurement } from './registry.js';
import { pinPrefix, pps, timedRun, type Timed } from './timing.js';

const PACKETS = Number(process.env['WW_BENCH_PACKETS'] ?? 1_000_000);
const RUNS = Number(process.env['WW_BENCH_RUNS'] ?? 3);




/** `wardwatch run` of the build at `root` with its own models, in a scratch directory; returns timings and alert counts. */
function runBuild(root: string, capture: string, packets: number): { cpu: Measurement; wall: Measurement; alerts: number; kinds: Record<string, number> } {
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const times: Timed[] = [];
  let alerts = 0;
  const kinds: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'ww-bench-run-'));
    try {
      const alertsFile = path.join(dir, 'alerts.jsonl');
      times.push(timedRun([process.execPath, cli, 'run', capture, '--models-dir', path.join(root, 'models'), '--alerts', alertsFile, '-q'], { cwd: dir, stdoutToNull: true, env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } }));
      if (i === 0 && existsSync(alertsFile)) {
        const lines = readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean);
        alerts = lines.length;
        for (const l of lines) {
          const k = (JSON.parse(l) as { kind: string }).kind;
          kinds[k] = (kinds[k] ?? 0) + 1;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { cpu: pps(packets, times.map((t) => t.cpu)), wall: pps(packets, times.map((t) => t.wall)), alerts, kinds };
}

/** Detector.score windows/s of the build at `root` (its bench/model.js on the wasm backend: 100 devices × 100 windows). */
function scoring(root: string): Measurement {
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'bench', 'model.js'), '--backends', 'wasm', '--repeats', '3'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' },
  });
  if (r.status !== 0) throw new Error(`model bench of ${root} failed: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.split('\n')[0] ?? '{}') as { results: { backend: string; score_detector_windows_per_s_all: number[] }[] };
  const runs = out.results.find((x) => x.backend === 'wasm')?.score_detector_windows_per_s_all ?? [];
  return { median: median(runs), runs, unit: 'windows/s' };
}

registerBenchmark({
  name: 'run',
  title: 'wardwatch run: capture to alerts',
  run() {
    const hospital = ensureHospitalCapture(repoRoot, PACKETS);
    const n = hospital.frames;
    const rel = path.relative(repoRoot, hospital.file);
    const ours = runBuild(repoRoot, hospital.file, n);
    const tcpdump = Array.from({ length: RUNS }, () => timedRun(['tcpdump', '-r', hospital.file, '-w', '/dev/null'], { cwd: repoRoot, stdoutToNull: true }));
    const before = process.env['WW_BENCH_BEFORE'];
    const references: BenchRow['references'] = [
      { tool: 'tcpdump -r -w /dev/null', measurement: pps(n, tcpdump.map((t) => t.cpu)), command: [...pinPrefix, 'tcpdump', '-r', rel, '-w', '/dev/null'].join(' ') },
    ];
    const notes = [
      `input \`${rel}\` (${fmt(n)} packets, ${hospital.hours} h, 200 devices; the flows benchmark's); models: the committed demo models (\`models/\`, class models score the hospital's devices once they leave learning)`,
      `by wall time: ${fmt(ours.wall.median)} packets/s; ${fmt(ours.alerts)} alert records (${Object.entries(ours.kinds).map(([k, c]) => `${k} ${fmt(c)}`).join(', ') || 'none'})`,
    ];
    const score = scoring(repoRoot);
    const scoreRefs: BenchRow['references'] = [];
    if (before) {
      const b = runBuild(path.resolve(before), hospital.file, n);
      scoreRefs.push({ tool: 'Detector.score before this change', measurement: scoring(path.resolve(before)), command: `WW_BENCH_BEFORE=${before}` });
      let commit = '?';
      try {
        commit = spawnSync('git', ['-C', before, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
      } catch {
        /* not a checkout */
      }
      references.push({ tool: `wardwatch run before this change (${commit})`, measurement: b.cpu, command: `WW_BENCH_BEFORE=${before}`, note: `its own dist/ and models/; ${fmt(b.alerts)} alert records` });
    }
    return Promise.resolve({
      description: [
        '`wardwatch run CAPTURE --models-dir models --alerts FILE -q`: the whole embedded pipeline (read, decode, flows, inventory, features, the detector with its models and behavioural rules, alerts.jsonl, the saved inventory), one process pinned to one core, packets ÷ CPU time of the process (start-up, module loading and model loading included), median of ' +
          `${RUNS} runs. Target (issue 19): ≥ 400,000 packets/s. With \`WW_BENCH_BEFORE=<root of an older checkout, built>\` the same command of that build is measured in the same run (the "before" column).`,
      ],
      rows: [
        { what: `wardwatch run, simulated hospital (${hospital.hours} h, 200 devices), ${fmt(n)} packets`, ours: ours.cpu, references, notes },
        {
          what: 'scoring: Detector.score end to end (model, K-of-N, behavioural rules, WindowScores, alerts), 100 devices × 100 windows, wasm backend',
          ours: score,
          references: scoreRefs,
          notes: ['`node dist/bench/model.js --backends wasm` (the model benchmark\'s detector row), not pinned; target (issue 19): ≥ 200,000 windows/s'],
        },
      ],
    });
  },
});
