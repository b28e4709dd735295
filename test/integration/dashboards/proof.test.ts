/**
 * The dashboards against real InfluxDB: a realistic data set (live capture and one forensic replay run) is written
 * with the real InfluxWriter and the sink's point builders, then every variable, panel and annotation query of the
 * three dashboards is expanded as Grafana does and run (test/support/dashboard-proof.ts). Any query that returns
 * nothing, or data of the wrong shape for its panel, fails.
 *
 * Phase 2 (lead): replace `writeDataSet` with a replay of a capture through the pipeline into the same database.
 */
import assert from 'node:assert/strict';
import type { IPoint } from 'influx';
import { InfluxWriter } from '../../../src/sinks/influx/writer.js';
import { alertPoint, healthPoint, inventoryPoint, windowPoint } from '../../../src/sinks/influx/points.js';
import { DEVICE_SCHEMA_VERSION, emptyAppIdentity, type AppIdentity, type DeviceClass, type InventoryEntry } from '../../../src/records/device.js';
import type { Alert, WindowScore } from '../../../src/records/alert.js';
import { freshName, requireInflux } from '../../support/services.js';
import { makeAlert } from '../../support/alerts.js';
import { makeWindows, rng } from '../../support/windows.js';
import { proveDashboards, type ProofReport } from '../../support/dashboard-proof.js';

const FAST_RETRY = { retries: 3, initial_delay_ms: 50, max_delay_ms: 500, multiplier: 2, jitter: 0.1 };
const SENSOR = 'sensor-test';

const DEVICES: { class: DeviceClass; vendor: string; name: string; location: string; newcomer: boolean }[] = [
  { class: 'infusion_pump', vendor: 'Baxter Healthcare', name: 'Pump ICU-3', location: 'ICU bed 3', newcomer: false },
  { class: 'infusion_pump', vendor: 'Baxter Healthcare', name: 'Pump ICU-4', location: 'ICU bed 4', newcomer: false },
  { class: 'patient_monitor', vendor: 'Philips Medical Systems', name: 'Monitor ED-1', location: 'ED bay 1', newcomer: false },
  { class: 'imaging', vendor: 'Siemens Healthineers', name: 'CT Scanner 2', location: 'Radiology', newcomer: false },
  { class: 'workstation', vendor: 'Dell Inc.', name: 'Nurse station PC', location: 'Ward 5', newcomer: true },
  { class: 'unknown', vendor: '', name: '', location: '', newcomer: true },
];

/** Application identity: the pumps speak HL7 with an equipment id, the CT scanner DICOM; the others nothing. */
function identityOf(d: number): AppIdentity {
  const id = emptyAppIdentity();
  if (d < 2) {
    id.hl7_sending_applications.push('PUMP_GW');
    id.hl7_sending_facilities.push('ICU');
    id.hl7_receiving_applications.push('EMR');
    id.hl7_message_types.push({ type: 'ORU^R01', count: 120 }, { type: 'ACK', count: 3 });
    id.hl7_versions.push('2.6');
    id.hl7_equipment_ids.push({ id: `PUMP-0${d + 3}^BAXTER`, field: 'OBX-18' });
  } else if (d === 3) {
    id.dicom_ae_titles.push('CT02');
    id.dicom_peer_ae_titles.push('PACS');
    id.dicom_roles.push('SCU');
    id.dicom_implementation_class_uids.push('1.2.840.113619.6.5');
    id.dicom_implementation_versions.push('CT_V1');
    id.dicom_sop_classes.push({ uid: '1.2.840.10008.5.1.4.1.1.2', name: 'CT Image Storage' });
    id.dhcp_parameter_lists.push('1,3,6,15');
  }
  return id;
}

interface DataSet {
  /** Anomalous device and its alerts, for the assertions. */
  alerts: Alert[];
}

/**
 * One hour of 10 s windows for 6 devices ending at `end` (s), scores from a detector that sees device 0 go anomalous
 * in the last 10 minutes and device 5 still learning; inventory every 5 minutes; alerts; sensor health every 10 s.
 */
