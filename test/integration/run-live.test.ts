/**
 * `wardwatch run -i IFACE` as a user runs it (the real CLI, the embedded default: no Kafka, no InfluxDB): a veth pair
 * (no addresses, IPv6 off), a crafted port scan replayed into one end with tcpreplay, the CLI capturing on the other:
 *  - stopped with SIGINT after the scan, it exits 0 within 5 s, having flushed the open window through the detector:
 *    the port-scan alert is in alerts.jsonl and on stdout, the summary is printed, the inventory saved, the report
 *    written; libpcap's counters are in the summary;
 *  - with 1 s windows, the alert is printed while the capture still runs (the window closed on a quiet wire);
 *  - `--list-interfaces` lists the pair; an unprivileged user gets one `WW_CAPTURE_PERMISSION` line.
 * Needs root, tcpreplay and ip: skipped with a message otherwise, but FAILS when CI=true. Usage errors and a missing
 * libpcap binding (`WW_CAPTURE_BINDING`) are checked without root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as W from '../../src/capture/pcap-file/writer.js';
import type { Alert } from '../../src/records/alert.js';
import { LinkType } from '../../src/records/packet.js';
import { portScanFrames, SCAN_BPF } from '../support/port-scan.js';
import { createVethPair, deleteVethPair, liveCaptureMissing } from '../support/veth.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(REPO, 'dist/src/cli/main.js');


function wardwatch(args: string[], o: { cli?: string; cwd?: string; uid?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [o.cli ?? CLI, ...args], {
    cwd: o.cwd ?? REPO,
    encoding: 'utf8',
    env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' },
    timeout: 60_000,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `wardwatch run -i`: its output so far, and waits on it. */
class LiveRun {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  exitedAt = 0;

  constructor(args: string[], cwd: string) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) =>
      this.child.on('exit', (code) => {
        this.exitedAt = Date.now();
        r(code);
      }),
    );
  }

  async waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (this.child.exitCode !== null) throw new Error(`wardwatch exited (${this.child.exitCode}) before ${what}:\n${this.stderr}\n${this.stdout}`);
      if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms:\nstderr:\n${this.stderr}\nstdout:\n${this.stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal`; resolves with the exit code and the milliseconds from the signal to the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; ms: number }> {
    const t = Date.now();
    this.child.kill(signal);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const code = await this.exited;
    clearTimeout(kill);
    return { code, ms: this.exitedAt - t };
  }
}

function replay(iface: string, file: string, args: string[]): number {
  const out = execFileSync('tcpreplay', ['-i', iface, ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /Actual: (\d+) packets/.exec(out);
  assert.ok(m, `tcpreplay printed no packet count:\n${out}`);
  return Number(m[1]);
}

/** Waits until a replay taking about `spanMs` from now would end well inside one window of `windowMs` (a scan cut by a window boundary is two windows). */
async function inOneWindow(windowMs: number, spanMs: number): Promise<void> {
  const at = Date.now() % windowMs;
  if (at + spanMs + 500 > windowMs) await new Promise((r) => setTimeout(r, windowMs - at + 50));
}

function readAlerts(file: string): Alert[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert) : [];
}

describe('wardwatch run -i: usage and a missing libpcap binding (no root needed)', function () {
  this.timeout(60_000);
  let dir = '';
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'ww-run-live-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('documents -i, the live options and --list-interfaces in --help, with examples', () => {
    const h = wardwatch(['run', '--help']);
    assert.equal(h.code, 0);
    for (const o of ['-i, --interface <name>', '-f, --filter <bpf>', '--snaplen <bytes>', '--buffer-size <bytes>', '--list-interfaces']) assert.ok(h.stdout.includes(o), o);
    assert.match(h.stdout, /Examples:\n(.*\n)*.*wardwatch run -i eth1/);
  });

  it('a capture file and -i together, or a live option without -i: one line, exit 2', () => {
    for (const [args, field] of [
      [['run', 'captures/demo.pcap', '-i', 'lo'], '--interface'],
      [['run', '-f', 'tcp'], '--filter'],
      [['run', '-i', 'lo', '--snaplen', 'big'], '--snaplen'],
    ] as const) {
      const r = wardwatch([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^wardwatch: WW_CONFIG_INVALID: ${field}: .+\n$`));
    }
  });

  it('without the libpcap binding: -i and --list-interfaces fail with one WW_CAPTURE_BINDING line', () => {
    // The built CLI and its dependencies, without the capture addon (src/capture/live/addon/build).
    const root = path.join(dir, 'no-cap');
    mkdirSync(path.join(root, 'node_modules'), { recursive: true });
    cpSync(path.join(REPO, 'dist', 'src'), path.join(root, 'dist', 'src'), { recursive: true });
    cpSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
    for (const m of readdirSync(path.join(REPO, 'node_modules'))) {
      if (m !== '.bin') symlinkSync(path.join(REPO, 'node_modules', m), path.join(root, 'node_modules', m));
    }
    const cli = path.join(root, 'dist/src/cli/main.js');
    for (const args of [['run', '-i', 'lo', '--alerts', path.join(dir, 'a.jsonl')], ['run', '--list-interfaces']]) {
      const r = wardwatch(args, { cli, cwd: dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^wardwatch: WW_CAPTURE_BINDING: live: the libpcap capture addon is not built \(.+wardwatch_capture\.node missing\) — install libpcap-dev, python3, make and g\+\+, then run 'npm run rebuild:capture'\n$/);
    }
  });
});

