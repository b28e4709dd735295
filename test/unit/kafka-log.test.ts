/**
 * How kafkajs' log lines reach wardwatch's log (src/transport/kafka/client.ts `kafkajsLogMethod`): the lines an
 * operator should see keep their level; kafkajs' chatter, its start-up advice that does not apply, and the broker's
 * transient coordinator answers it retries by itself go to debug. The messages are kafkajs 2.2's own.
 */
import assert from 'node:assert/strict';
import { logLevel } from 'kafkajs';
import { kafkajsLogMethod } from '../../src/transport/kafka/client.js';

describe('kafkajs log lines in wardwatch’s log', () => {
  it('keeps real warnings and errors at their level', () => {
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092'), 'error');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Response SaslAuthenticate(key: 36, version: 2)', 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'), 'error');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'This server does not host this topic-partition'), 'error');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: The coordinator is not aware of this member'), 'error');
    assert.equal(kafkajsLogMethod(logLevel.WARN, 'Request timed out'), 'warn');
  });

  it('sends the chatter, the advice and transient coordinator answers to debug', () => {
    assert.equal(kafkajsLogMethod(logLevel.INFO, 'Consumer has joined the group'), 'debug');
    assert.equal(kafkajsLogMethod(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior …'), 'debug');
    assert.equal(kafkajsLogMethod(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees'), 'debug');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', "The coordinator is loading and hence can't process requests for this group"), 'debug');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'), 'debug');
    assert.equal(kafkajsLogMethod(logLevel.ERROR, 'Response JoinGroup(key: 11, version: 5)', 'This is not the correct coordinator for this group'), 'debug');
  });
});
