/**
 * The optional flows topic (transport.kafka.topics.flows, off by default) on the real broker: the sensor publishes
 * every ended flow record of a capture; read back, they equal the records the embedded pipeline gives for the same
 * capture (field for field, by uid).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import { windowsFromCapture } from '../../../src/compose/embedded.js';
import type { FlowRecord } from '../../../src/records/flow.js';
import { FORMAT_HEADER, decodeFlow } from '../../../src/transport/codec.js';
import { freshName, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const capture = path.join(repo, 'captures', 'demo.pcap');

describe('flows topic (real broker)', function () {
  this.timeout(120_000);
  let brokers: string[];
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
  });

  const config = (prefix: string, flows?: string) =>
    parseConfig(
      {
        sensor: { id: 'flows-test' },
        transport: { kind: 'kafka', kafka: { brokers, topics: { prefix, partitions: 2, ...(flows ? { flows } : {}) }, producer: { spool_dir: '' } } },
        service: { metrics_listen: '' },
      },
      'test',
      {},
    );

  it('is off by default', () => {
    const sensor = new SensorService(config(`${freshName('ww-noflows')}.`), { file: capture });
    assert.equal(sensor.flows, undefined);
  });

  it('round-trips every ended flow record of the demo capture', async () => {
    const prefix = `${freshName('ww-flows')}.`;
    const cfg = config(prefix, 'flows');
    const reference: FlowRecord[] = [];
    await windowsFromCapture(capture, { flows: cfg.flows, devices: cfg.devices, features: { ...cfg.features, sensor_id: 'flows-test', run_id: '' }, collect: false, onFlow: (r) => reference.push(r) });
    assert.ok(reference.length > 100, `${reference.length} flows in the capture`);

    const sensor = new SensorService(cfg, { file: capture });
    await sensor.run();
    await sensor.stop();
    assert.deepEqual({ sent: sensor.flows!.stats().sent, dropped: sensor.flows!.stats().dropped }, { sent: reference.length, dropped: 0 });

    const kafka = kafkaFromConfig(cfg.transport.kafka!);
    const reader = kafka.consumer({ groupId: freshName('ww-flows-reader') });
    await reader.connect();
    await reader.subscribe({ topic: `${prefix}flows`, fromBeginning: true });
    const got: FlowRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`read ${got.length}/${reference.length} flow records`)), 30_000);
      void reader.run({
        eachMessage: ({ message }) => {
          const r = decodeFlow(message.value, message.headers?.[FORMAT_HEADER]?.toString());
          assert.equal(message.key?.toString(), r.orig_device || r.resp_device || r.orig_h);
          got.push(r);
          if (got.length >= reference.length) {
            clearTimeout(t);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await reader.disconnect();
    const byUid = new Map(got.map((r) => [r.uid, r]));
    assert.equal(byUid.size, reference.length);
    for (const r of reference) assert.deepEqual(byUid.get(r.uid), r, r.uid);
  });
});
