/** Options of the feature stage, defaults in one place, units in the names, unknown keys rejected. */
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export const FeatureOptionsSchema = z
  .object({
    /** Tumbling window length in packet time. */
    window_ms: z.number().int().min(100).max(3_600_000).default(10_000),
    /** Sensor id stamped on every window (config `sensor.id`). */
    sensor_id: z.string().default(''),
    /** Replay/run id stamped on every window; empty for live capture. */
    run_id: z.string().default(''),
    /** Peers remembered per device for `new_peers` (beyond it, unseen peers stay "new"). */
    max_history_peers: z.number().int().min(1).max(1_000_000).default(4096),
    /** Destination ports remembered per device for `new_dst_ports`. */
    max_history_ports: z.number().int().min(1).max(65_536).default(1024),
    /** Bound of each per-window distinct set (peers, ports, DNS names) per device; counts saturate there. */
    max_window_distinct: z.number().int().min(1).max(1_000_000).default(4096),
    /**
     * `beacon_peers`: an external peer first contacted this long after the device's first packet is "taken up later"
     * and its connection rhythm is tracked (before it, everything is new to a freshly started sensor). 20 min: longer
     * than the slowest rhythm counted (15 min), so every peer a device reaches regularly is contacted before it.
     */
    beacon_settle_ms: z.number().int().min(0).default(1_200_000),
    /** How long after its first contact a taken-up peer's rhythm is tracked. */
    beacon_track_ms: z.number().int().positive().default(3_600_000),
    /** Bound of the tracked (device, peer) pairs; the oldest are dropped first (counted: features_beacon_tracks_dropped). */
    max_beacon_tracks: z.number().int().min(16).max(1_000_000).default(65_536),
  })
  .strict();

export type FeatureOptions = z.infer<typeof FeatureOptionsSchema>;

export function parseFeatureOptions(input: unknown): FeatureOptions {
  const r = FeatureOptionsSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ConfigError(['features', ...(issue?.path ?? []).map(String)].join('.'), issue?.message ?? 'invalid');
}
