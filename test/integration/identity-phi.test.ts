/**
 * Issue 23 item 3: HL7 messages full of patient data (names, MRN, SSN, birth date, address, phone, next of kin,
 * clinician, results and notes in PID/NK1/OBR/OBX/PRT/NTE) go through the real commands, and none of those bytes
 * reach any output: stdout and stderr (trace-level JSON logs) of `train` and `run`, the inventory file and
 * `inventory show/export` (JSON, CSV, YAML), the flow records, the alerts file, the HTML report, every InfluxDB point
 * and every webhook payload (a generic and a Slack endpoint on a local receiver).
 * The capture is 2.5 h of a ward (test/support/identity-change.ts) whose pump sends those messages (ORU^R01, and an
 * ADT^A08 every fourth); after 2 h it also sends ADT^A04, a type it never sent. Models trained on the first 2 h make
 * that an alert — paged to the webhooks, its explanation naming the change — so the pages are not vacuous either.
 * The identity wardwatch may keep (MSH-3..6/9/12, OBX-18, PRT-10/16) is there: the search is not vacuous.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { IDENTITY, PHI_TOKENS, phiMessage } from '../support/hl7-phi.js';
import { identityWardCapture } from '../support/identity-change.js';
import { freshName, requireInflux } from '../support/services.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** A webhook endpoint that records every body it accepts. */
class Receiver extends WebhookReceiver {
  constructor() {
    super('/hook', 'latin1');
  }
}

