/**
 * Issue 21 item 2, parity on the real services: the demo capture (11 attacks) through `wardwatch run` (in process),
 * and through the distributed deployment — `sensor -r` → Kafka (3 partitions) → two `detect` members of one group →
 * InfluxDB, alerts files, a webhook endpoint — gives the same:
 *  - alerts (every record of alerts.jsonl, modulo order), also on the alerts topic;
 *  - ww_alert, ww_device_window and ww_inventory point sets in InfluxDB (every tag and field);
 *  - ww_health of the sensor: the contract's capture, decode and flow-table fields at the same packet times;
 *  - webhook deliveries (modulo order);
 * and each detector writes its own ww_health (component detector): consumer lag read from Kafka (0 at the end), windows
 * and alerts it handled (together: all of them), sink retries and drops. A ward whose pump and CT change their medical
 * identity (issue 23): the change travels with its window through Kafka, so the detector alerts and explains it as run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { runCapture } from '../../../src/cli/run.js';
import { parseConfig } from '../../../src/config/load.js';
import type { WardwatchConfig } from '../../../src/config/schema.js';
import type { Alert } from '../../../src/records/alert.js';
import { MEASUREMENT } from '../../../src/sinks/influx/points.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { decodeAlert, FORMAT_HEADER } from '../../../src/transport/codec.js';
import { parseDetectConfig } from '../../../src/detect/index.js';
import { trainFromCapture } from '../../../src/train.js';
import { waitForGroupCommitted } from '../../support/consumed.js';
import { identityWardCapture, WARD_IDS } from '../../support/identity-change.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');

/** A webhook endpoint that records every body it accepts. */
class Receiver extends WebhookReceiver {
  constructor() {
    super('/soc');
  }
}

const readAlerts = (file: string): Alert[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Alert);

