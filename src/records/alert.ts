/**
 * Contract: detect → sinks (InfluxDB, webhooks, files, report). What the SOC analyst, the on-call engineer and the
 * forensic analyst read: which device, what changed, how sure, since when.
 */
import type { Criticality, DeviceClass } from './device.js';

export const ALERT_SCHEMA_VERSION = 1;

export type AlertKind =
  /** The device's behaviour deviates from its learned baseline. */
  | 'anomaly'
  /** A device never seen before appeared (informational; the device starts in learning mode). */
  | 'new_device';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface FeatureContribution {
  feature: string;
  /** Value observed in the window, in the feature's unit. */
  observed: number;
  /** Value the model reconstructed (what it expected), in the feature's unit. */
  expected: number;
  /** Share of the reconstruction error this feature accounts for, 0..1. */
  share: number;
  /** The same in words, e.g. "12 new destination ports; expected ≤ 1". */
  text: string;
}

export interface Alert {
  schema_version: typeof ALERT_SCHEMA_VERSION;
  /**
   * Stable id: a hash of device, kind and the first window of the incident. A redelivered window yields the same id,
   * so sinks overwrite rather than duplicate.
   */
  alert_id: string;
  kind: AlertKind;
  severity: Severity;
  device_id: string;
  device_name: string;
  device_class: DeviceClass;
  vendor: string;
  criticality: Criticality;
  /** Packet time of the end of the window that raised the alert (seconds since the epoch). */
  ts: number;
  /** Start of the first anomalous window of this incident: "since when". */
  since: number;
  /** Anomaly score = reconstruction error ÷ threshold; > 1 is anomalous. 0 for `new_device`. */
  score: number;
  /** Reconstruction error threshold of the model that scored it. */
  threshold: number;
  /** Windows over the threshold in the last N (the K-of-N rule that fired), e.g. 3 of 4. */
  windows_over: number;
  windows_considered: number;
  /** What changed, in one sentence without the device name (pages and tables prefix it), e.g. "contacted 12 new destination ports". */
  summary: string;
  /** Top contributing features, largest share first (≤ 5). */
  top_features: FeatureContribution[];
  /** New peers and destination ports seen in the anomalous windows (≤ 16 each). */
  new_peers: string[];
  new_dst_ports: number[];
  /** Model that scored the window: `<scope>:<id>@v<version>`, e.g. `device:mac:..@v3` or `class:infusion_pump@v1`. */
  model: string;
  sensor_id: string;
  run_id: string;
}

/**
 * The detector's verdict on one feature window (every window, anomalous or not): what the dashboards plot as
 * "anomaly score against its threshold".
 */
export interface WindowScore {
  device_id: string;
  window_start: number;
  window_end: number;
  /** Reconstruction error ÷ threshold; NaN while the device is learning. */
  score: number;
  threshold: number;
  /** Model that scored it (see `Alert.model`); empty while learning. */
  model: string;
  learning: boolean;
}
