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
  | 'new_device'
  /** Baseline-free behavioural detectors (src/detect/behaviour/), on every device from its first window: */
  /** Many destination ports probed in one window (TCP SYN/connect/FIN/NULL/XMAS or UDP scan). */
  | 'port_scan'
  /** Many new internal hosts, or many unanswered external ones, contacted in one window (ICMP/TCP/ARP sweep, worm). */
  | 'host_sweep'
  /** A SYN flood from the device, or a flood of connections against it. */
  | 'flood'
  /** ARP replies claiming other devices' IPv4 addresses (cache poisoning). */
  | 'arp_spoof'
  /** Many remote-access (SSH, telnet, RDP, SMB, …) connections to or from the device in a short time. */
  | 'brute_force'
  /** Many distinct long high-entropy DNS names queried. */
  | 'dns_tunnel'
  /** A remote-access connection to an internal host the device never talked to. */
  | 'lateral_movement'
  /** A peer the device took up later, reached at a regular rhythm (command-and-control beaconing). */
  | 'beaconing';

/** The behavioural kinds (every kind but `anomaly` and `new_device`). */
export const BEHAVIOUR_ALERT_KINDS = ['port_scan', 'host_sweep', 'flood', 'arp_spoof', 'brute_force', 'dns_tunnel', 'lateral_movement', 'beaconing'] as const satisfies readonly AlertKind[];
export type BehaviourAlertKind = (typeof BEHAVIOUR_ALERT_KINDS)[number];

/** A detection (the model's `anomaly` or a behavioural kind), as opposed to the informational `new_device`. */
export function isDetection(a: Pick<Alert, 'kind'>): boolean {
  return a.kind !== 'new_device';
}

/**
 * The words console, report and README use for what the detector raised:
 *  - an **incident** is one `alert_id`: one device, one kind, from its first window ("since") on;
 *  - an **alert record** is one line of alerts.jsonl (one `Alert`): an incident's first record and each of its
 *    **updates** (the same `alert_id` with a later window's `ts`, e.g. a raised severity).
 * Incidents are counted by kind: anomaly (the model), behavioural (the rules), and new-device notices.
 */
export interface IncidentCounts {
  incidents: number;
  anomaly: number;
  behavioural: number;
  new_device: number;
  /** Alert records (lines written): incidents + updates. */
  records: number;
  /** Records that update an incident raised earlier. */
  updates: number;
}

/** The incidents among alert records (a redelivered record, same id and time, counts once). */
export function incidentCounts(alerts: readonly Pick<Alert, 'alert_id' | 'kind' | 'ts'>[]): IncidentCounts {
  const kinds = new Map<string, AlertKind>();
  const records = new Set<string>();
  for (const a of alerts) {
    records.add(`${a.alert_id}@${a.ts}`);
    if (!kinds.has(a.alert_id)) kinds.set(a.alert_id, a.kind);
  }
  const c = { incidents: kinds.size, anomaly: 0, behavioural: 0, new_device: 0, records: records.size, updates: records.size - kinds.size };
  for (const k of kinds.values()) {
    if (k === 'anomaly') c.anomaly++;
    else if (k === 'new_device') c.new_device++;
    else c.behavioural++;
  }
  return c;
}

/** "58 incidents (56 anomaly, 0 behavioural, 2 new-device notices) in 69 alert records (11 updates)". */
export function incidentSummary(c: IncidentCounts): string {
  const n = (x: number, one: string, many = `${one}s`): string => `${x.toLocaleString('en-US')} ${x === 1 ? one : many}`;
  return `${n(c.incidents, 'incident')} (${c.anomaly.toLocaleString('en-US')} anomaly, ${c.behavioural.toLocaleString('en-US')} behavioural, ${n(c.new_device, 'new-device notice')}) in ${n(c.records, 'alert record')} (${n(c.updates, 'update')})`;
}

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
  /**
   * Anomaly score = reconstruction error ÷ threshold; > 1 is anomalous. For a behavioural kind: the rule's measure ÷
   * its threshold (e.g. 1,000 ports ÷ 25 = 40). 0 for `new_device`.
   */
  score: number;
  /** Reconstruction error threshold of the model that scored it; for a behavioural kind, the rule's threshold. */
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
  /** Model that scored the window: `<scope>:<id>@v<version>`, e.g. `device:mac:..@v3` or `class:infusion_pump@v1`; `rule:<kind>` for a behavioural kind. */
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
  /**
   * The device's class as the detector knew it when it scored the window (the sensor's inventory: `run` in process,
   * a detector from the inventory topic); `unknown` when the device has no inventory entry yet. It tags the
   * `ww_device_window` point, so that the dashboards can group windows by class.
   */
  device_class: string;
}
