/**
 * The `wardwatch` command as a user runs it: help, exit codes, one-line errors, and a replay of a shipped capture
 * that writes alerts.jsonl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../src/records/alert.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');

function wardwatch(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('wardwatch CLI', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ww-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists its commands in --help, and each command has help with examples', () => {
    const h = wardwatch(['--help']);
    assert.equal(h.code, 0);
    for (const c of ['run', 'replay', 'simulate']) assert.match(h.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    const r = wardwatch(['replay', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--speed <speed>/);
    assert.match(r.stdout, /Examples:/);
  });

  it('replays a shipped capture: alerts table on stdout, alerts.jsonl written', () => {
    const alerts = path.join(dir, 'alerts.jsonl');
    const r = wardwatch(['replay', 'captures/golden/scan.pcap', '--alerts', alerts, '--models-dir', path.join(dir, 'no-models'), '--run-id', 'cli-test']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^time \(UTC\)\s+severity\s+kind\s+device/m);
    const lines = readFileSync(alerts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.ok(lines.length > 0);
    // Without models every device is learning: each gets exactly one new-device notice, tagged with the run id.
    assert.ok(lines.every((a) => a.kind === 'new_device' && a.run_id === 'cli-test'));
    assert.equal(new Set(lines.map((a) => a.device_id)).size, lines.length);
    assert.match(r.stderr, /replay: [\d,]+ packets, \d+ devices, [\d,]+ windows scored/);
  });

  it('writes Zeek-like flow records to sinks.files.flows_file, rotated by size', () => {
    const flows = path.join(dir, 'flows', 'flows.jsonl');
    const cfg = path.join(dir, 'flows.yaml');
    writeFileSync(cfg, `sinks:\n  files:\n    flows_file: ${flows}\n    alerts_file: ${path.join(dir, 'fa.jsonl')}\n    max_bytes: 200000\n    keep: 100\n`);
    const r = wardwatch(['replay', 'captures/demo.pcap', '-c', cfg, '-q', '--models-dir', path.join(dir, 'no-models')]);
    assert.equal(r.code, 0, r.stderr);
    const files = [flows, ...Array.from({ length: 100 }, (_, i) => flows.replace('.jsonl', `.${i + 1}.jsonl`))].filter((f) => existsSync(f));
    assert.ok(files.length >= 2, `rotated at 200 kB: ${files.length} files`);
    const records = files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { uid: string; conn_state: string; orig_h: string; proto: string }));
    for (const f of files) assert.ok(readFileSync(f).length <= 200000, `${f} stays within max_bytes`);
    assert.ok(records.length > 10);
    assert.equal(new Set(records.map((x) => x.uid)).size, records.length, 'each flow once');
    assert.ok(records.some((x) => x.proto === 'tcp' && x.conn_state === 'SF'));
  });

  it('bad input: a clear one-line error and a non-zero exit', () => {
    const cases: [string[], number, RegExp][] = [
      [['replay', path.join(dir, 'missing.pcap')], 1, /^wardwatch: WW_CAPTURE_UNREADABLE: .*missing\.pcap: no such file$/],
      [['replay', 'README.md'], 1, /^wardwatch: WW_CAPTURE_NOT_A_CAPTURE: README\.md: not a pcap or pcapng/],
      [['replay', 'captures/golden/scan.pcap', '--speed', 'fast'], 2, /^wardwatch: WW_CONFIG_INVALID: --speed: 'fast' is not a speed/],
      [['run', '-c', path.join(dir, 'nope.yaml')], 2, /^wardwatch: WW_CONFIG_INVALID: --config: cannot read .*nope\.yaml: no such file$/],
    ];
    writeFileSync(path.join(dir, 'bad.yaml'), 'transport:\n  kind: rabbitmq\n');
    cases.push([['run', '-c', path.join(dir, 'bad.yaml')], 2, /^wardwatch: WW_CONFIG_INVALID: transport\.kind: must be one of "memory", "kafka"/]);
    cases.push([['frobnicate'], 1, /unknown command 'frobnicate'/]);
    for (const [args, code, message] of cases) {
      const r = wardwatch(args);
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      const errLines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
      assert.match(errLines[0] ?? '', message, args.join(' '));
    }
  });
});