describe('parity: run and the distributed deployment give the same outputs (real Kafka, InfluxDB, webhook)', function () {
  this.timeout(300_000);
  let brokers: string[];
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, url] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-parity-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('demo capture: alerts, points, sensor health and webhook deliveries of run; each detector reports its own health', async () => {
    const dbRun = freshName('ww_parity_run');
    const dbDist = freshName('ww_parity_dist');
    const rxRun = new Receiver();
    const rxDist = new Receiver();
    await Promise.all([rxRun.start(), rxDist.start()]);
    const prefix = `${freshName('ww-parity')}.`;
    const group = freshName('ww-parity-group');
    const base = (database: string, rx: Receiver, alertsFile: string, sensorId: string): Record<string, unknown> => ({
      sensor: { id: sensorId },
      detect: { models_dir: path.join(repo, 'models') },
      sinks: {
        influx: { url, database, retention_policy: '', flush_interval_ms: 200 },
        files: { alerts_file: alertsFile },
        webhooks: { endpoints: [{ name: 'soc', url: rx.url, format: 'generic' }], dead_letter_file: path.join(dir, `${sensorId}.dlq.jsonl`) },
      },
      service: { metrics_listen: '' },
    });
    const kafka = { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: path.join(dir, 'spool') }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    const influx = (database: string): InfluxDB => new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    try {
      // 1. wardwatch run (the reference): sensor id 'ward', no run id, as the sensor's windows carry.
      const runAlertsFile = path.join(dir, 'run-alerts.jsonl');
      const runConfig = parseConfig(base(dbRun, rxRun, runAlertsFile, 'ward'), 'test', {});
      const ran = await runCapture(capture, runConfig, { speed: 'max' }, 'run');
      assert.ok(ran.alerts.length > 50, `${ran.alerts.length} alerts from run`);

      // 2. sensor -r → Kafka → two detectors (each its own alerts file and process id) → the other database.
      const detectorConfig = (n: number): WardwatchConfig => parseConfig({ ...base(dbDist, rxDist, path.join(dir, `detector-${n}.jsonl`), `detector-${n}`), transport: { kind: 'kafka', kafka } }, 'test', {});
      const sensorConfig = parseConfig({ ...base(dbDist, rxDist, path.join(dir, 'unused.jsonl'), 'ward'), transport: { kind: 'kafka', kafka } }, 'test', {});
      const detectors = [new DetectorService(detectorConfig(1), {}, { health_ms: 1000 }), new DetectorService(detectorConfig(2), {}, { health_ms: 1000 })];
      await Promise.all(detectors.map((d) => d.start()));
      const sensor = new SensorService(sensorConfig, { file: capture });
      await sensor.run();
      await sensor.stop(60_000);
      // Until the group has committed every window the sensor produced.
      await waitForGroupCommitted(kafkaFromConfig(sensorConfig.transport.kafka!), group, `${prefix}features`, 'the detectors did not consume the feature topic');
      await new Promise((r) => setTimeout(r, 1500)); // one more health point each, with the lag at 0
      const beforeStop = Date.now();
      await Promise.all(detectors.map((d) => d.stop()));

      // Alerts: the same records (alerts.jsonl of run = the union of the detectors'), and all on the alerts topic.
      // (An alert id recurs when an incident's alert is updated: records are compared whole, as sorted lists.)
      const records = (list: Alert[]): string[] => list.map((a) => JSON.stringify(a)).sort();
      const runList = readAlerts(runAlertsFile);
      const distList = [...readAlerts(path.join(dir, 'detector-1.jsonl')), ...readAlerts(path.join(dir, 'detector-2.jsonl'))];
      assert.equal(distList.length, runList.length);
      assert.deepEqual(records(distList), records(runList));
      const topicRecords: string[] = [];
      const reader = kafkaFromConfig(sensorConfig.transport.kafka!).consumer({ groupId: freshName('ww-parity-alerts') });
      await reader.connect();
      await reader.subscribe({ topic: `${prefix}alerts`, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${topicRecords.length} of ${runList.length} alerts on the alerts topic`)), 30_000);
        void reader.run({
          eachMessage: ({ message }) => {
            const alert = decodeAlert(message.value, message.headers?.[FORMAT_HEADER]?.toString());
            topicRecords.push(JSON.stringify(alert));
            if (topicRecords.length >= runList.length) {
              clearTimeout(t);
              resolve();
            }
            return Promise.resolve();
          },
        });
      });
      await reader.disconnect();
      assert.deepEqual(topicRecords.sort(), records(runList));

      // InfluxDB: the same alert, window and inventory points (every tag and field).
      const points = async (database: string, measurement: string, where = ''): Promise<string[]> =>
        (await influx(database).query<Record<string, unknown>>(`SELECT * FROM ${measurement}${where}`)).map((r) => JSON.stringify({ ...r, time: String(r['time']) })).sort();
      for (const m of [MEASUREMENT.alert, MEASUREMENT.window, MEASUREMENT.inventory]) {
        const [a, b] = await Promise.all([points(dbRun, m), points(dbDist, m)]);
        assert.ok(a.length > 0, `${m}: no points from run`);
        assert.equal(b.length, a.length, `${m}: ${b.length} points from the deployment, ${a.length} from run`);
        assert.deepEqual(b, a, m);
      }

      // ww_health of the sensor: the contract's fields at the same packet times (kafka_lag is the sensor's own backlog).
      const contract = 'packets_per_s, packets_dropped, capture_loss, decode_errors, flow_table_fill';
      const sensorHealth = async (database: string): Promise<string[]> =>
        (await influx(database).query<Record<string, unknown>>(`SELECT ${contract} FROM ${MEASUREMENT.health} WHERE component = 'sensor'`)).map((r) => JSON.stringify({ ...r, time: String(r['time']) }));
      const [hRun, hDist] = await Promise.all([sensorHealth(dbRun), sensorHealth(dbDist)]);
      assert.ok(hRun.length >= 100, `${hRun.length} sensor health points from run`);
      assert.deepEqual(hDist, hRun);

      // ww_health of each detector (the last point before the stop: a member that leaves hands its partitions over): its
      // own points; the lag read from Kafka ends at 0; together they own the 3 partitions and handled everything.
      const detHealth = await influx(dbDist).query<{ sensor: string; consumer_lag: number; partitions_assigned: number; windows_received: number; alerts_written: number; sink_retries: number; sink_dropped: number }>(
        `SELECT last(consumer_lag) AS consumer_lag, last(partitions_assigned) AS partitions_assigned, last(windows_received) AS windows_received, last(alerts_written) AS alerts_written, last(sink_retries) AS sink_retries, last(sink_dropped) AS sink_dropped FROM ${MEASUREMENT.health} WHERE component = 'detector' AND time < ${beforeStop}ms GROUP BY sensor`,
      );
      assert.deepEqual(detHealth.map((h) => h.sensor).sort(), ['detector-1', 'detector-2']);
      for (const h of detHealth) {
        assert.equal(h.consumer_lag, 0, JSON.stringify(h));
        assert.ok(h.partitions_assigned >= 1, JSON.stringify(h));
        assert.equal(h.sink_dropped, 0);
      }
      assert.equal(detHealth.reduce((n, h) => n + h.partitions_assigned, 0), 3);
      const perFile = [1, 2].map((n) => readAlerts(path.join(dir, `detector-${n}.jsonl`)).length);
      assert.equal(detHealth.reduce((n, h) => n + h.alerts_written, 0), runList.length, `${JSON.stringify(detHealth)} files ${perFile.join(' + ')}`);
      assert.equal(detHealth.reduce((n, h) => n + h.windows_received, 0), ran.windows_scored);

      // Webhook deliveries: the same notices (bodies), modulo order.
      assert.ok(rxRun.bodies.length > 0, 'run delivered notices');
      const events = (bodies: string[]): string => JSON.stringify(bodies.map((b) => { const j = JSON.parse(b) as { event: string; incident_key: string }; return `${j.event} ${j.incident_key}`; }).sort());
      assert.equal(events(rxDist.bodies), events(rxRun.bodies));
      assert.deepEqual([...rxDist.bodies].sort(), [...rxRun.bodies].sort());
    } finally {
      await Promise.all([rxRun.stop(), rxDist.stop()]);
      await Promise.all([influx(dbRun).dropDatabase(dbRun).catch(() => undefined), influx(dbDist).dropDatabase(dbDist).catch(() => undefined)]);
    }
  });

  it('a detector catching up a backlog (started after the sensor finished) sends the notices of run: it resolves what it triggers', async () => {
    const rxRun = new Receiver();
    const rxDist = new Receiver();
    await Promise.all([rxRun.start(), rxDist.start()]);
    const prefix = `${freshName('ww-backlog')}.`;
    const group = freshName('ww-backlog-group');
    const kafka = { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: '' }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    const cfg = (rx: Receiver, name: string, withKafka: boolean): WardwatchConfig =>
      parseConfig(
        {
          sensor: { id: name },
          detect: { models_dir: path.join(repo, 'models') },
          sinks: { files: { alerts_file: path.join(dir, `${name}.jsonl`) }, webhooks: { endpoints: [{ name: 'soc', url: rx.url, format: 'generic' }], dead_letter_file: path.join(dir, `${name}.dlq.jsonl`) } },
          service: { metrics_listen: '' },
          ...(withKafka ? { transport: { kind: 'kafka', kafka } } : {}),
        },
        'test',
        {},
      );
    try {
      await runCapture(capture, cfg(rxRun, 'bl-run', false), { speed: 'max' }, 'run');
      const sensor = new SensorService(cfg(rxDist, 'bl-sensor', true), { file: capture });
      await sensor.run();
      await sensor.stop(60_000);
      const detector = new DetectorService(cfg(rxDist, 'bl-det', true));
      await detector.start();
      const total = 3131;
      for (const deadline = Date.now() + 120_000; (detector.metrics()['windows_received'] ?? 0) < total; ) {
        assert.ok(Date.now() < deadline, `${detector.metrics()['windows_received']} windows received`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await detector.stop();
      const events = (bodies: string[]): string[] => bodies.map((b) => JSON.parse(b) as { event: string; incident_key: string; at: string }).map((j) => `${j.event} ${j.incident_key} ${j.at}`).sort();
      const resolves = events(rxRun.bodies).filter((e) => e.startsWith('resolve')).length;
      assert.ok(resolves >= 10, `${resolves} resolves from run`);
      assert.deepEqual(events(rxDist.bodies), events(rxRun.bodies));
    } finally {
      await Promise.all([rxRun.stop(), rxDist.stop()]);
    }
  });

  it('identity changes travel with their windows through Kafka: the same alerts, explanations and window points as run (issue 23)', async () => {
    const T0 = 1_767_603_600;
    const H = 3600;
    const ward = path.join(dir, 'ward.pcap');
    writeFileSync(ward, identityWardCapture({ t0: T0, durationS: 2.5 * H, pumpChangeS: 2 * H + 5, ctChangeS: 2 * H + 600 }));
    const models = path.join(dir, 'ward-models');
    await trainFromCapture(ward, parseDetectConfig({ models_dir: models }), { to: T0 + 2 * H });
    const dbRun = freshName('ww_parity_id_run');
    const dbDist = freshName('ww_parity_id_dist');
    const prefix = `${freshName('ww-parity-id')}.`;
    const group = freshName('ww-parity-id-group');
    const kafka = { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: '' }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    const cfg = (name: string, database: string, withKafka: boolean): WardwatchConfig =>
      parseConfig(
        {
          sensor: { id: 'ward' },
          detect: { models_dir: models },
          devices: { state_file: '' },
          sinks: { influx: { url, database, retention_policy: '', flush_interval_ms: 200 }, files: { alerts_file: path.join(dir, `${name}.jsonl`) } },
          service: { metrics_listen: '' },
          ...(withKafka ? { transport: { kind: 'kafka', kafka } } : {}),
        },
        'test',
        {},
      );
    const influx = (database: string): InfluxDB => new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    try {
      await runCapture(ward, cfg('id-run', dbRun, false), { speed: 'max' }, 'run');
      const detector = new DetectorService(cfg('id-det', dbDist, true));
      await detector.start();
      const sensor = new SensorService(cfg('id-sensor', dbDist, true), { file: ward });
      await sensor.run();
      await sensor.stop(60_000);
      await waitForGroupCommitted(kafkaFromConfig(cfg('id-admin', dbDist, true).transport.kafka!), group, `${prefix}features`, 'the detector did not consume the feature topic');
      await detector.stop();
      const runList = readAlerts(path.join(dir, 'id-run.jsonl'));
      const distList = readAlerts(path.join(dir, 'id-det.jsonl'));
      // Not vacuous: run alerted the two changes, naming them.
      const named = (device: string): string => runList.find((a) => a.device_id === device && a.kind === 'anomaly')?.summary ?? '';
      assert.match(named(WARD_IDS.pump), /^new HL7 message type ADT\^A01\^ADT_A01 from PUMP-03; seen before: ORU\^R01\^ORU_R01/);
      assert.match(named(WARD_IDS.ct), /^new DICOM AE title CT_ROGUE calling PACS01; seen before: CT01/);
      assert.deepEqual(distList.map((a) => JSON.stringify(a)).sort(), runList.map((a) => JSON.stringify(a)).sort());
      // The windows that carry a change: the same points (count and list in words) from the detector fed by Kafka.
      const changed = async (database: string): Promise<string[]> =>
        (await influx(database).query<Record<string, unknown>>(`SELECT * FROM ${MEASUREMENT.window} WHERE identity_changes > 0`)).map((r) => JSON.stringify({ ...r, time: String(r['time']) })).sort();
      const [a, b] = await Promise.all([changed(dbRun), changed(dbDist)]);
      assert.equal(a.length, 2, a.join('\n'));
      assert.ok(a.every((p) => p.includes('"identity_change_list":"new ')));
      assert.deepEqual(b, a);
    } finally {
      await Promise.all([influx(dbRun).dropDatabase(dbRun).catch(() => undefined), influx(dbDist).dropDatabase(dbDist).catch(() => undefined)]);
    }
  });

  it('a detector that leaves mid-replay hands its webhook incidents over: the same notices as run, none twice, none missing', async () => {
    const rxRun = new Receiver();
    const rxDist = new Receiver();
    await Promise.all([rxRun.start(), rxDist.start()]);
    const prefix = `${freshName('ww-handover')}.`;
    const group = freshName('ww-handover-group');
    const cfg = (rx: Receiver, name: string, extra: Record<string, unknown> = {}): WardwatchConfig =>
      parseConfig(
        {
          sensor: { id: name },
          detect: { models_dir: path.join(repo, 'models') },
          sinks: { files: { alerts_file: path.join(dir, `${name}.jsonl`) }, webhooks: { endpoints: [{ name: 'soc', url: rx.url, format: 'generic' }], dead_letter_file: path.join(dir, `${name}.dlq.jsonl`) } },
          service: { metrics_listen: '' },
          ...extra,
        },
        'test',
        {},
      );
    const kafka = { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: '' }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    try {
      await runCapture(capture, cfg(rxRun, 'ho-run'), { speed: 'max' }, 'run');
      const detectors = [new DetectorService(cfg(rxDist, 'ho-det-1', { transport: { kind: 'kafka', kafka } })), new DetectorService(cfg(rxDist, 'ho-det-2', { transport: { kind: 'kafka', kafka } }))];
      await Promise.all(detectors.map((d) => d.start()));
      const scored = (): number => detectors.reduce((n, d) => n + (d.metrics()['windows_received'] ?? 0), 0);
      // The 30-minute capture at 100× (18 s); the first detector leaves once both have paged incidents they will have
      // to resolve (the attacks come after 25 minutes of benign traffic), while windows keep coming.
      const sensor = new SensorService(cfg(rxDist, 'ho-sensor', { transport: { kind: 'kafka', kafka } }), { file: capture, speed: 100 });
      const done = sensor.run();
      const triggers = (): number => rxDist.bodies.filter((b) => b.includes('"event":"trigger"')).length;
      for (const deadline = Date.now() + 60_000; triggers() < 8; ) {
        assert.ok(Date.now() < deadline, `${triggers()} triggers, ${scored()} windows scored`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const openAtLeave = detectors[0]!.sinks.webhooks!.openIncidents().length;
      await detectors[0]!.stop();
      await done;
      await sensor.stop(60_000);
      await waitForGroupCommitted(kafkaFromConfig(cfg(rxDist, 'ho-admin', { transport: { kind: 'kafka', kafka } }).transport.kafka!), group, `${prefix}features`, 'the remaining detector did not consume the feature topic');
      await detectors[1]!.stop();
      const events = (bodies: string[]): string[] =>
        bodies
          .map((b) => {
            const j = JSON.parse(b) as { event: string; incident_key: string; at: string; alert_count: number };
            return `${j.event} ${j.incident_key} ${j.at} ${j.alert_count}`;
          })
          .sort();
      assert.ok(rxRun.bodies.length > 20, `${rxRun.bodies.length} notices from run`);
      assert.ok(openAtLeave > 0, 'the detector that left had open incidents to hand over');
      assert.deepEqual(events(rxDist.bodies), events(rxRun.bodies));
    } finally {
      await Promise.all([rxRun.stop(), rxDist.stop()]);
    }
  });
});