describe('patient data in HL7 never reaches an output (issue 23): logs, inventory, flows, alerts, report, InfluxDB, webhooks', function () {
  this.timeout(400_000);
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    url = await requireInflux();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-phi-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('wardwatch train and run on a PHI-laden HL7 session (paging a new message type), then inventory show and export', async () => {
    const t0 = 1_767_603_600;
    const H = 3600;
    const capture = path.join(dir, 'phi.pcap');
    // The pump's messages: ORU^R01, an ADT^A08 every fourth; from +2 h every tenth is an ADT^A04 (a new type).
    const sent = new Map<string, number>();
    const bytes = identityWardCapture({
      t0,
      durationS: 2.5 * H,
      pumpChangeS: 2 * H + 5,
      ctChangeS: Infinity,
      pumpMessage: (i, changed) => {
        const type = changed && i % 10 === 0 ? 'ADT^A04^ADT_A01' : i % 4 === 3 ? 'ADT^A08^ADT_A01' : 'ORU^R01^ORU_R01';
        sent.set(type, (sent.get(type) ?? 0) + 1);
        return phiMessage(type, `MSG${String(i).padStart(5, '0')}`);
      },
    });
    writeFileSync(capture, bytes);
    for (const t of PHI_TOKENS) assert.ok(bytes.includes(t), `the capture carries ${t}`);
    const database = freshName('ww_phi');
    const u = new URL(url);
    const out = path.join(dir, 'out');
    const [generic, slack] = [new Receiver(), new Receiver()];
    await Promise.all([generic.start(), slack.start()]);
    const config = {
      sensor: { id: 'phi-test' },
      devices: { state_file: path.join(out, 'inventory.json') },
      detect: { models_dir: path.join(dir, 'models') },
      sinks: {
        influx: { url, database, retention_policy: '', flush_interval_ms: 200 },
        files: { alerts_file: path.join(out, 'alerts.jsonl'), flows_file: path.join(out, 'flows.jsonl') },
        webhooks: {
          endpoints: [
            { name: 'soc', url: generic.url, format: 'generic' },
            { name: 'chat', url: slack.url, format: 'slack' },
          ],
          dead_letter_file: path.join(out, 'webhook-dead-letter.jsonl'),
        },
      },
    };
    const file = path.join(dir, 'wardwatch.json');
    writeFileSync(file, JSON.stringify(config));
    const env = { ...process.env, WARDWATCH_LOG_LEVEL: 'trace', WARDWATCH_LOG_FORMAT: 'json' };
    // Asynchronous: the webhook receivers answer from this process while the command runs.
    const cmd = (args: string[]): Promise<{ stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
        const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve({ stdout, stderr });
          else reject(new Error(`${args.join(' ')}: exit ${code}: ${stderr.slice(-3000)}`));
        });
      });
    const outputs: Record<string, string> = {};
    try {
      const train = await cmd(['train', capture, '-c', file, '--to', String(t0 + 2 * H)]);
      outputs['train stdout'] = train.stdout;
      outputs['train stderr (trace logs)'] = train.stderr;
      const run = await cmd(['run', capture, '-c', file, '--report', path.join(out, 'report.html')]);
      outputs['run stdout'] = run.stdout;
      outputs['run stderr (trace logs)'] = run.stderr;
      const show = await cmd(['inventory', 'show', '10.20.10.13', '-c', file]);
      outputs['inventory show'] = show.stdout + show.stderr;
      for (const format of ['json', 'csv', 'yaml']) {
        const x = await cmd(['inventory', 'export', '-c', file, '--format', format]);
        outputs[`inventory export ${format}`] = x.stdout + x.stderr;
      }
    } finally {
      await Promise.all([generic.stop(), slack.stop()]);
    }
    generic.bodies.forEach((b, i) => (outputs[`webhook generic ${i}`] = b));
    slack.bodies.forEach((b, i) => (outputs[`webhook slack ${i}`] = b));
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
    assert.equal(outputs['file webhook-dead-letter.jsonl'], undefined, 'every notice delivered');
    // The pages: the pump's new message type was alerted and paged to both endpoints, its change named.
    const change = `new HL7 message type ADT^A04^ADT_A01 from ${IDENTITY.sendingApp}; seen before: ORU^R01^ORU_R01, ADT^A08^ADT_A01`;
    const triggers = generic.bodies.map((b) => JSON.parse(b) as { event: string; alert: { device_id: string; kind: string; summary: string } }).filter((b) => b.event === 'trigger');
    assert.ok(
      triggers.some((b) => b.alert.kind === 'anomaly' && b.alert.summary.startsWith(change)),
      `a page names the change: ${JSON.stringify(triggers.map((b) => b.alert.summary))}`,
    );
    assert.ok(slack.bodies.some((b) => b.includes('ADT^A04^ADT_A01')), 'the Slack message names it too');
    assert.ok(outputs['InfluxDB ww_device_window']!.includes(change), 'ww_device_window: identity_change_list');
    assert.match(outputs['run stderr (trace logs)'], /"level":(10|20|30)/, 'trace/debug/info JSON logs');
    for (const where of ['file inventory.json', 'inventory show', 'inventory export json', 'inventory export csv', 'inventory export yaml', 'InfluxDB ww_inventory']) {
      assert.ok(outputs[where]!.includes(IDENTITY.obx18), `${where} names the equipment (OBX-18)`);
      assert.ok(outputs[where]!.includes(IDENTITY.prt16), `${where} names the UDI (PRT-16)`);
      assert.ok(outputs[where]!.includes('ADT^A08^ADT_A01'), `${where} names the message types`);
    }
    const types = [...sent].map(([t, n]) => `${t} \\(${n}\\)`.replace(/\^/g, '\\^')).join(', ');
    assert.equal(sent.size, 3);
    assert.match(outputs['inventory show'], new RegExp(`^HL7 message types\\s+${types}$`, 'm'));
    assert.match(outputs['inventory show'], /^class\s+infusion pump \(guess, confidence 0\.9: HL7 equipment id "PUMP-03\^ALARIS8015\^ACME" \(OBX-18\): infusion-pump family\)$/m);
    assert.match(outputs['inventory show'], /^HL7 equipment ids\s+PUMP-03\^ALARIS8015\^ACME \(OBX-18\), .* \(PRT-10\), 00643169007222 \(PRT-16\)$/m);
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(outputs)) for (const t of PHI_TOKENS) if (text.includes(t)) leaks.push(`${t} in ${where}`);
    assert.deepEqual(leaks, []);
  });
});
