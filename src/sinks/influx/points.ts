/**
 * How wardwatch's records become InfluxDB points (InfluxDB 1.x line protocol via `influx`). The measurement and tag
 * names here are what the Grafana dashboards query; change them together.
 *
 * Tag cardinality is bounded by design: `device` ≤ the sensor's `max_devices`; `device_class` ≤ 11 values;
 * `vendor` ≤ distinct OUI vendors of tracked devices; `kind` 10 (anomaly, new_device and the 8 behavioural kinds); `severity` 5; `sensor` = number of sensors;
 * `run_id` = number of forensic replays kept within the retention period. Free text (summaries, explanations,
 * peers) is stored in fields, never in tags.
 *
 * Identical records give identical points (same measurement, tag set and timestamp), so a redelivered window or alert
 * overwrites its earlier copy instead of adding a duplicate.
 */
import type { IPoint } from 'influx';
import type { Alert, WindowScore } from '../../records/alert.js';
import type { FeatureWindow } from '../../records/features.js';
import { FEATURE_SCHEMA, featureIndex, identityChangesText } from '../../records/features.js';
import { appIdentityTexts, type InventoryEntry } from '../../records/device.js';

const IDENTITY_CHANGES = featureIndex('identity_changes');

/**
 * Retention policy of forensic replays (a capture replayed with a run id: `wardwatch replay --run-id`): created beside
 * the live one (not as the default), with its own duration (`sinks.influx.replay_retention_duration`, default INF),
 * so a capture of any age is kept (a 30-day policy refuses points older than 30 days, and a capture's points carry
 * its packet time). Grafana's forensic replay dashboard reads this policy; the live dashboards the default one.
 */
export const REPLAY_RETENTION_POLICY = 'wardwatch_replay';

export const MEASUREMENT = {
  alert: 'ww_alert',
  window: 'ww_device_window',
  inventory: 'ww_inventory',
  health: 'ww_health',
} as const;

/** What the sink knows of a device, to tag its points. */
export interface DeviceTags {
  device_class: string;
  vendor: string;
  name: string;
}

const UNKNOWN: DeviceTags = { device_class: 'unknown', vendor: '', name: '' };

const ms = (seconds: number): string => String(Math.round(seconds * 1000));

/** The tag value written for an empty one (InfluxDB drops empty tag values; the key set stays stable). */
export const NO_TAG = 'none';

function cleanTags(tags: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) out[k] = v === '' ? NO_TAG : v;
  return out;
}

/** A point of a forensic replay: tagged with a run id (`replay --run-id`, `sensor -r --run-id`). */
export function isReplayPoint(p: { tags?: Record<string, string> }): boolean {
  const run = p.tags?.['run_id'];
  return run !== undefined && run !== '' && run !== NO_TAG;
}

export function alertPoint(a: Alert): IPoint {
  return {
    measurement: MEASUREMENT.alert,
    tags: cleanTags({
      device: a.device_id,
      device_class: a.device_class,
      vendor: a.vendor,
      kind: a.kind,
      severity: a.severity,
      sensor: a.sensor_id,
      run_id: a.run_id,
    }),
    fields: {
      alert_id: a.alert_id,
      device_name: a.device_name,
      criticality: a.criticality,
      score: a.score,
      threshold: a.threshold,
      since_ms: Math.round(a.since * 1000),
      windows_over: a.windows_over,
      windows_considered: a.windows_considered,
      summary: a.summary,
      explanation: a.top_features.map((f) => f.text).join('; '),
      top_features: a.top_features.map((f) => f.feature).join(','),
      new_peers: a.new_peers.join(','),
      new_dst_ports: a.new_dst_ports.join(','),
      model: a.model,
      value: 1,
    },
    timestamp: ms(a.ts),
  };
}

