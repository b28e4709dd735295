/**
 * The `ww_health` contract (src/records/health.ts): the fields `sensorHealth` computes for every writer — `wardwatch
 * run`/`replay` and `wardwatch sensor` — so a point means the same whichever process wrote it.
 */
import assert from 'node:assert/strict';
import { sensorHealth, sinkRetries } from '../../src/records/health.js';
import { HEALTH_FIELDS } from '../../src/dashboards/panels.js';

const T0 = 1_767_225_600;

describe('ww_health fields (sensorHealth, shared by run and sensor)', () => {
  const sample = { at: T0 + 20, packets: 30_000, packets_dropped: 1_000, decode_errors: 3, flows_active: 2048, max_flows: 262_144, windows_undelivered: 17, sink_retries: 2 };

  it('rates and the loss share over the interval since the previous point; counters as they are', () => {
    assert.deepEqual(sensorHealth(sample, { at: T0 + 10, packets: 10_000, packets_dropped: 0 }), {
      packets_per_s: 2000,
      packets_dropped: 1000,
      capture_loss: 1000 / 21_000,
      decode_errors: 3,
      flow_table_fill: 2048 / 262_144,
      kafka_lag: 17,
      sink_retries: 2,
    });
  });

  it('first point: packets_per_s 0 (as run writes it), loss since start; a file: nothing dropped, loss 0', () => {
    const first = sensorHealth(sample);
    assert.equal(first.packets_per_s, 0);
    assert.equal(first.capture_loss, 1000 / 31_000);
    assert.equal(sensorHealth({ ...sample, packets_dropped: 0 }).capture_loss, 0);
  });

  it('every field the dashboards plot is a field of the contract', () => {
    const fields = Object.keys(sensorHealth({ at: 0, packets: 0, packets_dropped: 0, decode_errors: 0, flows_active: 0, max_flows: 1, windows_undelivered: 0, sink_retries: 0 }));
    for (const f of Object.keys(HEALTH_FIELDS)) assert.ok(fields.includes(f), f);
  });

  it('sink retries: InfluxDB writes and webhook deliveries', () => {
    assert.equal(sinkRetries({ influx_write_retries: 3, webhook_delivery_retries: 4, influx_points_written: 100 }), 7);
    assert.equal(sinkRetries({}), 0);
  });
});