describe('wardwatch run -i on a veth pair (real CLI, embedded default, tcpreplay)', function () {
  this.timeout(60_000);
  const tag = `wr${process.pid % 100000}`;
  const ifOut = `${tag}a`;
  const ifIn = `${tag}b`;
  let dir = '';
  let created = false;
  let scan = '';
  let scanFrames = 0;

  before(function () {
    const missing = liveCaptureMissing();
    if (missing !== '') {
      if (process.env['CI'] === 'true') throw new Error(`run -i test needs root and tcpreplay: ${missing} (CI=true: failing)`);
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'ww-run-live-'));
    createVethPair(ifOut, ifIn);
    created = true;
    scan = path.join(dir, 'scan.pcap');
    const frames = portScanFrames(1767603600);
    scanFrames = frames.length;
    writeFileSync(scan, W.encodePcap(frames, { linktype: LinkType.ETHERNET }));
  });

  after(() => {
    if (created) deleteVethPair(ifOut);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** A scratch directory with a config that keeps every file in it. */
  function scratch(name: string, extra: Record<string, unknown> = {}): { cwd: string; config: string; alerts: string; inventory: string } {
    const cwd = path.join(dir, name);
    mkdirSync(cwd);
    const inventory = path.join(cwd, 'inventory.json');
    const config = path.join(cwd, 'wardwatch.yaml');
    writeFileSync(config, JSON.stringify({ sensor: { id: 'run-live-test' }, devices: { state_file: inventory }, ...extra }));
    return { cwd, config, alerts: path.join(cwd, 'alerts.jsonl'), inventory };
  }

  it('lists the pair with --list-interfaces', () => {
    const r = wardwatch(['run', '--list-interfaces']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${ifIn}\\b`, 'm'));
  });

  it('SIGINT after a port scan: exits 0 within 5 s; the open window was scored: alert in alerts.jsonl and on stdout, summary, inventory, report', async () => {
    const s = scratch('stop');
    const report = path.join(s.cwd, 'report.html');
    const run = new LiveRun(['run', '-i', ifIn, '-f', SCAN_BPF, '-c', s.config, '--alerts', s.alerts, '--models-dir', path.join(s.cwd, 'no-models'), '--report', report], s.cwd);
    try {
      await run.waitFor('"capturing on"', () => run.stderr.includes(`run: capturing on ${ifIn}`), 30_000);
      await inOneWindow(10_000, 200);
      assert.equal(replay(ifOut, scan, ['--pps', '1000']), scanFrames);
      await new Promise((r) => setTimeout(r, 500)); // the frames reach the sensor (its 10 s window stays open)
      assert.deepEqual(readAlerts(s.alerts), [], 'nothing is alerted before the window closes');
      const { code, ms } = await run.stop('SIGINT');
      console.log(`      (exited ${ms} ms after SIGINT)`);
      assert.equal(code, 0, run.stderr);
      assert.ok(ms < 5000, `exited ${ms} ms after SIGINT`);
    } finally {
      if (run.child.exitCode === null) await run.stop('SIGKILL');
    }
    const alerts = readAlerts(s.alerts);
    const scanAlert = alerts.find((a) => a.kind === 'port_scan');
    assert.ok(scanAlert, `no port_scan alert in alerts.jsonl: ${JSON.stringify(alerts.map((a) => a.kind))}\n${run.stderr}`);
    assert.match(scanAlert.summary, /port scan: 41 destination ports in one window \(41 SYNs sent, 1 answered, 40 rejected\)/);
    // Streamed to the terminal, then the summary as for a file.
    assert.match(run.stdout, /^time \(UTC\)\s+severity\s+kind\s+device/m);
    assert.match(run.stdout, /HIGH\s+port_scan\s+/);
    assert.match(run.stdout, new RegExp(`^3 incidents \\(0 anomaly, 1 behavioural, 2 new-device notices\\) in ${alerts.length} alert records \\(${alerts.length - 3} updates?\\); written to ${s.alerts.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`, 'm'));
    assert.match(run.stderr, new RegExp(`^run: ${scanFrames} packets, 0 dropped by the capture \\(libpcap\\), 2 devices, \\d+ windows scored \\(TF\\.js backend \\w+\\), 3 incidents \\(.*\\) in ${alerts.length} alert records \\(.*\\)$`, 'm'));
    assert.ok(existsSync(s.inventory), 'inventory saved');
    assert.equal((JSON.parse(readFileSync(s.inventory, 'utf8')) as { devices: unknown[] }).devices.length, 2);
    assert.ok(readFileSync(report, 'utf8').includes(`live:${ifIn}`), 'report names the interface');
  });

  it('with 1 s windows: the alert is printed while the capture runs (window closed on a quiet wire); SIGTERM stops it', async () => {
    const s = scratch('idle', { features: { window_ms: 1000 } });
    const run = new LiveRun(['run', '-i', ifIn, '-f', SCAN_BPF, '-c', s.config, '--alerts', s.alerts, '--models-dir', path.join(s.cwd, 'no-models'), '--snaplen', '1600', '--buffer-size', '4194304'], s.cwd);
    try {
      await run.waitFor('"capturing on"', () => run.stderr.includes(`run: capturing on ${ifIn}`), 30_000);
      await inOneWindow(1000, 200);
      replay(ifOut, scan, ['--pps', '1000']);
      // ≤ 1 s to the window's end, the 2 s grace, a 1 s tick, scoring.
      await run.waitFor('the port scan alert on stdout', () => /port_scan/.test(run.stdout), 8000);
      await run.waitFor('the port scan alert in alerts.jsonl', () => readAlerts(s.alerts).some((a) => a.kind === 'port_scan'), 2000);
      const { code, ms } = await run.stop('SIGTERM');
      assert.equal(code, 0, run.stderr);
      assert.ok(ms < 5000, `exited ${ms} ms after SIGTERM`);
    } finally {
      if (run.child.exitCode === null) await run.stop('SIGKILL');
    }
    assert.match(run.stdout, /0 anomaly, 1 behavioural/);
    assert.equal(readAlerts(s.alerts).filter((a) => a.kind === 'port_scan').length, 1, 'not alerted twice');
  });

  it('an unprivileged user: one WW_CAPTURE_PERMISSION line (run as root or give CAP_NET_RAW), exit 1', () => {
    const cwd = path.join(dir, 'nobody');
    mkdirSync(cwd);
    chmodSync(dir, 0o755);
    chmodSync(cwd, 0o777);
    // The shipped models (an empty store would add its warning line before the error).
    const r = wardwatch(['run', '-i', ifIn, '--alerts', path.join(cwd, 'alerts.jsonl'), '--models-dir', path.resolve('models')], { cwd, uid: 65534 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^wardwatch: WW_CAPTURE_PERMISSION: live:${ifIn}: no permission to capture \\(.+\\) — run as root, or give node CAP_NET_RAW: sudo setcap cap_net_raw\\+eip .+\n$`));
  });
});
