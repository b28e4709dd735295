/**
 * The forensic report as an analyst opens it: `wardwatch replay --report` on the shipped demo capture (plus one
 * hostile DHCP host name appended), opened in headless Chromium (Debian `chromium` + playwright-core). It must render
 * with no console or page error and no network request, list exactly the alerts of the run's alerts.jsonl, chart
 * every device the detector scored with a model (highest score first), show attacker-controlled text as text, and
 * leave a screenshot in .cache/test-artifacts/report.png.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import type { Alert } from '../../src/records/alert.js';
import { repoRoot } from '../support/fixtures.js';
import { dhcp, eth, ipv4, udp } from '../support/packet-builder.js';

const CHROMIUM = '/usr/bin/chromium';
const cli = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const HOSTILE_NAME = '<script>alert(1)</script>';
const HOSTILE_VENDOR = '"><img src=x onerror=alert(2)>';

/**
 * The demo capture with one DHCP request appended (1 s after its last packet) from a new device with hostile names,
 * and the demo DHCP server's ACK (1 ms later): the lease is the evidence that lists the device (only devices with
 * evidence of a real host are listed and announced). Returns the number of packets written.
 */
function hostileCapture(file: string): number {
  const demo = readFileSync(path.join(repoRoot, 'captures', 'demo.pcap'));
  assert.equal(demo.readUInt32LE(0), 0xa1b2c3d4, 'demo.pcap is little-endian µs pcap');
  let off = 24;
  let lastSec = 0;
  let records = 0;
  while (off + 16 <= demo.length) {
    records++;
    lastSec = demo.readUInt32LE(off);
    off += 16 + demo.readUInt32LE(off + 8);
  }
  const payload = dhcp({ msgType: 3, hostname: HOSTILE_NAME, vendor: HOSTILE_VENDOR, chaddr: 0x02aabbccdd01 });
  const frame = eth(0x02aabbccdd02, 0x02aabbccdd01, 0x0800, ipv4({ src: '10.20.99.99', dst: '10.20.0.2', proto: 17, payload: udp(68, 67, payload) }));
  const ack = eth(0x02aabbccdd01, 0x106530e0cc21, 0x0800, ipv4({ src: '10.20.0.2', dst: '10.20.99.99', proto: 17, payload: udp(67, 68, dhcp({ op: 2, msgType: 5, chaddr: 0x02aabbccdd01 })) }));
  const record = (f: Buffer, usec: number): Buffer => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(lastSec + 1, 0);
    rec.writeUInt32LE(usec, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    return Buffer.concat([rec, f]);
  };
  writeFileSync(file, Buffer.concat([demo, record(frame, 0), record(ack, 1000)]));
  return records + 2;
}

/** Share of non-white bytes in a PNG's decompressed image data (a blank page is ~0). */
function inkShare(png: Buffer): number {
  const idat: Buffer[] = [];
  for (let off = 8; off + 8 <= png.length; ) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  let ink = 0;
  for (const b of raw) if (b !== 0xff && b !== 0) ink++;
  return ink / raw.length;
}

