import assert from 'node:assert/strict';
import { evaluateDetections, rocAuc, type ScoredWindow } from '../../../src/detect/evaluate.js';
import { ALERT_SCHEMA_VERSION, type Alert } from '../../../src/records/index.js';

const D = 'mac:02:00:00:00:00:01';

function alert(id: string, since: number, ts: number, device = D): Alert {
  return {
    schema_version: ALERT_SCHEMA_VERSION, alert_id: id, kind: 'anomaly', severity: 'high', device_id: device, device_name: '',
    device_class: 'infusion_pump', vendor: '', criticality: 'high', ts, since, score: 3, threshold: 1, windows_over: 2,
    windows_considered: 3, summary: '', top_features: [], new_peers: [], new_dst_ports: [], model: 'device:x@v1', sensor_id: 's', run_id: '',
  };
}

describe('detect: evaluation metrics', () => {
  it('ROC-AUC by ranks, ties count half', () => {
    assert.equal(rocAuc([3, 4], [1, 2]), 1);
    assert.equal(rocAuc([1, 2], [3, 4]), 0);
    assert.equal(rocAuc([1], [1]), 0.5);
    assert.equal(rocAuc([2, 0.5], [1, 3]), 0.25); // pairs: 2>1 yes, 2>3 no, .5>1 no, .5>3 no → 1 of 4
  });

  it('window- and attack-level metrics on a hand-made day', () => {
    // 20 windows of 10 s for one device; a scan labelled on windows 5..7 ([50, 80)), a tunnel on 12..13 ([120, 140)).
    const scores = [0.2, 0.3, 1.4, 0.1, 0.2, 2.5, 3.0, 4.0, 0.3, 0.2, 0.1, 0.2, 0.8, 1.5, 0.4, 0.3, 0.2, 1.2, 1.3, 0.2];
    const scored: ScoredWindow[] = scores.map((score, i) => ({ device_id: D, window_start: i * 10, window_end: i * 10 + 10, score }));
    const labels = [
      { kind: 'port_scan', device_id: D, start: 50, end: 80 },
      { kind: 'dns_tunnel', device_id: D, start: 120, end: 140 },
    ];
    // Alerts: the scan after its 2nd window (ts = 70); the tunnel never alerted (only 1 window over); a false alert
    // on windows 17–18 (since 170, ts 190).
    const alerts = [alert('a', 50, 70), alert('a', 50, 80), alert('b', 170, 190)];
    const r = evaluateDetections(scored, alerts, labels, 10);
    const scan = r.per_kind['port_scan'];
    const tunnel = r.per_kind['dns_tunnel'];
    assert.ok(scan && tunnel);
    assert.deepEqual(scan.delays_windows, [2]);
    assert.equal(scan.detected, 1);
    assert.deepEqual(tunnel.delays_windows, [null]);
    assert.equal(tunnel.detected, 0);
    // Benign windows: 15; over threshold among them: windows 2, 17, 18 → FP = 3.
    assert.equal(r.benign_windows, 15);
    assert.equal(scan.recall, 1); // 3 of 3
    assert.equal(scan.precision, 3 / 6);
    assert.equal(tunnel.recall, 0.5);
    assert.equal(tunnel.precision, 1 / 4);
    assert.equal(r.overall.recall, 4 / 5);
    assert.equal(r.overall.precision, 4 / 7);
    // Scan windows (2.5, 3, 4) outrank all 15 benign (max 1.4) → AUC 1.
    assert.equal(scan.roc_auc, 1);
    // Tunnel (0.8, 1.5) vs the 15 benign scores: 0.8 beats 12 (all but 1.4, 1.2, 1.3), 1.5 beats 15 → 27 / 30.
    assert.ok(Math.abs(tunnel.roc_auc - 0.9) < 1e-12);
    assert.equal(r.false_alerts, 1);
    // Every window scored: wall clock (200 s − 50 s labelled) and active windows (15 × 10 s) agree.
    assert.equal(r.benign_device_days, 150 / 86_400);
    assert.equal(r.benign_active_device_days, 150 / 86_400);
    assert.equal(r.false_alerts_per_device_day, 86_400 / 150);
    assert.deepEqual(r.false_alert_ids, ['b']);
  });

  it('affected ranges (another device an attack involves) are neither benign nor a false alert', () => {
    const V = 'mac:02:00:00:00:00:02';
    const scored: ScoredWindow[] = [0.2, 3, 4, 0.3].flatMap((score, i) => [
      { device_id: D, window_start: i * 10, window_end: i * 10 + 10, score: i === 1 || i === 2 ? 5 : 0.1 },
      { device_id: V, window_start: i * 10, window_end: i * 10 + 10, score },
    ]);
    const labels = [{ kind: 'port_scan', device_id: D, start: 10, end: 30 }];
    const alerts = [alert('scan', 10, 30), alert('victim', 10, 30, V)];
    const without = evaluateDetections(scored, alerts, labels, 10);
    assert.equal(without.benign_windows, 6); // D: 0, 3; V: all 4
    assert.deepEqual(without.false_alert_ids, ['victim']);
    const withAffected = evaluateDetections(scored, alerts, labels, 10, [{ kind: 'port_scan', device_id: V, start: 10, end: 30 }]);
    assert.equal(withAffected.benign_windows, 4); // V's windows 1 and 2 left out
    assert.equal(withAffected.false_alerts, 0);
    assert.equal(withAffected.per_kind['port_scan']?.detected, 1);
  });

  it("device-days: wall clock counts a silent device's quiet windows, active device-days only windows with traffic", () => {
    const Q = 'mac:02:00:00:00:00:03';
    // D sends in every window of [0, 100); Q (a once-a-minute poller) only in [0, 10) and [50, 60). D is attacked in [20, 40).
    const scored: ScoredWindow[] = [
      ...Array.from({ length: 10 }, (_, i) => ({ device_id: D, window_start: i * 10, window_end: i * 10 + 10, score: i === 2 || i === 3 ? 5 : 0.1 })),
      { device_id: Q, window_start: 0, window_end: 10, score: 2 },
      { device_id: Q, window_start: 50, window_end: 60, score: 2 },
    ];
    const r = evaluateDetections(scored, [alert('q', 0, 60, Q)], [{ kind: 'port_scan', device_id: D, start: 20, end: 40 }], 10);
    // Wall clock: D 100 s − 20 s attacked = 80 s; Q from its first window to the end, 100 s → 180 s.
    assert.equal(r.benign_device_days, 180 / 86_400);
    // Active: D 8 benign windows, Q 2 → 100 s.
    assert.equal(r.benign_active_device_days, 100 / 86_400);
    assert.equal(r.false_alerts, 1);
    assert.equal(r.false_alerts_per_device_day, 86_400 / 180);
    assert.equal(r.false_alerts_per_active_device_day, 86_400 / 100);
  });

  it('generic-label rules: slack around each attack, per-attack report, listed devices × span as device-days', () => {
    // One device, 30 windows; a 0.1-s scan at t = 100.05 alerted by a window ending 20 s after it (inside end + 20 s);
    // a later alert outside any slack is false; an alert on an unlisted device is reported, not counted.
    const scores = Array.from({ length: 30 }, (_, i) => (i === 10 ? 9 : i === 11 ? 2 : 0.3));
    const scored: ScoredWindow[] = scores.map((score, i) => ({ device_id: D, window_start: i * 10, window_end: i * 10 + 10, score }));
    const labels = [{ id: 'a1', kind: 'xmas_scan', device_id: D, start: 100.05, end: 100.15 }];
    const scan = { ...alert('s', 110, 120), kind: 'scan' as Alert['kind'] };
    const alerts = [scan, alert('f', 200, 220), alert('o', 100, 120, 'mac:02:00:00:00:00:09')];
    const exact = evaluateDetections(scored, alerts, labels, 10);
    assert.equal(exact.per_attack[0]!.detected, false, 'without slack an alert after the end does not count');
    const r = evaluateDetections(scored, alerts, labels, 10, [], { slack: { before_s: 10, after_s: 20 }, benign: { device_ids: [D, 'mac:02:00:00:00:00:02'], from: 0, end: 86_400 / 2 } });
    const a = r.per_attack[0]!;
    assert.equal(a.detected, true);
    assert.equal(a.alert_kind, 'scan');
    assert.equal(a.delay_windows, 2);
    assert.ok(Math.abs((a.delay_s ?? 0) - 19.95) < 1e-9);
    assert.equal(a.max_score, 9);
    assert.equal(a.positive_windows, 1);
    // Window 11 (score 2) lies in the slack: neither positive nor benign, so the attack's AUC is 1.
    assert.equal(a.roc_auc, 1);
    assert.equal(r.benign_windows, 26); // windows 9, 11 and 12 touch [start − 10, end + 20]
    assert.equal(r.false_alerts, 1);
    assert.deepEqual(r.false_alert_ids, ['f']);
    assert.equal(r.unlisted_alerts, 1);
    assert.equal(r.device_days, 'listed');
    assert.equal(r.benign_device_days, 1); // 2 listed devices × half a day
    assert.equal(r.false_alerts_per_device_day, 1);
  });
});
