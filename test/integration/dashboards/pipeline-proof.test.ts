/**
 * Dashboards proven on data the pipeline wrote: the shipped demo capture is replayed through the actual pipeline
 * (decode → flows → features → detector with the committed demo models → InfluxDB sink) twice — once as live data
 * (no run id) and once as forensic replay run `demo-case` — and every variable, panel and annotation query of the
 * three dashboards is expanded as Grafana does and run on real influxd over the capture's time range.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { parseConfig } from '../../../src/config/load.js';
import { runCapture } from '../../../src/cli/run.js';
import { freshName, requireInflux } from '../../support/services.js';
import { proveDashboards } from '../../support/dashboard-proof.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('dashboards on pipeline-written data (demo capture → real InfluxDB)', function () {
  this.timeout(300_000);
  let url: string;
  let dir: string;
  let database: string;
  let range: { from: number; to: number };
  let anomalous: string;

  before(async function () {
    this.timeout(300_000);
    url = await requireInflux();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-dash-proof-'));
    database = freshName('ww_dash');
    // The demo capture is from January 2026: a database without the 30-day retention policy keeps its points.
    const config = parseConfig({ sensor: { id: 'demo-sensor' }, sinks: { influx: { url, database, retention_policy: '' }, files: { alerts_file: path.join(dir, 'alerts.jsonl') } } }, 'test', {});
    const capture = path.join(repo, 'captures', 'demo.pcap');
    const live = await runCapture(capture, config, { speed: 'max', modelsDir: path.join(repo, 'models') }, 'replay');
    await runCapture(capture, config, { speed: 'max', runId: 'demo-case', modelsDir: path.join(repo, 'models') }, 'replay');
    const anomalies = live.alerts.filter((a) => a.kind === 'anomaly');
    assert.ok(anomalies.length > 5, `the demo models raise anomaly alerts (${anomalies.length})`);
    anomalous = anomalies[0]!.device_id;
    range = { from: Math.floor(live.first_ts * 1000) - 60_000, to: Math.ceil(live.last_ts * 1000) + 60_000 };
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port) }).dropDatabase(database).catch(() => undefined);
  });

  it('every query of the SOC overview and the device drill-down returns data of its panel\'s shape', async () => {
    const report = await proveDashboards(url, database, range, { only: ['soc-overview.json', 'device-drilldown.json'], pick: { device: [anomalous] } });
    assert.deepEqual(report.failures, []);
    assert.ok(report.entries.length > 20, `${report.entries.length} queries proven`);
  });

  it('every query of the forensic replay view returns the run\'s data', async () => {
    const report = await proveDashboards(url, database, range, { only: ['forensic-replay.json'], pick: { run_id: ['demo-case'], device: [anomalous] } });
    assert.deepEqual(report.failures, []);
    assert.ok(report.entries.length > 10);
  });
});
