/**
 * The `wardwatch` command as a user runs it: help, exit codes, one-line errors, and a replay of a shipped capture
 * that writes alerts.jsonl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../src/records/alert.js';
import type { InventoryEntry } from '../../src/records/device.js';
import type { ModelMetadata } from '../../src/detect/store.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');

function wardwatch(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repo): { code: number; stdout: string; stderr: string } {
  // The user's defaults: no logging variables from the environment running the tests.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WARDWATCH_LOG_LEVEL' && k !== 'WARDWATCH_LOG_FORMAT'));
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...base, ...env }, timeout: 120_000 });
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
    for (const c of ['run', 'replay', 'simulate', 'inventory', 'models']) assert.match(h.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    for (const sub of [['inventory'], ['inventory', 'export'], ['models'], ['models', 'show']]) {
      const s = wardwatch([...sub, '--help']);
      assert.equal(s.code, 0, sub.join(' '));
      assert.match(s.stdout, /Examples:\n {2}wardwatch /, sub.join(' '));
    }
    assert.match(wardwatch(['run', '--help']).stdout, /--report <file>/);
    const r = wardwatch(['replay', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--speed <speed>/);
    assert.match(r.stdout, /--report <file>/);
    assert.match(r.stdout, /Examples:/);
  });

  it('replays a shipped capture: alerts table on stdout, alerts.jsonl written', () => {
    const alerts = path.join(dir, 'alerts.jsonl');
    const r = wardwatch(['replay', 'captures/golden/scan.pcap', '--alerts', alerts, '--models-dir', path.join(dir, 'no-models'), '--run-id', 'cli-test']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^time \(UTC\)\s+severity\s+kind\s+device/m);
    const lines = readFileSync(alerts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.ok(lines.length > 0);
    // Without models every device is learning: each gets exactly one new-device notice, tagged with the run id; the
    // baseline-free behavioural rules still see the scan.
    assert.ok(lines.every((a) => a.run_id === 'cli-test'));
    const notices = lines.filter((a) => a.kind === 'new_device');
    assert.ok(notices.length > 0);
    assert.equal(new Set(notices.map((a) => a.device_id)).size, notices.length);
    assert.ok(lines.some((a) => a.kind === 'port_scan' || a.kind === 'host_sweep'), JSON.stringify(lines.map((a) => a.kind)));
    assert.ok(lines.every((a) => a.kind !== 'anomaly'), 'no model, no anomaly alert');
    assert.match(r.stderr, /replay: [\d,]+ packets, \d+ devices, [\d,]+ windows scored/);
  });

  it('forensic replay is reproducible: the demo capture at full speed and paced at 500x and 1000x gives the same alerts', () => {
    const runs = ['max', '500x', '1000x'].map((speed) => {
      const file = path.join(dir, `alerts-${speed}.jsonl`);
      const r = wardwatch(['replay', 'captures/demo.pcap', '--speed', speed, '--alerts', file, '--run-id', 'speed-test']);
      assert.equal(r.code, 0, r.stderr);
      const reported = Number(/in (\d+) alert records \(\d+ updates?\)\s*$/m.exec(r.stderr)?.[1]);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, reported, `${speed}: every alert of the run is in the file`);
      return lines.sort();
    });
    assert.ok(runs[0]!.length > 20);
    assert.deepEqual(runs[1], runs[0], '500x');
    assert.deepEqual(runs[2], runs[0], '1000x');
  });

  it('the README\'s first command (scripts/demo.sh): alert table, alerts.jsonl and report.html in the working folder', () => {
    // demo.sh runs set-up (npm ci, build) and then this command line; run the command line as written there, in a
    // scratch folder that has the repository's captures/ and models/.
    const line = readFileSync(path.join(repo, 'scripts', 'demo.sh'), 'utf8').split('\n').find((l) => l.startsWith('node dist/src/cli/main.js run '));
    assert.ok(line, 'demo.sh runs wardwatch run');
    const args = line.replace(/\s*"\$@"\s*$/, '').split(/\s+/).slice(2);
    const work = path.join(dir, 'demo');
    mkdirSync(work);
    for (const d of ['captures', 'models']) symlinkSync(path.join(repo, d), path.join(work, d));
    const t0 = Date.now();
    const r = wardwatch(args, {}, work);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^time \(UTC\)\s+severity\s+kind\s+device\s+class\s+score$/m);
    // Issue 22: the table fits 120 columns where there is no terminal to ask (the last line is the closing summary).
    const table = r.stdout.trimEnd().split('\n').slice(0, -1);
    assert.deepEqual(table.filter((l) => [...l].length > 120), [], 'table lines wider than 120 columns');
    const alerts = readFileSync(path.join(work, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    const anomalies = alerts.filter((a) => a.kind === 'anomaly');
    assert.ok(anomalies.length >= 5, `${anomalies.length} anomaly alerts on the demo capture`);
    assert.equal(r.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[A-Z]+\s+[a-z_]+\s/.test(l)).length, alerts.length, 'one table row per alert');
    const html = readFileSync(path.join(work, 'report.html'), 'utf8');
    // One report row per alert id (an incident's updates are lines of alerts.jsonl, one row in the report).
    assert.equal(html.match(/<tbody class="alert" /g)?.length, new Set(alerts.map((a) => a.alert_id)).size);
    assert.match(r.stderr, /run: report written to report\.html \(\d+ kB\)/);
    assert.ok(existsSync(path.join(work, 'out', 'inventory.json')), 'the inventory is saved for `wardwatch inventory`');
    console.log(`      demo command: ${seconds.toFixed(1)} s wall, ${alerts.length} alerts, report ${(html.length / 1024).toFixed(0)} kB`);
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

  it('models list|show: the shipped model store, as its metadata says', () => {
    const refs: { kind: string; id: string; md: ModelMetadata }[] = [];
    for (const kind of ['device', 'class', 'population']) {
      if (!existsSync(path.join(repo, 'models', kind))) continue;
      for (const enc of readdirSync(path.join(repo, 'models', kind))) {
        const v = readFileSync(path.join(repo, 'models', kind, enc, 'latest'), 'utf8').trim();
        refs.push({ kind, id: decodeURIComponent(enc), md: JSON.parse(readFileSync(path.join(repo, 'models', kind, enc, `v${v}`, 'metadata.json'), 'utf8')) as ModelMetadata });
      }
    }
    assert.ok(refs.length >= 2);
    const l = wardwatch(['models', 'list']);
    assert.equal(l.code, 0, l.stderr);
    const rows = l.stdout.split('\n').filter((line) => /^(device|class|population)\s/.test(line));
    assert.equal(rows.length, refs.length);
    for (const r of refs) {
      const row = rows.find((line) => line.split(/\s+/)[1] === r.id);
      assert.ok(row, `${r.kind}:${r.id} listed`);
      const cells = row.split(/\s{2,}/);
      assert.equal(cells[0], r.kind);
      assert.equal(cells[2], `v${r.md.version}`);
      assert.equal(cells[3], r.md.samples.total.toLocaleString('en-US'));
      assert.equal(Number(cells[4]), Number(r.md.threshold.value.toPrecision(4)));
      assert.equal(cells[6], `v${r.md.feature_schema_version}`);
      assert.equal(cells[7], r.md.backend);
      assert.match(cells[8] ?? '', /^\d+\.\d kB$/);
    }
    // No store of the user's (out/models) in the repository: the shipped demo models, named as such.
    assert.ok(l.stdout.includes(`\n${refs.length} models in ${path.resolve('models')} (the shipped demo models)\n`), l.stdout);
    const cls = refs.find((r) => r.kind === 'class')!;
    const dev = refs.find((r) => r.kind === 'device')!;
    for (const [query, r] of [[cls.id, cls], [`class:${cls.id}@v${cls.md.version}`, cls], [dev.id, dev]] as const) {
      const s = wardwatch(['models', 'show', query]);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`^model\\s+${r.kind}:${r.id}@v${r.md.version}$`, 'm'));
      assert.match(s.stdout, new RegExp(`^samples\\s+${r.md.samples.total} windows: ${r.md.samples.train} train`, 'm'));
      assert.match(s.stdout, new RegExp(`^data hash\\s+${r.md.data_hash}$`, 'm'));
    }
    const empty = path.join(dir, 'empty-store');
    rmSync(empty, { recursive: true, force: true });
    const none = wardwatch(['models', 'list', '--models-dir', empty]);
    assert.equal(none.code, 1);
    assert.match(none.stderr.trim(), /^wardwatch: WW_MODEL_MISSING: .*empty-store: no model store \(train one/);
    assert.equal(none.stderr.trim().split('\n').length, 1);
    const unknown = wardwatch(['models', 'show', 'toaster']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr.trim(), new RegExp(`^wardwatch: WW_MODEL_MISSING: toaster: no model in ${path.resolve('models')} `));
    const badVersion = wardwatch(['models', 'show', `${cls.id}@latest`]);
    assert.equal(badVersion.code, 2);
    assert.match(badVersion.stderr, /^wardwatch: WW_CONFIG_INVALID: <device-or-class>: '.*@latest': the version after @ must be a number/);
    const noSuchVersion = wardwatch(['models', 'show', `${cls.id}@v99`]);
    assert.equal(noSuchVersion.code, 1);
    assert.match(noSuchVersion.stderr, new RegExp(`^wardwatch: WW_MODEL_MISSING: class:${cls.id} has no version 99 in ${path.resolve('models')} \\(versions: v1\\)`));
  });

  it('inventory list|show|export: the inventory a replay saved', () => {
    const state = path.join(dir, 'inv', 'inventory.json');
    const cfg = path.join(dir, 'inv.yaml');
    writeFileSync(cfg, `devices:\n  state_file: ${state}\nsinks:\n  files:\n    alerts_file: ${path.join(dir, 'inv-alerts.jsonl')}\n`);
    const missing = wardwatch(['inventory', 'list', '-c', cfg]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr.trim(), /^wardwatch: WW_INVENTORY_MISSING: .*inventory\.json: no saved inventory/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);

    const r = wardwatch(['replay', 'captures/golden/scan.pcap', '-c', cfg, '-q', '--models-dir', path.join(dir, 'no-models')]);
    assert.equal(r.code, 0, r.stderr);
    const saved = (JSON.parse(readFileSync(state, 'utf8')) as { devices: InventoryEntry[] }).devices;
    assert.ok(saved.length >= 2);

    const l = wardwatch(['inventory', 'list', '-c', cfg]);
    assert.equal(l.code, 0, l.stderr);
    const lines = l.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^device\s+name\s+IPs\s+vendor\s+class\s+first seen \(UTC\)\s+last seen \(UTC\)\s+protocols$/);
    assert.deepEqual(lines.slice(2).map((x) => x.split(/\s+/)[0]), saved.map((e) => e.device_id));

    const withIp = saved.find((e) => e.ips.length > 0)!;
    for (const query of [withIp.device_id, withIp.ips[0]!]) {
      const s = wardwatch(['inventory', 'show', query, '--file', state]);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`^device\\s+${withIp.device_id}$`, 'm'));
      assert.match(s.stdout, new RegExp(`^IPs\\s+${withIp.ips.join(', ')}$`, 'm'));
    }
    const nobody = wardwatch(['inventory', 'show', 'nobody', '--file', state]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr.trim(), /^wardwatch: WW_INVENTORY_DEVICE_UNKNOWN: nobody: no such device in /);

    const json = wardwatch(['inventory', 'export', '-c', cfg]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as InventoryEntry[]).map((e) => [e.device_id, e.ips, e.vendor, e.first_seen]), saved.map((e) => [e.device_id, e.ips, e.vendor, e.first_seen]));
    const yaml = wardwatch(['inventory', 'export', '-c', cfg, '--format', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.deepEqual((parseYaml(yaml.stdout) as { devices: InventoryEntry[] }).devices.map((e) => e.device_id), saved.map((e) => e.device_id));
    const csvFile = path.join(dir, 'inv.csv');
    const csv = wardwatch(['inventory', 'export', '-c', cfg, '--format', 'csv', '-o', csvFile]);
    assert.equal(csv.code, 0, csv.stderr);
    const csvLines = readFileSync(csvFile, 'utf8').trim().split('\r\n');
    assert.match(csvLines[0] ?? '', /^device_id,key_kind,mac,ips,vendor,device_class,/);
    assert.deepEqual(csvLines.slice(1).map((x) => x.split(',')[0]), saved.map((e) => e.device_id));
    const bad = wardwatch(['inventory', 'export', '-c', cfg, '--format', 'xml']);
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.stderr, /^wardwatch: WW_USAGE: option '--format <format>' argument 'xml' is invalid\. Allowed choices are json, csv, yaml\. \(see 'wardwatch inventory export --help'\)\n$/);
  });

  it('logs: none by default on a run; text or JSON on request, one line for the models loaded', () => {
    const alerts = path.join(dir, 'alerts-logs.jsonl');
    const args = ['replay', 'captures/golden/scan.pcap', '--alerts', alerts, '-q'];
    const quiet = wardwatch(args);
    assert.equal(quiet.code, 0, quiet.stderr);
    // Only the command's own lines: the summary (progress goes to a terminal only).
    const own = [/^replay: [\d,]+ packets, \d+ devices, [\d,]+ windows scored \(TF\.js backend wasm\), \d+ incidents \(.*\) in \d+ alert records \(\d+ updates?\)$/, /^replay: scored with the /, /^replay: inventory of \d+ devices saved to out\/inventory\.json /];
    const lines = quiet.stderr.trim().split('\n');
    assert.equal(lines.length, own.length, quiet.stderr);
    lines.forEach((l, i) => assert.match(l, own[i]!));
    const info = wardwatch(args, { WARDWATCH_LOG_LEVEL: 'info' });
    assert.equal(info.code, 0, info.stderr);
    const logLines = info.stderr.split('\n').filter((l) => l.startsWith('wardwatch: '));
    const shipped = ['device', 'class', 'population'].reduce((n, scope) => n + readdirSync(path.join(repo, 'models', scope)).length, 0);
    assert.deepEqual(logLines.filter((l) => /models? loaded/.test(l)).map((l) => l.replace(/ \(.*$/, '')), [`wardwatch: info: detector: ${shipped} models loaded from ${path.join(repo, 'models')}`]);
    assert.equal(logLines.filter((l) => /TF\.js backend active/.test(l)).length, 1);
    const json = wardwatch(['--log-format', 'json', ...args, '--log-level', 'debug']);
    assert.equal(json.code, 0, json.stderr);
    const records = json.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: number });
    assert.equal(records.filter((r) => r.msg === 'model loaded' && r.level === 20).length, shipped, 'each model at debug');
  });

  it('a config file\'s relative paths are relative to it, whatever the working directory (issue 22 item 12b)', () => {
    const site = path.join(dir, 'site');
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(site);
    mkdirSync(elsewhere);
    const models = path.relative(site, path.join(repo, 'models'));
    writeFileSync(path.join(site, 'site.yaml'), `detect: { models_dir: ${models} }\ndevices: { state_file: state/inventory.json }\nsinks: { files: { alerts_file: out/alerts.jsonl } }\n`);
    const r = wardwatch(['replay', path.join(repo, 'captures', 'demo.pcap'), '-c', '../site/site.yaml', '-q'], {}, elsewhere);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /no models in/);
    const alerts = readFileSync(path.join(site, 'out', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.ok(alerts.filter((a) => a.kind === 'anomaly').length >= 5, 'the models were found from another folder');
    assert.ok(existsSync(path.join(site, 'state', 'inventory.json')));
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing written to the working directory');
    assert.match(r.stdout, new RegExp(`written to ${path.join(site, 'out', 'alerts.jsonl').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('a capture cut in the middle of a record: read to the cut, one warning, in the report; exit 0 (issue 22 item 5)', () => {
    const whole = readFileSync(path.join(repo, 'captures', 'demo.pcap'));
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, 100_000)); // head -c 100000 captures/demo.pcap
    const state = path.join(dir, 'cut-state', 'inventory.json');
    const cfg = path.join(dir, 'cut.yaml');
    writeFileSync(cfg, `devices: { state_file: ${state} }\n`);
    const report = path.join(dir, 'cut.html');
    const r = wardwatch(['replay', cut, '-c', cfg, '-q', '--alerts', path.join(dir, 'cut.jsonl'), '--report', report]);
    // Exit 0, as for a whole file: every output was written and is right for the packets before the cut (tcpdump
    // exits 1 and tshark 2 here; the cut is said on stderr, in the report and in ww_health instead).
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('wardwatch: warn: '));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, new RegExp(`^wardwatch: warn: capture: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file ends in the middle of a packet record \\(truncated dump file`));
    assert.match(r.stderr, new RegExp(`^replay: inventory of \\d+ devices saved to ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
    assert.ok(existsSync(state));
    const html = readFileSync(report, 'utf8');
    assert.match(html, /<p class="warning" id="capture-cut-short"><strong>Capture cut short:<\/strong> the file ends in the middle of a packet record/);
    // A whole file: no warning, no banner.
    const ok = wardwatch(['replay', 'captures/golden/scan.pcap', '-c', cfg, '-q', '--alerts', path.join(dir, 'ok.jsonl'), '--report', path.join(dir, 'ok.html')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /warn/);
    assert.doesNotMatch(readFileSync(path.join(dir, 'ok.html'), 'utf8'), /capture-cut-short/);
  });

  it('simulate then evaluate, with the defaults: a table of detections (issue 22 item 8)', () => {
    const help = wardwatch(['simulate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:\n {2}wardwatch simulate -o ward\.pcap /);
    assert.match(help.stdout, /--no-attacks/);
    const capture = path.join(dir, 'ward.pcap');
    const sim = wardwatch(['simulate', '-o', capture]);
    assert.equal(sim.code, 0, sim.stderr);
    assert.match(sim.stdout, /5 attacks: the defaults, --no-attacks for none\)/);
    const ev = wardwatch(['evaluate', capture, '--labels', path.join(dir, 'ward.labels.json')]);
    assert.equal(ev.code, 0, ev.stderr);
    const rows = ev.stdout.split('\n').filter((l) => /^a\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => l.split(/\s+/).slice(1, 2)[0]), ['port_scan', 'syn_flood', 'arp_spoof', 'dns_tunnel', 'lateral_movement']);
    assert.ok(rows.every((l) => /\syes\s/.test(l)), ev.stdout);
    assert.match(ev.stdout, /^overall\s+5\s+5\/5\s/m);
    const benign = wardwatch(['simulate', '-o', path.join(dir, 'benign.pcap'), '--no-attacks', '--duration', '20m']);
    assert.equal(benign.code, 0, benign.stderr);
    assert.deepEqual((JSON.parse(readFileSync(path.join(dir, 'benign.labels.json'), 'utf8')) as { attacks: unknown[] }).attacks, []);
  });

  it('npx wardwatch, as the README writes every command, runs this package\'s bin from the repository folder (issue 22 item 2)', () => {
    // --offline: the package's own bin, never one fetched from a registry.
    const r = spawnSync('npx', ['--offline', 'wardwatch', '--version'], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version);
    const bin = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['wardwatch'];
    assert.equal(bin, 'dist/src/cli/main.js');
    assert.match(readFileSync(path.join(repo, bin), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('bad input: a clear one-line error and a non-zero exit', () => {
    const cases: [string[], number, RegExp][] = [
      [['replay', path.join(dir, 'missing.pcap')], 1, /^wardwatch: WW_CAPTURE_UNREADABLE: .*missing\.pcap: no such file$/],
      [['replay', 'README.md'], 1, /^wardwatch: WW_CAPTURE_NOT_A_CAPTURE: README\.md: not a pcap or pcapng/],
      [['replay', 'captures/golden/scan.pcap', '--speed', 'fast'], 2, /^wardwatch: WW_CONFIG_INVALID: --speed: 'fast' is not a speed/],
      [['sensor', '-r', 'captures/golden/scan.pcap', '--speed', 'fast'], 2, /^wardwatch: WW_CONFIG_INVALID: --speed: 'fast' is not a speed/],
      [['sensor', '-i', 'lo', '--speed', '1x'], 2, /^wardwatch: WW_CONFIG_INVALID: --speed: a replay pace applies to --read FILE only/],
      [['run', '-c', path.join(dir, 'nope.yaml')], 2, /^wardwatch: WW_CONFIG_INVALID: --config: cannot read .*nope\.yaml: no such file$/],
    ];
    writeFileSync(path.join(dir, 'bad.yaml'), 'transport:\n  kind: rabbitmq\n');
    cases.push([['run', '-c', path.join(dir, 'bad.yaml')], 2, /^wardwatch: WW_CONFIG_INVALID: transport\.kind: must be one of "memory", "kafka"/]);
    cases.push([['frobnicate'], 2, /^wardwatch: WW_USAGE: unknown command 'frobnicate' \(see 'wardwatch --help'\)$/]);
    cases.push([['replay', 'captures/golden/scan.pcap', '--frob'], 2, /^wardwatch: WW_USAGE: unknown option '--frob' \(Did you mean --from\?\) \(see 'wardwatch replay --help'\)$/]);
    cases.push([['replay'], 2, /^wardwatch: WW_USAGE: missing required argument 'capture'/]);
    for (const [args, code, message] of cases) {
      const r = wardwatch(args);
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      // The error is the only line: no log line before it (issue 22: ~24 JSON lines came first).
      const errLines = r.stderr.trim().split('\n');
      assert.equal(errLines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(errLines[0] ?? '', message, args.join(' '));
    }
  });
});
