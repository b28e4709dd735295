import assert from 'node:assert/strict';
import { createKafka } from '../../../src/transport/kafka/client.js';
import { KafkaStateStore } from '../../../src/transport/kafka/state.js';
import { freshName, requireKafka } from '../../support/services.js';

describe('detector state store (compacted topic, real broker)', function () {
  this.timeout(120_000);
  let brokers: string[];
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
  });

  it('keeps the latest value per device, honours tombstones, and filters by owner', async () => {
    const kafka = createKafka({ brokers, client_id: 'ww-state-test', connection_timeout_ms: 2000, request_timeout_ms: 10_000, retry: { retries: 3, initial_retry_time_ms: 100, max_retry_time_ms: 1000 } });
    const topic = freshName('ww-state');
    const store = new KafkaStateStore(kafka, brokers, { topic, partitions: 3, replication_factor: 1 });
    const admin = kafka.admin();
    await admin.connect();
    await store.ensureTopic(admin);
    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
    assert.equal(configs.resources[0]?.configEntries[0]?.configValue, 'compact');
    await admin.disconnect();

    const v = (s: string) => Buffer.from(s);
    for (let round = 0; round < 3; round++) {
      await store.put(new Map(Array.from({ length: 20 }, (_, d) => [`dev-${d}`, v(`state-${d}-round-${round}`)] as const)));
    }
    await store.put(new Map([['dev-3', null]]));
    const all = await store.load();
    assert.equal(all.size, 19);
    assert.equal(all.has('dev-3'), false);
    for (const [k, val] of all) assert.equal(val.toString(), `state-${k.slice(4)}-round-2`);
    const mine = await store.load((k) => Number(k.slice(4)) % 2 === 0);
    assert.deepEqual([...mine.keys()].sort(), Array.from({ length: 10 }, (_, i) => `dev-${i * 2}`).filter((k) => k !== 'dev-3').sort());
    await store.close();
  });
});
