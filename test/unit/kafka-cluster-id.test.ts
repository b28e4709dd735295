/**
 * The KRaft cluster id handed to kafka-storage: Kafka's Uuid text form, never starting with '-' (the storage tool's
 * argument parser reads such an id as an option; a CI run failed that way once in 64 formats).
 */
import assert from 'node:assert/strict';
import { clusterId } from '../../scripts/services/kafka.js';

describe('Kafka cluster id', () => {
  it('is 22 base64url characters (16 bytes, no padding)', () => {
    for (let i = 0; i < 200; i++) assert.match(clusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('draws again when the bytes would encode to a leading "-"', () => {
    const draws = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0x01)]; // 0xfb… encodes as "-", 0x01… as "AQ"
    let calls = 0;
    const id = clusterId(() => draws[calls++] ?? Buffer.alloc(16));
    assert.equal(Buffer.alloc(16, 0xfb).toString('base64url')[0], '-');
    assert.equal(calls, 2);
    assert.equal(id, Buffer.alloc(16, 0x01).toString('base64url'));
  });
});
