/**
 * Detectors learn the sensor's inventory over Kafka (real broker): the sensor publishes inventory entries to the
 * compacted `<prefix>inventory` topic before the windows that need them; the detector reads it, so the alerts of
 * sensor + detector over Kafka carry the same device class, criticality, vendor, name and severity as the embedded
 * `run` mode (replayCapture) on the same capture with the same models.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { replayCapture } from '../../../src/compose/embedded.js';
import type { Alert } from '../../../src/records/alert.js';
import { decodeAlert, decodeInventory, FORMAT_HEADER } from '../../../src/transport/codec.js';
import type { InventoryEntry } from '../../../src/records/device.js';
import { waitForGroupCommitted } from '../../support/consumed.js';
import { freshName, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');

function readAlerts(file: string): Alert[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
}

describe('detectors learn the inventory over Kafka (real broker)', function () {
  this.timeout(240_000);
  let brokers: string[];
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-inventory-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('alerts over Kafka carry the class, criticality, vendor, name and severity of `run` on the same capture', async () => {
    const prefix = `${freshName('ww-inv')}.`;
    const group = freshName('ww-inv-group');
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const config = parseConfig(
      {
        sensor: { id: 'inventory-test' },
        transport: {
          kind: 'kafka',
          kafka: { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: '' }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } },
        },
        detect: { models_dir: path.join(repo, 'models') },
        sinks: { files: { alerts_file: alertsFile } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );

    // Embedded `run` on the capture: the reference.
    const run = await replayCapture(capture, config.detect, { flows: config.flows, devices: config.devices, features: { ...config.features, sensor_id: config.sensor.id, run_id: '' } });
    const reference = new Map(run.alerts.map((a) => [a.alert_id, a]));
    assert.ok(reference.size > 10, `${reference.size} alerts from run`);
    assert.ok(run.alerts.some((a) => a.device_class !== 'unknown' && a.device_name !== ''), 'run alerts name classes and devices');

    // The same capture through sensor → Kafka → detector.
    const detector = new DetectorService(config);
    await detector.start();
    const sensor = new SensorService(config, { file: capture });
    await sensor.run();
    await sensor.stop();
    assert.ok(sensor.inventory.sent > 0 && sensor.inventory.sent <= 4 * run.inventory.length, `${sensor.inventory.sent} inventory entries for ${run.inventory.length} devices (published on change only)`);
    await waitForGroupCommitted(kafkaFromConfig(config.transport.kafka!), group, `${prefix}features`, 'detector did not consume the feature topic');
    await detector.stop();

    // The compacted topic holds each device's latest entry, as the sensor's inventory has it.
    const kafka = kafkaFromConfig(config.transport.kafka!);
    const reader = kafka.consumer({ groupId: freshName('ww-inv-check') });
    await reader.connect();
    await reader.subscribe({ topic: `${prefix}inventory`, fromBeginning: true });
    const latest = new Map<string, InventoryEntry>();
    const expectedDevices = new Set(run.inventory.map((e) => e.device_id));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`read ${latest.size} inventory entries`)), 30_000);
      void reader.run({
        eachMessage: ({ message }) => {
          const e = decodeInventory(message.value, message.headers?.[FORMAT_HEADER]?.toString());
          latest.set(e.device_id, e);
          if (latest.size >= expectedDevices.size * 0.5 && [...latest.keys()].every((k) => expectedDevices.has(k))) {
            clearTimeout(t);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await reader.disconnect();

    const overKafka = new Map(readAlerts(alertsFile).map((a) => [a.alert_id, a]));
    const common = [...reference.keys()].filter((id) => overKafka.has(id));
    assert.ok(common.length >= reference.size * 0.9, `${common.length} of ${reference.size} run alerts also over Kafka`);
    const fields = ['device_class', 'criticality', 'vendor', 'device_name', 'severity', 'model'] as const;
    const diffs: string[] = [];
    for (const id of common) {
      const a = reference.get(id)!;
      const b = overKafka.get(id)!;
      for (const f of fields) if (a[f] !== b[f]) diffs.push(`${a.kind} ${a.device_id} ${f}: run '${a[f]}' vs kafka '${b[f]}'`);
    }
    assert.deepEqual(diffs, []);

    // Every alert the detector wrote is also on the alerts topic (for a SIEM), the same record, keyed by device.
    const onTopic = new Map<string, Alert>();
    const keys = new Map<string, string>();
    const alertsReader = kafka.consumer({ groupId: freshName('ww-alerts-check') });
    await alertsReader.connect();
    await alertsReader.subscribe({ topic: `${prefix}alerts`, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`read ${onTopic.size} of ${overKafka.size} alerts from the alerts topic`)), 30_000);
      void alertsReader.run({
        eachMessage: ({ message }) => {
          const a = decodeAlert(message.value, message.headers?.[FORMAT_HEADER]?.toString());
          onTopic.set(a.alert_id, a);
          keys.set(a.alert_id, message.key?.toString() ?? '');
          if (onTopic.size >= overKafka.size) {
            clearTimeout(t);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await alertsReader.disconnect();
    assert.deepEqual([...onTopic.keys()].sort(), [...overKafka.keys()].sort());
    for (const [id, a] of overKafka) {
      assert.deepEqual(onTopic.get(id), a, id);
      assert.equal(keys.get(id), a.device_id);
    }
  });
});
