/** Deterministic synthetic feature windows for transport tests (values carry no meaning beyond being exact). */
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION, type FeatureWindow } from '../../src/records/features.js';

/** xorshift32: small, seeded, good enough to vary test data. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function makeWindows(devices: number, perDevice: number, seed = 1, runId = 'test', t0 = 1_790_000_000): FeatureWindow[] {
  const r = rng(seed);
  const out: FeatureWindow[] = [];
  for (let k = 0; k < perDevice; k++) {
    for (let d = 0; d < devices; d++) {
      const values = Array.from({ length: FEATURE_COUNT }, () => Math.round(r() * 1e6) / 1e3 + r() * 1e-9);
      out.push({
        schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
        feature_schema_version: FEATURE_SCHEMA_VERSION,
        device_id: `mac:02:00:00:00:${(d >> 8).toString(16).padStart(2, '0')}:${(d & 255).toString(16).padStart(2, '0')}`,
        sensor_id: 'sensor-test',
        run_id: runId,
        window_start: t0 + k * 10,
        window_end: t0 + (k + 1) * 10,
        values,
        new_peers: k % 7 === 0 ? [`10.20.${d % 250}.${k % 250}`, '203.0.113.9'] : [],
        new_dst_ports: k % 5 === 0 ? [22, 445, 3389] : [],
      });
    }
  }
  return out;
}

/** Key for comparing windows exactly. */
export function windowKey(w: FeatureWindow): string {
  return `${w.device_id}@${w.window_start}`;
}
