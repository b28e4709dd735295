import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { Counters, METRICS, MetricsRegistry, describeMetric, startMetricsServer } from '../../src/metrics.js';
import { DetectorService } from '../../src/compose/detector.js';
import { SensorService } from '../../src/compose/sensor.js';

describe('metrics and health endpoints', () => {
  it('serves typed Prometheus text (counters _total, gauges, HELP, a sink label, process metrics) and a health verdict', async () => {
    const decode = new Counters('decode');
    decode.add('packets', 1200);
    decode.add('malformed_ipv4_header');
    const registry = new MetricsRegistry();
    registry.register('sensor', () => ({ ...decode.snapshot(), producer_buffered: 2, producer_produced: 10, health_influx_write_retries: 3 }));
    registry.register('detector', () => ({ influx_points_written: 7, webhook_delivery_retries: 4, webhook_notices_queued: 1 }));
    let brokerUp = true;
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, () => ({ ok: brokerUp, checks: { kafka: brokerUp ? 'ok' : 'broker 127.0.0.1:19092 unreachable' } }));
    try {
      const m = await fetch(`${server.url}/metrics`);
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
      const text = await m.text();
      // Counters are counters named _total, gauges gauges, each with its HELP.
      assert.match(text, /^# HELP wardwatch_sensor_packets_total Packets read from the capture/m);
      assert.match(text, /^# TYPE wardwatch_sensor_packets_total counter$/m);
      assert.match(text, /^wardwatch_sensor_packets_total 1200$/m);
      assert.match(text, /^# TYPE wardwatch_sensor_producer_buffered gauge$/m);
      assert.match(text, /^wardwatch_sensor_producer_buffered 2$/m);
      assert.match(text, /^wardwatch_sensor_producer_produced_total 10$/m);
      // A number nobody described is still exposed, as an undocumented gauge.
      assert.match(text, /^# HELP wardwatch_sensor_malformed_ipv4_header malformed_ipv4_header of the sensor \(undocumented\)\.$/m);
      // Sinks are a label.
      assert.match(text, /^# TYPE wardwatch_detector_sink_points_written_total counter$/m);
      assert.match(text, /^wardwatch_detector_sink_points_written_total\{sink="influx"\} 7$/m);
      assert.match(text, /^wardwatch_detector_sink_delivery_retries_total\{sink="webhook"\} 4$/m);
      assert.match(text, /^wardwatch_detector_sink_notices_queued\{sink="webhook"\} 1$/m);
      assert.match(text, /^wardwatch_sensor_sink_write_retries_total\{sink="influx"\} 3$/m);
      // prom-client's default process metrics.
      assert.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m);
      assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
      // Every sample has a TYPE and a HELP line for its family.
      for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
        const name = line.split(/[ {]/)[0]!;
        const family = [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].find(([, n]) => name === n || (name.startsWith(n!) && /^_(bucket|sum|count)$/.test(name.slice(n!.length))));
        assert.ok(family, `no TYPE for ${name}`);
        assert.ok(text.includes(`# HELP ${family[1]} `), `no HELP for ${family[1]}`);
      }
      // A counter follows its provider (read at each scrape), and a number that is gone disappears.
      decode.add('packets', 5);
      const again = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(again, /^wardwatch_sensor_packets_total 1205$/m);
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

  it("documents every number of the sensor's and the detector's /metrics (type and HELP)", () => {
    const config = parseConfig(
      { transport: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:9'], topics: { flows: 'flows' }, producer: { spool_dir: '' } } }, sinks: { influx: { url: 'http://127.0.0.1:9' }, syslog: { host: '127.0.0.1' } } },
      'test',
      {},
    );
    const sensor = new SensorService(config, { file: '/dev/null' });
    const detector = new DetectorService(config);
    const undocumented = [
      ...Object.keys(sensor.metrics()).map((k) => describeMetric('sensor', k)),
      ...Object.keys(detector.metrics()).map((k) => describeMetric('detector', k)),
    ].filter((d) => d.help.endsWith('(undocumented).'));
    assert.deepEqual(undocumented, []);
    // The detector's own counters appear as they are counted: their names are in the table too.
    for (const k of ['windows_scored', 'alerts_anomaly', 'models_loaded', 'webhook_notices_sent', 'pcap_received', 'capture_degraded']) assert.ok(METRICS[k], k);
  });
});
