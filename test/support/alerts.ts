/** Deterministic alerts for sink tests. */
import { ALERT_SCHEMA_VERSION, type Alert } from '../../src/records/alert.js';

/** Alert `i`, at `base + 10 i` seconds (default: a day ago, inside any retention policy). */
export function makeAlert(i: number, runId = 'test', base = Math.floor(Date.now() / 86_400_000) * 86_400 - 86_400): Alert {
  const device = `mac:02:00:00:00:00:${(i % 16).toString(16).padStart(2, '0')}`;
  const ts = base + i * 10;
  return {
    schema_version: ALERT_SCHEMA_VERSION,
    alert_id: `a${i.toString(16).padStart(8, '0')}`,
    kind: 'anomaly',
    severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4]!,
    device_id: device,
    device_name: `Pump ${i % 16}`,
    device_class: 'infusion_pump',
    vendor: 'Baxter Healthcare',
    criticality: 'life_critical',
    ts,
    since: ts - 20,
    score: 1 + (i % 50) / 10,
    threshold: 0.25,
    windows_over: 3,
    windows_considered: 4,
    summary: 'contacted 12 new destination ports',
    top_features: [
      { feature: 'new_dst_ports', observed: 12, expected: 0.4, share: 0.7, text: '12 new destination ports; expected ≤ 1' },
      { feature: 'tcp_syn', observed: 40, expected: 2, share: 0.2, text: '40 TCP SYNs sent; expected about 2' },
    ],
    new_peers: ['10.20.1.5'],
    new_dst_ports: [22, 23, 445],
    model: `device:${device}@v1`,
    sensor_id: 'sensor-test',
    run_id: runId,
  };
}
