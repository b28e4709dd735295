/**
 * The InfluxDB sink against real influxd: alerts and window metrics read back with InfluxQL; redelivery overwrites
 * instead of duplicating; a write marked `now` is sent at once (the detector awaits it before committing); influxd stopped and restarted mid-run loses no alert; the bounded buffer reports drops;
 * points InfluxDB refuses are counted, not retried forever.
 */
import assert from 'node:assert/strict';
import { InfluxWriter } from '../../../src/sinks/influx/writer.js';
import { alertPoint, windowPoint, MEASUREMENT } from '../../../src/sinks/influx/points.js';
import { DEFAULT_INFLUX, influxUrl, pauseInflux, resumeInflux, startInflux, stopInflux } from '../../../scripts/services/influxdb.js';
import { freshName, requireInflux } from '../../support/services.js';
import { makeAlert } from '../../support/alerts.js';
import { makeWindows } from '../../support/windows.js';

const FAST_RETRY = { retries: Infinity, initial_delay_ms: 50, max_delay_ms: 500, multiplier: 2, jitter: 0.1 };

/** A writer on a fresh database of the shared influxd, started; closed and its database dropped after `body`. */
async function withWriter(url: string, prefix: string, flush_interval_ms: number, body: (w: InfluxWriter, database: string) => Promise<void>): Promise<void> {
  const database = freshName(prefix);
  const w = new InfluxWriter({ url, database, retry: FAST_RETRY, flush_interval_ms });
  try {
    await w.start();
    await body(w, database);
  } finally {
    await w.close();
    await w.client.dropDatabase(database);
  }
}

