/**
 * Issue 20 ("nothing lost at stop"), on the real broker: a sensor stopped in the middle of a paced replay — what
 * SIGTERM does in `wardwatch sensor` — still delivers every window it closed, the last partial ones included, to the
 * feature topic. Before the fix the producer was closed before the final flush added its windows: the topic held none
 * of them and nothing counted a drop.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { kafkaFromConfig, SensorService } from '../../../src/services.js';
import { readWindowRange } from '../../../src/transport/kafka/range.js';
import { topicNames } from '../../../src/transport/kafka/topics.js';
import type { FeatureWindow } from '../../../src/records/features.js';
import { freshName, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap'); // 30 min of packet time

describe('sensor stopped mid-replay (what SIGTERM does): every window it closed reaches the feature topic (real broker)', function () {
  this.timeout(180_000);
  let brokers: string[];
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
  });

  it('the final flush goes out before the producer closes; nothing dropped', async () => {
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
    const sensor = new SensorService(config, { file: capture, speed: 120 }, 'stop-test', { onWindow: (w) => closed.push(w) });
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
});
