/**
 * Issue 20 item 6, end to end on the real services: `wardwatch sensor` with the analysis on a worker thread
 * (`analysis.threads: 2`) puts on Kafka exactly what one thread puts there — the same feature windows (every field,
 * the same order per device and partition), the same inventory entries — and writes the same `ww_health` points
 * (packet-time health of a file replay: the stages' counters are read at the same point of the stream) and the same
 * `ww_inventory` points to InfluxDB.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { parseConfig } from '../../../src/config/load.js';
import { MEASUREMENT, REPLAY_RETENTION_POLICY } from '../../../src/sinks/influx/points.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { readWindowRange } from '../../../src/transport/kafka/range.js';
import { topicNames } from '../../../src/transport/kafka/topics.js';
import { KafkaInventoryReader } from '../../../src/transport/kafka/inventory.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { freshName, requireInflux, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');

/** Health fields that depend on timing (the producer's backlog, the writer's retries), not on the packets. */
const TIMING_FIELDS = /^(producer_|inventory_published|health_|windows_undelivered|sink_retries|kafka_lag)/;

describe('sensor with the analysis on a worker thread: the same windows, entries and health as one thread (real Kafka and InfluxDB)', function () {
  this.timeout(240_000);
  let brokers: string[];
  let url: string;
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    [brokers, url] = await Promise.all([requireKafka(), requireInflux()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-sensor-threads-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  interface Outcome {
    windows: FeatureWindow[];
    hooked: FeatureWindow[];
    entries: string[];
    health: Record<string, unknown>[];
    inventory: string[];
  }

  async function sensorRun(threads: number, database: string): Promise<Outcome> {
    const sensorId = freshName(`threads${threads}`);
    const config = parseConfig(
      {
        sensor: { id: sensorId },
        analysis: { threads },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix: `${freshName('ww-threads')}.`, partitions: 3 }, producer: { spool_dir: path.join(dir, `spool-${threads}`) } } },
        sinks: { influx: { url, database, retention_policy: '', flush_interval_ms: 100 } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const hooked: FeatureWindow[] = [];
    // A replay with a run id: its points go to the replays' retention policy (read from there below).
    const sensor = new SensorService(config, { file: capture }, 'threads', { onWindow: (w) => hooked.push(w) });
    assert.equal(sensor.analysis.threads, threads);
    await sensor.run();
    await sensor.stop(60_000);
    assert.equal(sensor.producer.stats().dropped, 0);
    const k = config.transport.kafka!;
    const kafka = kafkaFromConfig(k);
    const topics = topicNames({ ...k.topics });
    const read = await readWindowRange(kafka, brokers, topics.features, { from: -Infinity, to: Infinity });
    const reader = new KafkaInventoryReader(kafka, brokers, topics.inventory);
    let entries: string[];
    try {
      await reader.start();
      await reader.catchUp();
      entries = reader.all().map((e) => JSON.stringify(e)).sort();
    } finally {
      await reader.stop();
    }
    const influx = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    const health = (await influx.query<Record<string, unknown>>(`SELECT * FROM "${REPLAY_RETENTION_POLICY}".${MEASUREMENT.health} WHERE sensor = '${sensorId}' ORDER BY time`)).map((row) =>
      Object.fromEntries(Object.entries(row).filter(([f]) => !TIMING_FIELDS.test(f) && f !== 'sensor').map(([f, v]) => [f, f === 'time' ? String(v) : v])),
    );
    const inventory = (await influx.query<Record<string, unknown>>(`SELECT * FROM "${REPLAY_RETENTION_POLICY}".${MEASUREMENT.inventory} WHERE sensor = '${sensorId}'`)).map((row) => JSON.stringify({ ...row, time: String(row['time']), sensor: '' })).sort();
    return { windows: read.windows, hooked, entries, health, inventory };
  }

  it('demo capture (11 attacks): windows on the topic, inventory entries and ww_health points are those of one thread', async () => {
    const database = freshName('ww_threads');
    const influx = new InfluxDB({ host: new URL(url).hostname, port: Number(new URL(url).port), database });
    try {
      const one = await sensorRun(1, database);
      const two = await sensorRun(2, database);
      assert.ok(one.windows.length > 3000, `${one.windows.length} windows`);
      // The order in which the sensor handed windows to the producer (sensor ids differ: blanked), then what the topic
      // holds (read from all partitions at once: compared as sorted sets; each device stays on one partition, in order).
      const text = (ws: FeatureWindow[]): string[] => ws.map((w) => JSON.stringify({ ...w, sensor_id: '' }));
      assert.deepEqual(text(two.hooked), text(one.hooked));
      assert.equal(two.windows.length, one.hooked.length);
      assert.deepEqual(text(two.windows).sort(), text(one.windows).sort());
      assert.deepEqual(text(one.windows).sort(), text(one.hooked).sort());
      assert.ok(one.entries.length >= 20, `${one.entries.length} inventory entries`);
      assert.deepEqual(two.entries, one.entries);
      assert.ok(one.health.length >= 100, `${one.health.length} health points`);
      assert.ok('flows_active' in one.health[0]! && 'devices_created' in one.health[0], Object.keys(one.health[0]!).join(' '));
      assert.deepEqual(two.health, one.health);
      // ww_inventory: every confirmed device once, at the last packet's time (what `wardwatch run` writes at its end).
      assert.equal(one.inventory.length, one.entries.length, one.inventory.slice(0, 2).join('\n'));
      assert.deepEqual(two.inventory, one.inventory);
    } finally {
      await influx.dropDatabase(database).catch(() => undefined);
    }
  });
});
