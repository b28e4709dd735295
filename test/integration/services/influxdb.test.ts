/**
 * Proves InfluxDB is real: points written with the `influx` client to a fresh database are queried back with
 * InfluxQL and compared point by point.
 */
import assert from 'node:assert/strict';
import { InfluxDB, FieldType } from 'influx';
import { freshName, requireInflux } from '../../support/services.js';

describe('InfluxDB 1.x (real influxd)', function () {
  this.timeout(60_000);
  let url: string;
  before(async function () {
    this.timeout(180_000); // may apt-get install influxdb on a fresh machine
    url = await requireInflux();
  });

  it('writes 2,000 points to a fresh database and reads each back', async () => {
    const database = freshName('ww_test');
    const influx = new InfluxDB({
      host: new URL(url).hostname,
      port: Number(new URL(url).port),
      database,
      schema: [{ measurement: 'device_window', tags: ['device', 'class'], fields: { pkts_out: FieldType.INTEGER, score: FieldType.FLOAT, note: FieldType.STRING } }],
    });
    await influx.createDatabase(database);
    try {
      const t0 = Date.UTC(2026, 0, 1) * 1e6; // ns
      const points = Array.from({ length: 2000 }, (_, i) => ({
        measurement: 'device_window',
        tags: { device: `mac:00:11:22:33:44:${(i % 20).toString(16).padStart(2, '0')}`, class: i % 2 ? 'infusion_pump' : 'patient_monitor' },
        fields: { pkts_out: i * 3, score: i / 7, note: `w${i}` },
        timestamp: String(t0 + i * 10_000_000_000), // 10 s windows
      }));
      await influx.writePoints(points, { precision: 'n' });
      const rows = await influx.query<{ time: Date; device: string; class: string; pkts_out: number; score: number; note: string }>(
        'SELECT device, "class", pkts_out, score, note FROM device_window ORDER BY time ASC',
      );
      assert.equal(rows.length, points.length);
      rows.forEach((row, i) => {
        const p = points[i]!;
        assert.equal(row.time.getTime(), (t0 + i * 10_000_000_000) / 1e6);
        assert.equal(row.device, p.tags.device);
        assert.equal(row.class, p.tags.class);
        assert.equal(row.pkts_out, p.fields.pkts_out);
        assert.ok(Math.abs(row.score - p.fields.score) < 1e-12);
        assert.equal(row.note, p.fields.note);
      });
      const agg = await influx.query<{ device: string; n: number }>('SELECT count(pkts_out) AS n FROM device_window GROUP BY device');
      assert.equal(agg.length, 20);
      for (const g of agg) assert.equal(g.n, 100);
    } finally {
      await influx.dropDatabase(database);
    }
  });
});
