/**
 * `train --from-kafka` on the real broker: a sensor replays the demo capture into a fresh feature topic (twice the
 * first half: at-least-once duplicates must count once); models trained from the topic over a packet-time range
 * equal those trained from the capture over the same range — same models, sample counts and data hashes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { parseDetectConfig } from '../../../src/detect/index.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { trainFromCapture, trainFromKafka } from '../../../src/train.js';
import { topicNames } from '../../../src/transport/kafka/topics.js';
import { KafkaWindowProducer } from '../../../src/transport/kafka/producer.js';
import { windowsFromCapture } from '../../../src/compose/embedded.js';
import { freshName, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');

/** model path (scope/id/version) → samples and data hash, from every metadata.json of a model store. */
function storeSummary(dir: string): Map<string, { samples: unknown; data_hash: unknown }> {
  const out = new Map<string, { samples: unknown; data_hash: unknown }>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f === 'metadata.json') {
        const m = JSON.parse(readFileSync(p, 'utf8')) as { samples: unknown; data_hash: unknown };
        out.set(path.relative(dir, path.dirname(p)), { samples: m.samples, data_hash: m.data_hash });
      }
    }
  };
  walk(dir);
  return out;
}

describe('train --from-kafka (real broker)', function () {
  this.timeout(300_000);
  let brokers: string[];
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-train-kafka-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('models trained from the feature topic over a time range equal those trained from the capture', async () => {
    const prefix = `${freshName('ww-train')}.`;
    const raw = {
      sensor: { id: 'train-test' },
      transport: { kind: 'kafka', kafka: { brokers, topics: { prefix, partitions: 3 }, producer: { spool_dir: '' } } },
      service: { metrics_listen: '' },
    };
    const config = parseConfig(raw, 'test', {});
    const sensor = new SensorService(config, { file: capture });
    await sensor.run();
    await sensor.stop();

    // The range: the middle of the capture's windows (same sensor id and config as the sensor's).
    const analysed = await windowsFromCapture(capture, { features: { ...config.features, sensor_id: 'train-test', run_id: '' } });
    const starts = [...new Set(analysed.windows.map((w) => w.window_start))].sort((a, b) => a - b);
    const from = starts[Math.floor(starts.length * 0.2)]!;
    const to = starts[Math.floor(starts.length * 0.9)]!;

    // At-least-once: re-send the windows of the first half of the range (duplicates must be learned once).
    const k = config.transport.kafka!;
    const kafka = kafkaFromConfig(k);
    const again = new KafkaWindowProducer(kafka, k.brokers, { topic: topicNames(k.topics).features, spool_dir: '' });
    again.enqueue(analysed.windows.filter((w) => w.window_start >= from && w.window_start < (from + to) / 2));
    await again.close();

    const detect = (name: string) => parseDetectConfig({ models_dir: path.join(dir, name), training: { max_epochs: 2 } });
    const fromCapture = await trainFromCapture(capture, detect('capture'), { from, to, features: { ...config.features, sensor_id: 'train-test', run_id: '' } });
    const fromTopic = await trainFromKafka(kafka, k.brokers, detect('kafka'), { from, to, topics: topicNames(k.topics) });

    assert.ok(fromCapture.models.filter((m) => m.model).length >= 2, `capture trained ${JSON.stringify(fromCapture.models.map((m) => m.model ?? m.error))}`);
    assert.equal(fromTopic.windows_in_range, fromCapture.windows_in_range, 'same windows in range (duplicates once)');
    assert.deepEqual(
      fromTopic.models.map((m) => [m.model, m.windows]),
      fromCapture.models.map((m) => [m.model, m.windows]),
    );
    const a = storeSummary(path.join(dir, 'capture'));
    const b = storeSummary(path.join(dir, 'kafka'));
    assert.ok(a.size >= 2);
    assert.deepEqual(b, a, 'same models, sample counts and data hashes');

    // The CLI reaches the same code: `wardwatch train --from-kafka -c <config>` over the same range.
    const cfgFile = path.join(dir, 'kafka.yaml');
    writeFileSync(cfgFile, stringify(raw));
    const res = spawnSync(process.execPath, [cli, 'train', '--from-kafka', '-c', cfgFile, '--from', String(from), '--to', String(to), '--models-dir', path.join(dir, 'cli'), '--json'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const cliResult = JSON.parse(res.stdout) as { windows_in_range: number; capture: string };
    assert.equal(cliResult.windows_in_range, fromCapture.windows_in_range);
    assert.equal(cliResult.capture, `kafka:${topicNames(k.topics).features}`);
  });
});