export function windowPoint(w: FeatureWindow, score: WindowScore | undefined, device: DeviceTags = UNKNOWN): IPoint {
  const fields: Record<string, number | string | boolean> = {};
  FEATURE_SCHEMA.forEach((f, i) => {
    const v = w.values[i];
    if (v !== undefined && Number.isFinite(v)) fields[f.name] = v;
  });
  if (score) {
    if (Number.isFinite(score.score)) fields['score'] = score.score;
    if (Number.isFinite(score.threshold)) fields['threshold'] = score.threshold;
    fields['learning'] = score.learning;
  }
  if (w.new_peers.length) fields['new_peer_list'] = w.new_peers.join(',');
  if (w.new_dst_ports.length) fields['new_port_list'] = w.new_dst_ports.join(',');
  // Metadata, not a feature: the sensor-wide share of packets the capture dropped while the window was open.
  if (w.capture_loss !== undefined && Number.isFinite(w.capture_loss)) fields['capture_loss'] = w.capture_loss;
  // What the feature identity_changes counted, in words (identity fields only, never a patient field).
  if (w.identity_changes !== undefined && w.identity_changes.length > 0) fields['identity_change_list'] = identityChangesText(w.identity_changes, w.values[IDENTITY_CHANGES] ?? 0);
  return {
    measurement: MEASUREMENT.window,
    // The class the detector scored it with (the same in `run` and in a detector fed from Kafka), else the sink's.
    tags: cleanTags({ device: w.device_id, device_class: score?.device_class ?? device.device_class, sensor: w.sensor_id, run_id: w.run_id }),
    fields,
    timestamp: ms(w.window_start),
  };
}

export function inventoryPoint(d: InventoryEntry, at: number, sensor: string, runId: string): IPoint {
  return {
    measurement: MEASUREMENT.inventory,
    tags: cleanTags({ device: d.device_id, device_class: d.device_class, vendor: d.vendor, sensor, run_id: runId }),
    fields: {
      name: d.name,
      location: d.location,
      criticality: d.criticality,
      mac: d.mac,
      ips: d.ips.join(','),
      hostname: d.dhcp_hostname,
      protocols: d.protocols.join(','),
      listening_ports: d.listening_ports.join(','),
      peers: d.peers.length,
      first_seen_ms: Math.round(d.first_seen * 1000),
      last_seen_ms: Math.round(d.last_seen * 1000),
      learning: d.learning,
      class_source: d.class_source,
      class_evidence: d.class_evidence,
      confirmed_by: d.confirmed_by,
      ...identityFields(d),
    },
    timestamp: ms(at),
  };
}

/**
 * The inventory point's application identity fields (records/device.ts `AppIdentity`, flattened by
 * `appIdentityTexts`): always written (empty text when the device has none), so that the dashboards' `last()` of a
 * field reads the current value, not one from before it was emptied. Field names are what the device drill-down's
 * "Medical-device identity" panel queries.
 */
export const IDENTITY_FIELDS = {
  hl7_apps: 'hl7_sending_applications',
  hl7_facilities: 'hl7_sending_facilities',
  hl7_receiving_apps: 'hl7_receiving_applications',
  hl7_receiving_facilities: 'hl7_receiving_facilities',
  hl7_message_types: 'hl7_message_types',
  hl7_versions: 'hl7_versions',
  equipment_ids: 'hl7_equipment_ids',
  dicom_ae_titles: 'dicom_ae_titles',
  dicom_peer_ae_titles: 'dicom_peer_ae_titles',
  dicom_roles: 'dicom_roles',
  dicom_impl_class_uids: 'dicom_implementation_class_uids',
  dicom_impl_versions: 'dicom_implementation_versions',
  dicom_sop_classes: 'dicom_sop_classes',
  mqtt_client_ids: 'mqtt_client_ids',
  dhcp_fingerprints: 'dhcp_parameter_lists',
  identity_dropped: 'dropped',
} as const;

function identityFields(d: InventoryEntry): Record<keyof typeof IDENTITY_FIELDS, string> {
  const t = appIdentityTexts(d.app_identity);
  const out = {} as Record<keyof typeof IDENTITY_FIELDS, string>;
  for (const [field, list] of Object.entries(IDENTITY_FIELDS) as [keyof typeof IDENTITY_FIELDS, keyof typeof t][]) out[field] = t[list];
  return out;
}

/** Sensor/detector/sink health: counters and gauges of one component at one time. */
export function healthPoint(component: string, sensor: string, runId: string, at: number, values: Record<string, number>): IPoint {
  const fields: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (Number.isFinite(v)) fields[k] = v;
  return { measurement: MEASUREMENT.health, tags: cleanTags({ component, sensor, run_id: runId }), fields, timestamp: ms(at) };
}