describe('forensic report in headless Chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let browser: Browser | undefined;
  before(function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env['CI'] === 'true') assert.fail(`${CHROMIUM} is missing (Debian package chromium; scripts/setup.sh installs it)`);
      console.log(`    skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-report-'));
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders offline with no errors: summary, a chart per scored device, the run\'s alerts, escaped hostile names', async () => {
    const capture = path.join(dir, 'demo-hostile.pcap');
    const packets = hostileCapture(capture);
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const reportFile = path.join(dir, 'report.html');
    const cfg = path.join(dir, 'ww.yaml');
    writeFileSync(cfg, `devices:\n  state_file: ${path.join(dir, 'inventory.json')}\n`);
    const r = spawnSync(process.execPath, [cli, 'replay', capture, '-c', cfg, '-q', '--alerts', alertsFile, '--report', reportFile, '--run-id', 'report-test'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' },
      timeout: 90_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const alerts = readFileSync(alertsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.ok(alerts.some((a) => a.kind === 'anomaly'), 'the demo capture raises anomaly alerts');
    assert.ok(alerts.some((a) => a.device_name === HOSTILE_NAME), 'the hostile device got a new-device notice under its DHCP name');

    // The same capture and models, replayed by replayCapture (not the CLI) in a child process:
    // which devices the detector scored with a model, and the report those scores and alerts make, which must be the
    // CLI's file (nothing in it is computed apart from the pipeline's output). Not compared across --speed: an alert
    // takes the device class the inventory has when its batch is scored, and pacing moves that moment (at 1000x, 2 of
    // the 51 alerts of this capture name another class: a known gap of the replay, not of the report).
    const cliHtml = readFileSync(reportFile, 'utf8');
    const sensorId = /run id \/ sensor<\/th><td>report-test \/ ([^<]+)</.exec(cliHtml)?.[1] ?? '?';
    const backend = /\(TF\.js backend ([a-z-]+)\)/.exec(cliHtml)?.[1] ?? '?';
    const againFile = path.join(dir, 'again.html');
    const child = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist', 'test', 'support', 'replay-report.js'), capture, path.join(repoRoot, 'models'), againFile, 'report-test', sensorId, backend],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' }, timeout: 90_000 },
    );
    assert.equal(child.status, 0, child.stderr);
    const maxScore = new Map(Object.entries(JSON.parse(child.stdout) as Record<string, number>));
    assert.ok(maxScore.size >= 10, `${maxScore.size} devices scored by a model`);
    const stable = (f: string): string => readFileSync(f, 'utf8').replace(/(report written<\/th><td>)[^<]*/, '$1');
    const [a, b] = [stable(againFile), stable(reportFile)];
    const at = [...a].findIndex((c, i) => c !== b[i]);
    assert.ok(a === b, `same capture and models: the same report (but for the time it was written); first difference at ${at}: ${a.slice(at - 80, at + 80)}`);

    // The file alone: self-contained, small, nothing to fetch, hostile text escaped.
    const html = readFileSync(reportFile, 'utf8');
    const size = statSync(reportFile).size;
    assert.ok(size < 1_000_000, `report is ${size} bytes`);
    assert.doesNotMatch(html, /https?:\/\//i, 'no http(s) URL anywhere');
    assert.doesNotMatch(html, /<[^>]*\s(?:src|srcset|data|action|xlink:href)\s*=|<link\b|@import|url\(|<iframe|<object|<embed|<img/i, 'no resource reference');
    assert.doesNotMatch(html, /<[^>]*\shref\s*=\s*"(?!#)/i, 'links only within the page');
    assert.doesNotMatch(html, /<script/i, 'no script element at all (the report is static)');
    assert.ok(!html.includes(HOSTILE_NAME) && !html.includes(HOSTILE_VENDOR), 'hostile names never appear raw');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the hostile host name is shown, escaped');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1200, height: 1600 } });
    const fileUrl = pathToFileURL(reportFile).href;
    const requests: string[] = [];
    await context.route('**', async (route) => {
      const url = route.request().url();
      if (url === fileUrl) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (req) => {
      if (req.url() !== fileUrl && !requests.includes(req.url())) requests.push(req.url());
    });
    await page.goto(fileUrl, { waitUntil: 'load' });
    await page.waitForTimeout(300);
    assert.deepEqual(problems, [], 'no console error, page error or dialog');
    assert.deepEqual(requests, [], 'no network request besides the file itself');

    // Alerts: one row per alert id of the run's alerts.jsonl (an incident's update replaces its row).
    const rows: { alert: string; anchor: string }[] = [];
    for (const row of await page.locator('tbody.alert').all()) rows.push({ alert: (await row.getAttribute('data-alert-id')) ?? '', anchor: (await row.getAttribute('id')) ?? '' });
    const rowIds = rows.map((x) => x.alert);
    assert.deepEqual([...rowIds].sort(), [...new Set(alerts.map((a) => a.alert_id))].sort());
    // Charts: one per device the detector scored with a model, highest score first, each an SVG with its threshold line.
    const charts: string[] = [];
    for (const section of await page.locator('section.device-chart').all()) {
      charts.push((await section.getAttribute('data-device')) ?? '');
      assert.equal(await section.locator('svg path.score').count(), 1);
      assert.equal(await section.locator('svg line.threshold').count(), 1);
    }
    assert.deepEqual([...charts].sort(), [...maxScore.keys()].sort());
    const maxes = charts.map((c) => maxScore.get(c) ?? 0);
    assert.deepEqual(maxes, [...maxes].sort((a, b) => b - a), 'sorted by max score');
    // Every anomaly alert has its marker on its device's chart.
    for (const a of alerts.filter((x) => x.kind === 'anomaly')) {
      const anchor = rows.find((x) => x.alert === a.alert_id)?.anchor ?? '?';
      const markers = await page.locator(`section.device-chart[data-device="${a.device_id}"] a[href="#${anchor}"]`).count();
      assert.equal(markers, 1, `marker of ${a.alert_id} on the chart of ${a.device_id}`);
    }
    // The summary and the inventory as text; hostile names shown literally, never run.
    const saved = JSON.parse(readFileSync(path.join(dir, 'inventory.json'), 'utf8')) as { devices: unknown[] };
    const text = await page.textContent('body');
    const n = packets.toLocaleString('en-US');
    assert.match(text ?? '', new RegExp(`packets\\s*${n}`));
    assert.match(text ?? '', new RegExp(`EN10MB \\(Ethernet\\) \\(1\\): ${n}`));
    assert.match(text ?? '', new RegExp(`flows\\s*[1-9][\\d,]*\\s*devices\\s*${saved.devices.length} \\(${charts.length} scored by a model`));
    const invRows = await page.locator('#inventory tbody tr[data-device]').count();
    assert.equal(invRows, saved.devices.length, 'inventory table = saved inventory');
    const hostileRow = await page.textContent('#inventory tr[data-device="mac:02:aa:bb:cc:dd:01"]');
    assert.ok(hostileRow?.includes(HOSTILE_NAME) && hostileRow.includes(HOSTILE_VENDOR), hostileRow ?? 'no row');
    assert.equal(await page.locator('script, img, iframe').count(), 0);

    const shot = path.join(repoRoot, '.cache', 'test-artifacts', 'report.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    const png = await page.screenshot({ path: shot, fullPage: false });
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG');
    assert.equal(png.readUInt32BE(16), 1200);
    assert.ok(png.length > 20_000, `screenshot ${png.length} bytes`);
    assert.ok(inkShare(png) > 0.02, `screenshot has content (${(inkShare(png) * 100).toFixed(1)} % non-white bytes)`);
  });
});