function dataSet(runId: string, end: number, seed: number): { points: IPoint[]; alerts: Alert[] } {
  const t0 = end - 3600;
  const r = rng(seed);
  const points: IPoint[] = [];
  const windows = makeWindows(DEVICES.length, 360, seed, runId, t0).map((w) => ({ ...w, sensor_id: SENSOR }));
  for (const w of windows) {
    const d = Number.parseInt(w.device_id.slice(-2), 16);
    const dev = DEVICES[d]!;
    const learning = d === 5;
    const anomalous = d === 0 && w.window_start > end - 600;
    const score: WindowScore = {
      device_id: w.device_id,
      window_start: w.window_start,
      window_end: w.window_end,
      score: learning ? Number.NaN : anomalous ? 2 + r() * 3 : 0.2 + r() * 0.5,
      threshold: 0.25,
      model: learning ? '' : `device:${w.device_id}@v1`,
      learning,
      device_class: dev.class,
    };
    points.push(windowPoint(w, score, { device_class: dev.class, vendor: dev.vendor, name: dev.name }));
  }
  DEVICES.forEach((dev, d) => {
    const deviceId = `mac:02:00:00:00:00:${d.toString(16).padStart(2, '0')}`;
    const firstSeen = dev.newcomer ? t0 + 60 * d : t0 - 30 * 86_400;
    for (let at = Math.max(t0, firstSeen); at <= end; at += 300) {
      const entry: InventoryEntry = {
        schema_version: DEVICE_SCHEMA_VERSION,
        device_id: deviceId,
        key_kind: 'mac',
        mac: deviceId.slice(4),
        ips: [`10.20.1.${10 + d}`],
        vendor: dev.vendor,
        dhcp_hostname: dev.name ? dev.name.toLowerCase().replace(/\W+/g, '-') : '',
        dhcp_vendor_class: '',
        first_seen: firstSeen,
        last_seen: at,
        protocols: d < 2 ? ['hl7', 'dns'] : ['dicom', 'dns', 'tls'],
        peers: ['10.20.0.5', '10.20.0.6'],
        peers_overflow: false,
        listening_ports: d === 3 ? [104] : [],
        device_class: dev.class,
        class_source: dev.name ? 'inventory' : 'guess',
        class_confidence: dev.name ? 1 : 0.4,
        class_evidence: dev.name ? 'inventory file' : 'no rule matched',
        name: dev.name,
        location: dev.location,
        criticality: dev.class === 'infusion_pump' ? 'life_critical' : 'medium',
        learning: d === 5,
        confirmed_by: dev.name ? 'inventory_file' : 'tcp_handshake',
        confirmed_at: firstSeen,
        app_identity: identityOf(d),
      };
      points.push(inventoryPoint(entry, at, SENSOR, runId));
    }
  });
  const alerts: Alert[] = [];
  for (let k = 0; k < 8; k++) {
    // Device 0's incident (several alerts, rising severity) plus one on device 2.
    const a = makeAlert(k * 16 + (k === 7 ? 2 : 0), runId, end - 590);
    const dev = DEVICES[k === 7 ? 2 : 0]!;
    alerts.push({ ...a, ts: end - 590 + k * 60, since: end - 600, device_class: dev.class, vendor: dev.vendor, device_name: dev.name, sensor_id: SENSOR });
  }
  DEVICES.forEach((dev, d) => {
    if (!dev.newcomer) return;
    const a = makeAlert(1000 + d, runId, t0);
    alerts.push({
      ...a,
      device_id: `mac:02:00:00:00:00:${d.toString(16).padStart(2, '0')}`,
      kind: 'new_device',
      severity: 'info',
      score: 0,
      ts: t0 + 60 * d + 10,
      since: t0 + 60 * d,
      device_class: dev.class,
      vendor: dev.vendor,
      device_name: dev.name,
      summary: 'new device appeared',
      top_features: [],
      sensor_id: SENSOR,
    });
  });
  points.push(...alerts.map(alertPoint));
  let dropped = 0;
  let decodeErrors = 0;
  let retries = 0;
  for (let at = t0; at <= end; at += 10) {
    dropped += r() < 0.2 ? Math.floor(r() * 5) : 0;
    decodeErrors += r() < 0.1 ? 1 : 0;
    retries += r() < 0.05 ? 1 : 0;
    points.push(healthPoint('capture', SENSOR, runId, at, { packets_per_s: 800 + Math.round(r() * 400), packets_dropped: dropped, decode_errors: decodeErrors }));
    points.push(healthPoint('flows', SENSOR, runId, at, { flow_table_fill: 0.3 + r() * 0.2 }));
    points.push(healthPoint('transport', SENSOR, runId, at, { kafka_lag: Math.floor(r() * 50) }));
    points.push(healthPoint('sink', SENSOR, runId, at, { sink_retries: retries }));
  }
  return { points, alerts };
}

function explain(report: ProofReport): string {
  return `${report.failures.length} failure(s):\n  ${report.failures.join('\n  ')}`;
}

