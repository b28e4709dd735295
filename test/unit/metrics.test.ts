import assert from 'node:assert/strict';
import { Counters, MetricsRegistry, startMetricsServer } from '../../src/metrics.js';

describe('metrics and health endpoints', () => {
  it('serves Prometheus text from every registered stage and a health verdict', async () => {
    const decode = new Counters('decode');
    decode.add('packets', 1200);
    decode.add('malformed_ipv4_header');
    const registry = new MetricsRegistry();
    registry.register('decode', () => decode.snapshot());
    registry.register('kafka_producer', () => ({ produced: 10, buffered: 2, spool_pending: 0, dropped: 0 }));
    let brokerUp = true;
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, () => ({ ok: brokerUp, checks: { kafka: brokerUp ? 'ok' : 'broker 127.0.0.1:19092 unreachable' } }));
    try {
      const m = await fetch(`${server.url}/metrics`);
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
      const text = await m.text();
      assert.match(text, /^wardwatch_decode_packets 1200$/m);
      assert.match(text, /^wardwatch_decode_malformed_ipv4_header 1$/m);
      assert.match(text, /^wardwatch_kafka_producer_buffered 2$/m);
      // Every sample line has a TYPE line before it.
      for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) assert.ok(text.includes(`# TYPE ${line.split(' ')[0]} gauge`));
      const ok = await fetch(`${server.url}/healthz`);
      assert.equal(ok.status, 200);
      brokerUp = false;
      const bad = await fetch(`${server.url}/healthz`);
      assert.equal(bad.status, 503);
      assert.deepEqual(await bad.json(), { ok: false, checks: { kafka: 'broker 127.0.0.1:19092 unreachable' } });
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