describe('InfluxDB sink (real influxd)', function () {
  this.timeout(120_000);
  let url: string;
  before(async function () {
    this.timeout(180_000);
    url = await requireInflux();
  });

  it('writes alerts and window metrics that InfluxQL reads back; redelivery overwrites', async () => {
    await withWriter(url, 'ww_sink', 50, async (w, database) => {
      const alerts = Array.from({ length: 300 }, (_, i) => makeAlert(i, ''));
      const windows = makeWindows(5, 40, 3, '', Math.floor(Date.now() / 1000) - 86_400);
      await Promise.all([w.write(alerts.map(alertPoint)), w.write(windows.map((x) => windowPoint(x, { device_id: x.device_id, window_start: x.window_start, window_end: x.window_end, score: 0.5, threshold: 0.25, model: 'm', learning: false, device_class: 'unknown' })))]);
      // Redeliver a third of both: must not add points.
      await w.write(alerts.slice(0, 100).map(alertPoint));
      await w.write(windows.slice(0, 70).map((x) => windowPoint(x, undefined)));
      await w.flush();

      const count = await w.client.query<{ count: number }>(`SELECT count(score) AS count FROM ${MEASUREMENT.alert}`);
      assert.equal(count[0]?.count, 300);
      const rows = await w.client.query<{ time: Date; device: string; severity: string; score: number; alert_id: string; explanation: string }>(
        `SELECT device, severity, score, alert_id, explanation FROM ${MEASUREMENT.alert} ORDER BY time ASC`,
      );
      assert.equal(rows.length, 300);
      rows.forEach((r, i) => {
        const a = alerts[i]!;
        assert.equal(r.time.getTime(), a.ts * 1000);
        assert.equal(r.device, a.device_id);
        assert.equal(r.severity, a.severity);
        assert.equal(r.alert_id, a.alert_id);
        assert.ok(Math.abs(r.score - a.score) < 1e-9);
        assert.equal(r.explanation, '12 new destination ports; expected ≤ 1; 40 TCP SYNs sent; expected about 2');
      });
      const wc = await w.client.query<{ count: number }>(`SELECT count(pkts_out) AS count FROM ${MEASUREMENT.window}`);
      assert.equal(wc[0]?.count, windows.length);
      const byDevice = await w.client.query<{ device: string; n: number }>(`SELECT count(score) AS n FROM ${MEASUREMENT.window} GROUP BY device`);
      assert.equal(byDevice.length, 5);
      const rp = await w.client.showRetentionPolicies(database);
      assert.ok(rp.some((p) => p.name === 'wardwatch_30d' && p.default));
      assert.equal(w.stats().points_dropped, 0);
    });
  });

  it('a write with `now` goes out at once, and writes made while it is in flight go out together after it', async () => {
    // An interval far longer than the test: only `now` can make these writes resolve in time.
    await withWriter(url, 'ww_sink_now', 60_000, async (w) => {
      const t0 = Date.now();
      await w.write([alertPoint(makeAlert(0, ''))], true);
      assert.ok(Date.now() - t0 < 5000, `write(now) took ${Date.now() - t0} ms`);
      assert.equal(w.stats().batches_written, 1);
      const batch = Array.from({ length: 20 }, (_, i) => w.write([alertPoint(makeAlert(i + 1, ''))], true));
      await Promise.all(batch);
      // Sent at once, but not one request each: those queued behind a request in flight share the next one.
      const requests = w.stats().batches_written - 1;
      assert.ok(requests >= 1 && requests <= 2, `20 writes took ${requests} requests`);
      const count = await w.client.query<{ count: number }>(`SELECT count(score) AS count FROM ${MEASUREMENT.alert}`);
      assert.equal(count[0]?.count, 21);
      // Without `now`, a partial batch waits for the interval.
      let settled = false;
      const later = w.write([alertPoint(makeAlert(99, ''))]).then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(settled, false);
      await w.flush();
      await later;
    });
  });

  it('loses no alert when influxd stops and restarts mid-run', async function () {
    this.timeout(120_000);
    const own = { ...DEFAULT_INFLUX, instance: 'influx-outage-test', port: DEFAULT_INFLUX.port + 100, rpc_port: DEFAULT_INFLUX.rpc_port + 100 };
    await startInflux(own);
    const ownUrl = influxUrl(own);
    const w = new InfluxWriter({ url: ownUrl, database: 'ww_outage', retry: FAST_RETRY, flush_interval_ms: 20, batch_points: 50, timeout_ms: 2000 });
    try {
      await w.start();
      const alerts = Array.from({ length: 600 }, (_, i) => makeAlert(i, ''));
      await w.write(alerts.slice(0, 200).map(alertPoint));
      await pauseInflux(own.instance);
      const during = w.write(alerts.slice(200, 400).map(alertPoint)); // cannot complete while influxd is down
      let settled = false;
      void during.then(() => (settled = true));
      // The `influx` client's pool never takes the host out of service (its default backoff did, up to 10 s: the
      // first write after an outage came seconds after influxd was back); the writer's retrier alone decides.
      const pool = w.client['_pool'] as { getHostsDisabled(): unknown[] };
      let disabledSeen = 0;
      for (const until = Date.now() + 1500; Date.now() < until; ) {
        disabledSeen = Math.max(disabledSeen, pool.getHostsDisabled().length);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(disabledSeen, 0, "the client's pool disabled the host during the outage");
      assert.equal(settled, false, 'a write during the outage must wait, not resolve');
      assert.ok(w.stats().write_retries > 0);
      assert.equal(w.stats().unreachable, 1, 'the outage shows in the stats (/metrics, ww_health: influx_unreachable)');
      await resumeInflux(own);
      const back = Date.now();
      await during;
      // Written at the writer's next attempt (FAST_RETRY: ≤ 500 ms), not when the `influx` client's pool would take
      // the host back: its own backoff (300 ms doubling with each failure, up to 10 s) is off (src/sinks/influx/writer.ts).
      const firstWriteMs = Date.now() - back;
      assert.ok(firstWriteMs < 1500, `the pending write went out ${firstWriteMs} ms after influxd was back`);
      assert.equal(w.stats().unreachable, 0);
      assert.equal(w.stats().outages, 1);
      await w.write(alerts.slice(400).map(alertPoint));
      await w.flush();
      const count = await w.client.query<{ count: number }>(`SELECT count(score) AS count FROM ${MEASUREMENT.alert}`);
      assert.equal(count[0]?.count, 600);
      const ids = await w.client.query<{ alert_id: string }>(`SELECT alert_id FROM ${MEASUREMENT.alert}`);
      assert.deepEqual(new Set(ids.map((r) => r.alert_id)), new Set(alerts.map((a) => a.alert_id)));
      assert.equal(w.stats().points_dropped, 0);
    } finally {
      // Not close(): after a failed check influxd may still be stopped, and close() would wait for it to write.
      w.abort();
      await stopInflux(own.instance);
    }
  });

  it('bounds its buffer during an outage and reports what it dropped', async () => {
    const w = new InfluxWriter({ url: 'http://127.0.0.1:9', database: 'nowhere', retry: FAST_RETRY, max_buffer_points: 100, flush_interval_ms: 10, timeout_ms: 500 });
    const writes = [0, 1, 2, 3, 4].map((k) => w.write(Array.from({ length: 40 }, (_, i) => alertPoint(makeAlert(k * 40 + i, '')))));
    // Oldest writes are dropped (and resolved) to keep ≤ 100 points; the newest stay pending.
    await Promise.all(writes.slice(0, 2));
    const s = w.stats();
    assert.ok(s.points_dropped >= 80, `dropped ${s.points_dropped}`);
    assert.ok(s.points_buffered <= 100 + 40, `buffered ${s.points_buffered}`);
    w.abort();
    await Promise.all(writes);
    assert.equal(w.stats().points_dropped + w.stats().points_rejected, 200);
  });

  it('counts points InfluxDB refuses (type conflict) instead of retrying them forever', async () => {
    await withWriter(url, 'ww_reject', 10, async (w) => {
      const now = Date.now();
      await w.write([{ measurement: 'm', fields: { v: 1 }, timestamp: String(now - 2000) }]);
      await w.write([{ measurement: 'm', fields: { v: 'text' }, timestamp: String(now - 1000) }]);
      assert.equal(w.stats().points_rejected, 1);
      assert.equal(w.stats().points_written, 1);
    });
  });
});