describe('dashboards on real InfluxDB: every query returns data of its panel’s shape', function () {
  this.timeout(120_000);
  let url: string;
  let database: string;
  let writer: InfluxWriter;
  const nowSec = Math.floor(Date.now() / 1000);
  /** The forensic replay covers an hour two days ago (packet time). */
  const replayEnd = nowSec - 2 * 86_400;
  let live: DataSet;

  before(async function () {
    this.timeout(180_000);
    url = await requireInflux();
    database = freshName('ww_dash');
    writer = new InfluxWriter({ url, database, retry: FAST_RETRY, flush_interval_ms: 20 });
    await writer.start();
    const l = dataSet('', nowSec - 60, 11);
    const replay = dataSet('replay-ward5', replayEnd, 12);
    await writer.write(l.points);
    await writer.flush();
    assert.equal(writer.stats().points_rejected, 0);
    // A forensic replay (a run id) is written as `replay --run-id` writes it: to the replays' retention policy.
    const replayWriter = new InfluxWriter({ url, database, retry: FAST_RETRY, flush_interval_ms: 20 });
    await replayWriter.start();
    await replayWriter.write(replay.points);
    await replayWriter.close();
    assert.equal(replayWriter.stats().points_rejected, 0);
    live = { alerts: l.alerts };
  });

  after(async () => {
    await writer?.close();
    await writer?.client.dropDatabase(database);
  });

  it('SOC overview and device drill-down (live, last 6 h)', async () => {
    const report = await proveDashboards(url, database, { from: 'now-6h', to: 'now' }, { only: ['soc-overview.json', 'device-drilldown.json'] });
    assert.deepEqual(report.failures, [], explain(report));
    // Sanity of the proof itself: it ran every query it should have and the device picked is the first one.
    const panels = report.entries.filter((e) => e.what.startsWith('panel'));
    assert.ok(panels.length >= 20, `ran ${panels.length} panel queries`);
    assert.ok(report.entries.some((e) => e.what === 'variable $device'));
    const alertsTable = report.entries.find((e) => e.dashboard === 'device-drilldown.json' && e.what.includes("Device's alerts"));
    assert.equal(alertsTable?.rows, live.alerts.filter((a) => a.device_id === 'mac:02:00:00:00:00:00').length);
    assert.match(alertsTable.query, /"device" =~ \/\^mac:02:00:00:00:00:00\$\//);
    assert.match(alertsTable.query, /time >= now\(\) - 6h/);
    // Issue 23: the identity panel answers with the device's HL7 identity (read back, not only counted).
    const identity = report.entries.find((e) => e.dashboard === 'device-drilldown.json' && e.what.includes('Medical-device identity'));
    assert.equal(identity?.rows, 1);
    const rows: unknown = await writer.client.queryRaw(identity.query, { database });
    const series = (rows as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] }).results[0]?.series?.[0];
    assert.ok(series, JSON.stringify(rows));
    const row = Object.fromEntries(series.columns.map((c, i) => [c, series.values[0]![i]]));
    assert.equal(row['hl7_apps'], 'PUMP_GW');
    assert.equal(row['hl7_message_types'], 'ORU^R01=120; ACK=3');
    assert.equal(row['equipment_ids'], 'PUMP-03^BAXTER (OBX-18)');
    assert.equal(row['dicom_ae_titles'], '');
  });

  it('forensic replay (run picked from $run_id, absolute packet-time range)', async () => {
    const from = (replayEnd - 3700) * 1000;
    const to = (replayEnd + 60) * 1000;
    const report = await proveDashboards(url, database, { from, to }, { only: ['forensic-replay.json'] });
    assert.deepEqual(report.failures, [], explain(report));
    const q = report.entries.find((e) => e.what.startsWith('panel'))!.query;
    assert.match(q, new RegExp(`time >= ${from}ms and time <= ${to}ms`));
    assert.match(q, /"run_id" =~ \/\^replay-ward5\$\//);
  });

  it('fails, naming the panels, when the data they need is missing', async () => {
    // The live views over a range with no live data (only the replay's): every query must be reported empty.
    const from = (replayEnd - 3700) * 1000;
    const report = await proveDashboards(url, database, { from, to: (replayEnd + 60) * 1000 }, { only: ['soc-overview.json'] });
    assert.ok(report.failures.some((f) => f.includes('"Packets/s"') && f.includes('returned no data')), explain(report));
    assert.ok(report.failures.some((f) => f.includes('"Most anomalous devices"')), explain(report));
    assert.ok(report.failures.some((f) => f.includes('annotation Alerts')), explain(report));
  });
});
