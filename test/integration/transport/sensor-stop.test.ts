/**
 * Issue 20 ("nothing lost at stop"), on the real broker: a sensor stopped in the middle of a paced replay — what
 * SIGTERM does in `wardwatch sensor` — still delivers every window it closed, the last partial ones included, to the
 * feature topic. Before the fix the producer was closed before the final flush added its windows: the topic held none
 * of them and nothing counted a drop. And when the broker is gone at that moment, the stop still ends within 5 s: the
 * windows it could not deliver are in the spool, and the next start delivers them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePcap } from '../../../src/capture/pcap-file/writer.js';
import { parseConfig } from '../../../src/config/load.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { readWindowRange } from '../../../src/transport/kafka/range.js';
import { topicNames } from '../../../src/transport/kafka/topics.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { DEFAULT_KAFKA, kafkaBrokers, pauseKafka, resumeKafka, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { freshName, requireKafka } from '../../support/services.js';
import { ScriptedLiveSource } from '../../support/scripted-live-source.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap'); // 30 min of packet time

describe('sensor stopped mid-replay (what SIGTERM does): every window it closed reaches the feature topic (real broker)', function () {
  this.timeout(180_000);
  let brokers: string[];
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
  });

  for (const threads of [1, 2])
  it(`the final flush goes out before the producer closes; nothing dropped (analysis threads: ${threads})`, async () => {
    const prefix = `${freshName('ww-stop')}.`;
    const config = parseConfig(
      {
        sensor: { id: 'stop-test' },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix, partitions: 2 }, producer: { spool_dir: '' }, consumer: { group_id: freshName('ww-stop') } } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );
    const closed: FeatureWindow[] = [];
    // 120x: the 30-minute capture would take 15 s; it is stopped after 3 s, in the middle of a window.
    const sensor = new SensorService(config, { file: capture, speed: 120, threads }, 'stop-test', { onWindow: (w) => closed.push(w) });
    const done = sensor.run();
    await new Promise((r) => setTimeout(r, 3000));
    const beforeStop = closed.length;
    await sensor.stop();
    await done;
    assert.ok(beforeStop > 10, `${beforeStop} windows closed before the stop`);
    assert.ok(closed.length > beforeStop, 'the stop flushed the open window');
    const stats = sensor.producer.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.buffered, 0);
    // Every window the sensor closed is on the topic, the ones the stop flushed included.
    const read = await readWindowRange(kafkaFromConfig(config.transport.kafka!), brokers, topicNames({ ...config.transport.kafka!.topics }).features, { from: -Infinity, to: Infinity });
    const key = (w: FeatureWindow): string => `${w.device_id}@${w.window_start}`;
    const onTopic = new Set(read.windows.map(key));
    const missing = closed.filter((w) => !onTopic.has(key(w)));
    assert.deepEqual(missing.map(key).slice(0, 5), [], `${missing.length} of ${closed.length} closed windows missing from the topic`);
    assert.equal(read.windows.length, closed.length);
  });

  it('broker unreachable at the stop: ends within 5 s, undelivered windows spooled, delivered by the next start', async function () {
    this.timeout(300_000);
    // Its own broker, so that stopping it does not disturb the shared one.
    const outage = { ...DEFAULT_KAFKA, instance: 'sensor-stop-outage', port: DEFAULT_KAFKA.port + 210, controller_port: DEFAULT_KAFKA.controller_port + 210 };
    await startKafka(outage);
    const own = kafkaBrokers(outage);
    const spool = mkdtempSync(path.join(tmpdir(), 'ww-stop-spool-'));
    try {
      const prefix = `${freshName('ww-stop-out')}.`;
      const kafka = { brokers: own, connection_timeout_ms: 1000, request_timeout_ms: 3000, topics: { prefix, partitions: 2 }, producer: { spool_dir: spool } };
      const config = parseConfig({ sensor: { id: 'stop-outage' }, transport: { kind: 'kafka', kafka }, service: { metrics_listen: '' } }, 'test', {});
      const closed: FeatureWindow[] = [];
      const sensor = new SensorService(config, { file: capture, speed: 120 }, 'stop-outage', { onWindow: (w) => closed.push(w) });
      const done = sensor.run();
      await new Promise((r) => setTimeout(r, 3000));
      await pauseKafka(outage.instance);
      // Windows keep closing while the broker is gone.
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      await sensor.stop();
      const took = Date.now() - t0;
      await done;
      assert.ok(took < 5000, `stop took ${took} ms with the broker gone`);
      const stats = sensor.producer.stats();
      assert.equal(stats.dropped, 0, JSON.stringify(stats));
      assert.ok(stats.spool_pending > 0, `undelivered windows are in the spool: ${JSON.stringify(stats)}`);
      assert.ok(stats.produced + stats.spool_pending >= closed.length, `every closed window is delivered or spooled: ${JSON.stringify(stats)}, ${closed.length} closed`);

      // The next start (same spool) delivers them first: every window the first sensor closed reaches the topic.
      await resumeKafka(outage);
      const empty = path.join(spool, 'empty.pcap');
      writeFileSync(empty, encodePcap([], { linktype: 1 }));
      const next = new SensorService(config, { file: empty }, 'stop-outage');
      await next.run().catch(() => undefined);
      await next.stop(120_000);
      assert.equal(next.producer.stats().spool_pending, 0);
      const read = await readWindowRange(kafkaFromConfig(config.transport.kafka!), own, topicNames({ ...config.transport.kafka!.topics }).features, { from: -Infinity, to: Infinity });
      const key = (w: FeatureWindow): string => `${w.device_id}@${w.window_start}`;
      const onTopic = new Set(read.windows.map(key));
      const missing = closed.filter((w) => !onTopic.has(key(w)));
      assert.deepEqual(missing.map(key).slice(0, 5), [], `${missing.length} of ${closed.length} closed windows missing from the topic`);
    } finally {
      await stopKafka(outage.instance);
      rmSync(spool, { recursive: true, force: true });
    }
  });

  for (const threads of [1, 2])
  it(`a live sensor on a quiet wire closes its last window within a few seconds, without waiting for the next packet (analysis threads: ${threads})`, async () => {
    const prefix = `${freshName('ww-quiet')}.`;
    const config = parseConfig(
      { sensor: { id: 'quiet-test' }, features: { window_ms: 1000 }, transport: { kind: 'kafka', kafka: { brokers, topics: { prefix, partitions: 1 }, producer: { spool_dir: '' } } }, service: { metrics_listen: '' } },
      'test',
      {},
    );
    const source = await ScriptedLiveSource.fromFile(capture, 200, 50);
    const closed: FeatureWindow[] = [];
    const sensor = new SensorService(config, { source, threads }, 'quiet-test', { onWindow: (w) => closed.push(w) });
    const done = sensor.run();
    try {
      await new Promise((r) => setTimeout(r, 2500));
      source.paused = true;
      // The last frames were stamped at most one tick (50 ms) before this.
      const lastFrame = Date.now() / 1000 - 0.1;
      await new Promise((r) => setTimeout(r, 4500));
      // The window holding the last frames closed while the wire was quiet (it ends after them).
      const lastEnd = Math.max(...closed.map((w) => w.window_end));
      assert.ok(lastEnd > lastFrame, `the last window closed ends at ${lastEnd}; the last frames were stamped at ${lastFrame.toFixed(2)}`);
    } finally {
      await sensor.stop();
      await done;
    }
  });
});
