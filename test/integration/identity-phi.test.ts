/**
 * Issue 23 item 3: HL7 messages full of patient data (names, MRN, SSN, birth date, address, phone, next of kin,
 * clinician, results and notes in PID/NK1/OBR/OBX/PRT/NTE) go through the real command, and none of those bytes
 * reach any output: stdout and stderr (trace-level JSON logs), the inventory file and `inventory show/export` (JSON,
 * CSV, YAML), the flow records, the alerts file, the HTML report and every InfluxDB point. (Webhooks are not exercised:
 * a benign session without models raises only new-device notices, which are not paged.)
 * The identity wardwatch may keep (MSH-3..6/9/12, OBX-18, PRT-10/16) is there: the search is not vacuous.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { IDENTITY, PHI_TOKENS, phiCapture } from '../support/hl7-phi.js';
import { freshName, requireInflux } from '../support/services.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

describe('patient data in HL7 never reaches an output (issue 23): logs, inventory, flows, alerts, report, InfluxDB', function () {
  this.timeout(240_000);
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    url = await requireInflux();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-phi-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('wardwatch run on a PHI-laden HL7 session, then inventory show and export', async () => {
    const capture = path.join(dir, 'phi.pcap');
    const bytes = phiCapture(1_767_603_600, 24);
    writeFileSync(capture, bytes);
    for (const t of PHI_TOKENS) assert.ok(bytes.includes(t), `the capture carries ${t}`);
    const database = freshName('ww_phi');
    const u = new URL(url);
    const out = path.join(dir, 'out');
    const config = {
      sensor: { id: 'phi-test' },
      devices: { state_file: path.join(out, 'inventory.json') },
      sinks: {
        influx: { url, database, retention_policy: '', flush_interval_ms: 200 },
        files: { alerts_file: path.join(out, 'alerts.jsonl'), flows_file: path.join(out, 'flows.jsonl') },
      },
    };
    const file = path.join(dir, 'wardwatch.json');
    writeFileSync(file, JSON.stringify(config));
    const env = { ...process.env, WARDWATCH_LOG_LEVEL: 'trace', WARDWATCH_LOG_FORMAT: 'json' };
    const cmd = (args: string[]): { stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr.slice(-3000)}`);
      return { stdout: r.stdout, stderr: r.stderr };
    };
    const outputs: Record<string, string> = {};
    const run = cmd(['run', capture, '-c', file, '--models-dir', path.join(dir, 'no-models'), '--report', path.join(out, 'report.html')]);
    outputs['run stdout'] = run.stdout;
    outputs['run stderr (trace logs)'] = run.stderr;
    const show = cmd(['inventory', 'show', '10.20.10.13', '-c', file]);
    outputs['inventory show'] = show.stdout + show.stderr;
    for (const format of ['json', 'csv', 'yaml']) {
      const x = cmd(['inventory', 'export', '-c', file, '--format', format]);
      outputs[`inventory export ${format}`] = x.stdout + x.stderr;
    }
    for (const f of readdirSync(out)) outputs[`file ${f}`] = readFileSync(path.join(out, f), 'latin1');
    const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
    try {
      const measurements = (await influx.getMeasurements()).sort();
      assert.deepEqual(measurements, ['ww_alert', 'ww_device_window', 'ww_health', 'ww_inventory']);
      for (const m of measurements) outputs[`InfluxDB ${m}`] = JSON.stringify(await influx.query(`SELECT * FROM ${m}`));
    } finally {
      await influx.dropDatabase(database).catch(() => undefined);
    }

    // Not vacuous: every output that should exists and is not empty; the identity is where it belongs.
    for (const f of ['inventory.json', 'flows.jsonl', 'alerts.jsonl', 'report.html']) assert.ok((outputs[`file ${f}`] ?? '').length > 0, `${f} written`);
    assert.match(outputs['run stderr (trace logs)'], /"level":(10|20|30)/, 'trace/debug/info JSON logs');
    for (const where of ['file inventory.json', 'inventory show', 'inventory export json', 'inventory export csv', 'inventory export yaml', 'InfluxDB ww_inventory']) {
      assert.ok(outputs[where]!.includes(IDENTITY.obx18), `${where} names the equipment (OBX-18)`);
      assert.ok(outputs[where]!.includes(IDENTITY.prt16), `${where} names the UDI (PRT-16)`);
      assert.ok(outputs[where]!.includes('ADT^A08^ADT_A01'), `${where} names the message types`);
    }
    assert.match(outputs['inventory show'], /^HL7 message types\s+ORU\^R01\^ORU_R01 \(18\), ADT\^A08\^ADT_A01 \(6\)$/m);
    assert.match(outputs['inventory show'], /^class\s+infusion pump \(guess, confidence 0\.9: HL7 equipment id "PUMP-03\^ALARIS8015\^ACME" \(OBX-18\): infusion-pump family\)$/m);
    assert.match(outputs['inventory show'], /^HL7 equipment ids\s+PUMP-03\^ALARIS8015\^ACME \(OBX-18\), .* \(PRT-10\), 00643169007222 \(PRT-16\)$/m);
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(outputs)) for (const t of PHI_TOKENS) if (text.includes(t)) leaks.push(`${t} in ${where}`);
    assert.deepEqual(leaks, []);
  });
});
