/**
 * The panels of the wardwatch dashboards, each a function of a `Scope` (which data it looks at: live capture or one
 * forensic replay run, which sensors, which device). The SOC overview, the device drill-down and the forensic replay
 * view are arrangements of these panels, so the replay view shows exactly the panels the SOC analyst knows,
 * restricted to one run.
 *
 * Every query: reads one of the sink's measurements (`MEASUREMENT`), is restricted by Grafana's `$timeFilter` and the
 * scope's conditions, and names its columns with `AS` so tables and legends read well and the proof test can check
 * the columns each panel needs (test/support/dashboard-proof.ts).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as PiechartPanel, PieChartLegendOptionsBuilder, PieChartLegendValues } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as BargaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { ReduceDataOptionsBuilder, VizLegendOptionsBuilder, GraphThresholdsStyleConfigBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { SensorHealth } from '../records/health.js';
import { INFLUX_DATASOURCE, MEASUREMENT, from, fromReplay, id, influxql, str, tagMatchesVariable } from './influxql.js';
import type { IDENTITY_FIELDS } from '../sinks/influx/points.js';

/** Tag value the sink writes for an empty `run_id` (live capture): `cleanTags` in src/sinks/influx/points.ts. */
export const LIVE_RUN_ID = 'none';

/** Which data a dashboard's panels look at. */
export interface Scope {
  /** Conditions (InfluxQL, ANDed) every query adds after `$timeFilter`: the run and the sensors. */
  conditions: string[];
  /** Conditions for `SHOW TAG VALUES ... WHERE` (no time filter there). */
  tagConditions: string[];
  /** Dashboard uid of the device drill-down the device column links to, with the variables to carry over. */
  deviceLink: { uid: string; carry: string[] };
  /** FROM clause of a measurement: live data in the database's default retention policy, replays in their own. */
  from: (m: Measurement) => string;
}

type Measurement = (typeof MEASUREMENT)[keyof typeof MEASUREMENT];

export const LIVE_SCOPE: Scope = {
  conditions: [`${id('run_id')} = ${str(LIVE_RUN_ID)}`, tagMatchesVariable('sensor', 'sensor')],
  tagConditions: [`${id('run_id')} = ${str(LIVE_RUN_ID)}`, tagMatchesVariable('sensor', 'sensor')],
  deviceLink: { uid: 'wardwatch-device', carry: ['sensor'] },
  from,
};

export const REPLAY_SCOPE: Scope = {
  conditions: [tagMatchesVariable('run_id', 'run_id')],
  tagConditions: [tagMatchesVariable('run_id', 'run_id')],
  deviceLink: { uid: 'wardwatch-replay', carry: ['run_id'] },
  from: fromReplay,
};

const DEVICE = tagMatchesVariable('device', 'device');

/** `WHERE $timeFilter AND <scope> AND <extra>`. */
export function where(scope: Scope, ...extra: string[]): string {
  return `WHERE $timeFilter AND ${[...scope.conditions, ...extra].join(' AND ')}`;
}


const lastValue = (): ReduceDataOptionsBuilder => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

function thresholds(steps: { value: number | null; color: string }[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

function deviceLinkOverride(scope: Scope): dashboard.DynamicConfigValue[] {
  const carry = scope.deviceLink.carry.map((v) => `&\${${v}:queryparam}`).join('');
  return [
    {
      id: 'links',
      // Grafana reads title/url/targetBlank of a field data link; the SDK types field links as DashboardLink.
      value: [
        new dashboard.DashboardLinkBuilder('Open device drill-down')
          .type(dashboard.DashboardLinkType.Link)
          .url(`/d/${scope.deviceLink.uid}?var-device=\${__value.raw}${carry}&\${__url_time_range}`)
          .targetBlank(false)
          .build(),
      ],
    },
  ];
}

function timeseries(title: string, description: string): TimeseriesPanel {
  return new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(INFLUX_DATASOURCE)
    .spanNulls(true)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]));
}

function table(title: string, description: string): TablePanel {
  return new TablePanel().title(title).description(description).datasource(INFLUX_DATASOURCE).filterable(true);
}

// ---------------------------------------------------------------------------------------------------------------
// Alerts

export function activeAlertsBySeverity(scope: Scope): cog.Builder<dashboard.Panel> {
  return new StatPanel()
    .title('Active alerts by severity')
    .description('Distinct alerts (incidents) raised in the period, per severity. Answers: how much is on fire right now?')
    .datasource(INFLUX_DATASOURCE)
    .withTarget(
      influxql(`SELECT count(distinct(${id('alert_id')})) AS ${id('alerts')} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope)} GROUP BY ${id('severity')}`).alias('$tag_severity'),
    )
    .reduceOptions(lastValue())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'orange' }]))
    .overrideByName('critical', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'dark-red' } }])
    .overrideByName('high', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])
    .height(6)
    .span(8);
}

export function alertsOverTimeByKind(scope: Scope): cog.Builder<dashboard.Panel> {
  return timeseries('Alerts over time by kind', 'Alerts raised per interval, split by kind (anomaly, new_device). Answers: when did things start?')
    .withTarget(
      influxql(`SELECT count(${id('value')}) AS ${id('alerts')} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope)} GROUP BY time($__interval), ${id('kind')} fill(0)`).alias('$tag_kind'),
    )
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .unit('short')
    .decimals(0)
    .height(6)
    .span(16);
}

// ---------------------------------------------------------------------------------------------------------------
// Devices

/** Columns of the most-anomalous-devices table, after the join on `device`. */
export const ANOMALOUS_DEVICE_COLUMNS = ['device', 'name', 'device_class', 'vendor', 'location', 'last_score', 'max_score', 'last_alert'] as const;

export function mostAnomalousDevices(scope: Scope): cog.Builder<dashboard.Panel> {
  return table(
    'Most anomalous devices',
    'Devices ranked by their highest anomaly score in the period (score = reconstruction error ÷ threshold, > 1 is anomalous), with inventory facts and the last alert. Answers: which device do I look at first?',
  )
    .withTarget(
      influxql(`SELECT last(${id('score')}) AS ${id('last_score')}, max(${id('score')}) AS ${id('max_score')} FROM ${scope.from(MEASUREMENT.window)} ${where(scope)} GROUP BY ${id('device')}`, 'A').format('table'),
    )
    .withTarget(
      influxql(
        `SELECT last(${id('name')}) AS ${id('name')}, last(${id('location')}) AS ${id('location')} FROM ${scope.from(MEASUREMENT.inventory)} ${where(scope)} GROUP BY ${id('device')}, ${id('device_class')}, ${id('vendor')}`,
        'B',
      ).format('table'),
    )
    .withTarget(
      influxql(`SELECT last(${id('summary')}) AS ${id('last_alert')} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope, `${id('kind')} != ${str('new_device')}`)} GROUP BY ${id('device')}`, 'C').format('table'),
    )
    .withTransformation({ id: 'joinByField', options: { byField: 'device', mode: 'outer' } })
    .withTransformation({ id: 'filterFieldsByName', options: { include: { names: [...ANOMALOUS_DEVICE_COLUMNS] } } })
    .withTransformation({
      id: 'organize',
      options: {
        indexByName: Object.fromEntries(ANOMALOUS_DEVICE_COLUMNS.map((c, i) => [c, i])),
        renameByName: { device_class: 'class', last_score: 'last score', max_score: 'max score', last_alert: 'last alert' },
      },
    })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'max score', desc: true }] } })
    .withTransformation({ id: 'limit', options: { limitField: 20 } })
    .overrideByName('device', deviceLinkOverride(scope))
    .overrideByRegexp('.*score', [
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
      { id: 'thresholds', value: { mode: 'absolute', steps: [{ value: null, color: 'green' }, { value: 1, color: 'red' }] } },
    ])
    .height(10)
    .span(24);
}

function devicesByTag(scope: Scope, tag: 'device_class' | 'vendor'): string {
  // Inner: one row per device (its latest inventory point) keeping the tag; outer: count per tag value.
  return `SELECT count(${id('last_seen')}) AS ${id('devices')} FROM (SELECT last(${id('last_seen_ms')}) AS ${id('last_seen')} FROM ${scope.from(MEASUREMENT.inventory)} ${where(scope)} GROUP BY ${id('device')}, ${id(tag)}) GROUP BY ${id(tag)}`;
}

export function devicesByClass(scope: Scope): cog.Builder<dashboard.Panel> {
  return new PiechartPanel()
    .title('Devices by class')
    .description('Devices seen in the period per device class (from the inventory file, else guessed). Answers: what is on this network?')
    .datasource(INFLUX_DATASOURCE)
    .withTarget(influxql(devicesByTag(scope, 'device_class')).alias('$tag_device_class'))
    .reduceOptions(lastValue())
    .legend(
      new PieChartLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs([])
        .values([PieChartLegendValues.Value]),
    )
    .height(8)
    .span(8);
}

export function devicesByVendor(scope: Scope): cog.Builder<dashboard.Panel> {
  return new BargaugePanel()
    .title('Devices by vendor')
    .description('Devices seen in the period per vendor (IEEE OUI of the MAC; "none" when unknown or randomised). Answers: whose kit is this?')
    .datasource(INFLUX_DATASOURCE)
    .withTarget(influxql(devicesByTag(scope, 'vendor')).alias('$tag_vendor'))
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .decimals(0)
    .height(8)
    .span(8);
}

/** Devices whose first packet falls in the period (inventory `first_seen_ms` ≥ the start of the range). */
function newDevicesInner(scope: Scope): string {
  return `SELECT min(${id('first_seen_ms')}) AS ${id('first_seen')}, last(${id('name')}) AS ${id('name')}, last(${id('location')}) AS ${id('location')} FROM ${scope.from(MEASUREMENT.inventory)} ${where(scope)} GROUP BY ${id('device')}, ${id('device_class')}, ${id('vendor')}`;
}

export function newDevicesCount(scope: Scope): cog.Builder<dashboard.Panel> {
  return new StatPanel()
    .title('New devices in the period')
    .description('Devices first seen (first packet) inside the selected time range. Answers: did anything join the network?')
    .datasource(INFLUX_DATASOURCE)
    .withTarget(influxql(`SELECT count(${id('first_seen')}) AS ${id('new_devices')} FROM (${newDevicesInner(scope)}) WHERE ${id('first_seen')} >= \${__from}`))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'yellow' }]))
    .noValue('0')
    .height(8)
    .span(8);
}

export const NEW_DEVICE_COLUMNS = ['device', 'device_class', 'vendor', 'name', 'location', 'first_seen'] as const;

export function newDevicesTable(scope: Scope): cog.Builder<dashboard.Panel> {
  return table('New devices', 'Each device first seen in the period: class, vendor, name, location and when it appeared.')
    .withTarget(
      influxql(
        `SELECT ${id('first_seen')}, ${id('name')}, ${id('location')} FROM (${newDevicesInner(scope)}) WHERE ${id('first_seen')} >= \${__from} GROUP BY ${id('device')}, ${id('device_class')}, ${id('vendor')}`,
      ).format('table'),
    )
    .withTransformation({ id: 'filterFieldsByName', options: { include: { names: [...NEW_DEVICE_COLUMNS] } } })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'first_seen', desc: true }] } })
    .overrideByName('first_seen', [{ id: 'unit', value: 'dateTimeAsIso' }])
    .overrideByName('device', deviceLinkOverride(scope))
    .height(8)
    .span(24);
}

// ---------------------------------------------------------------------------------------------------------------
// Sensor health. Fields of `ww_health` (the contract: src/records/health.ts; written by healthPoint in
// src/sinks/influx/points.ts) the panels read; counters are cumulative since the component started (the panels take
// per-interval differences), gauges are instantaneous.

export const HEALTH_FIELDS = {
  /** Gauge: packets per second captured (capture component). */
  packets_per_s: 'gauge',
  /** Counter: packets the capture dropped (live: libpcap's ps_drop + ps_ifdrop; 0 for a file). */
  packets_dropped: 'counter',
  /** Counter: frames the decoder could not decode (malformed, truncated). */
  decode_errors: 'counter',
  /** Gauge: flow-table occupancy, flows ÷ max_flows (0..1). */
  flow_table_fill: 'gauge',
  /** Gauge: feature windows waiting to reach the detectors (a sensor's undelivered windows; 0 on the embedded bus). */
  kafka_lag: 'gauge',
  /** Counter: sink write retries (InfluxDB, webhooks). */
  sink_retries: 'counter',
} as const satisfies Partial<Record<keyof SensorHealth, 'gauge' | 'counter'>>;

export type HealthField = keyof typeof HEALTH_FIELDS;

function healthQuery(scope: Scope, field: HealthField): string {
  const f = id(field);
  const select = HEALTH_FIELDS[field] === 'counter' ? `non_negative_difference(max(${f}))` : `max(${f})`;
  return `SELECT ${select} AS ${id(field)} FROM ${scope.from(MEASUREMENT.health)} ${where(scope)} GROUP BY time($__interval), ${id('sensor')} fill(null)`;
}

export function healthPanels(scope: Scope): cog.Builder<dashboard.Panel>[] {
  return [
    timeseries('Packets/s', 'Packets per second the sensor captures (highest in each interval). Answers: is the mirror port feeding us?')
      .withTarget(influxql(healthQuery(scope, 'packets_per_s')).alias('$tag_sensor'))
      .unit('pps')
      .height(7)
      .span(8),
    timeseries('Drops and decode errors', 'Packets dropped by capture and frames the decoder could not read, per interval. Answers: are we missing traffic?')
      .withTarget(influxql(healthQuery(scope, 'packets_dropped'), 'A').alias('dropped $tag_sensor'))
      .withTarget(influxql(healthQuery(scope, 'decode_errors'), 'B').alias('decode errors $tag_sensor'))
      .unit('short')
      .height(7)
      .span(8),
    timeseries('Flow-table fill', 'Flow-table occupancy (flows ÷ max_flows). Near 100% the sensor evicts flows and features lose accuracy.')
      .withTarget(influxql(healthQuery(scope, 'flow_table_fill')).alias('$tag_sensor'))
      .unit('percentunit')
      .min(0)
      .max(1)
      .thresholds(thresholds([{ value: null, color: 'green' }, { value: 0.8, color: 'orange' }, { value: 0.95, color: 'red' }]))
      .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
      .height(7)
      .span(8),
    timeseries('Kafka consumer lag', 'Feature windows waiting to reach the detectors: each sensor\'s windows not yet delivered to Kafka (in memory or spooled on disk during an outage). Growing lag means alerts arrive late.')
      .withTarget(influxql(healthQuery(scope, 'kafka_lag')).alias('$tag_sensor'))
      .unit('short')
      .height(7)
      .span(12),
    timeseries('Sink retries', 'Write retries of the alert sinks (InfluxDB, webhooks) per interval. Non-zero means a sink is failing and alerts may be delayed.')
      .withTarget(influxql(healthQuery(scope, 'sink_retries')).alias('$tag_sensor'))
      .unit('short')
      .height(7)
      .span(12),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// One device ($device)

export const INVENTORY_FACT_COLUMNS = [
  'device_class',
  'vendor',
  'name',
  'location',
  'criticality',
  'mac',
  'ips',
  'hostname',
  'protocols',
  'listening_ports',
  'peers',
  'first_seen',
  'last_seen',
  'learning',
  'class_source',
  'class_evidence',
] as const;

export function inventoryFacts(scope: Scope): cog.Builder<dashboard.Panel> {
  const lasts = INVENTORY_FACT_COLUMNS.filter((c) => c !== 'device_class' && c !== 'vendor')
    .map((c) => (c === 'first_seen' || c === 'last_seen' ? `last(${id(`${c}_ms`)}) AS ${id(c)}` : `last(${id(c)}) AS ${id(c)}`))
    .join(', ');
  return table(
    'Inventory facts',
    'What the sensor knows about $device: class (and what the class rests on: the inventory file, or the guess rule and its evidence), vendor, operator-given name, location and criticality, addresses, protocols, listening ports, peers, first/last seen, learning state.',
  )
    .withTarget(influxql(`SELECT ${lasts} FROM ${scope.from(MEASUREMENT.inventory)} ${where(scope, DEVICE)} GROUP BY ${id('device_class')}, ${id('vendor')}`).format('table'))
    .withTransformation({ id: 'filterFieldsByName', options: { include: { names: [...INVENTORY_FACT_COLUMNS] } } })
    .overrideByName('first_seen', [{ id: 'unit', value: 'dateTimeAsIso' }])
    .overrideByName('last_seen', [{ id: 'unit', value: 'dateTimeAsIso' }])
    .height(5)
    .span(24);
}

/** Columns of the "Medical-device identity" panel: `ww_inventory` fields (src/sinks/influx/points.ts IDENTITY_FIELDS). */
export const IDENTITY_COLUMNS = [
  'hl7_apps',
  'hl7_facilities',
  'hl7_receiving_apps',
  'hl7_message_types',
  'hl7_versions',
  'equipment_ids',
  'dicom_ae_titles',
  'dicom_roles',
  'dicom_peer_ae_titles',
  'dicom_sop_classes',
  'dicom_impl_class_uids',
  'dicom_impl_versions',
  'mqtt_client_ids',
  'dhcp_fingerprints',
  'identity_dropped',
] as const satisfies readonly (keyof typeof IDENTITY_FIELDS)[];

export function deviceIdentity(scope: Scope): cog.Builder<dashboard.Panel> {
  const lasts = IDENTITY_COLUMNS.map((c) => `last(${id(c)}) AS ${id(c)}`).join(', ');
  return table(
    'Medical-device identity',
    'What $device says about itself in HL7 (sending/receiving application and facility MSH-3..6, message types with counts, version, equipment ids from OBX-18/PRT-10/PRT-16), DICOM (AE titles, SCU/SCP role, peers, SOP classes proposed, implementation class UID and version), MQTT (client id) and DHCP (parameter request list fingerprint). Never patient data. identity_dropped: values not kept because a list was full.',
  )
    .withTarget(influxql(`SELECT ${lasts} FROM ${scope.from(MEASUREMENT.inventory)} ${where(scope, DEVICE)}`).format('table'))
    .withTransformation({ id: 'filterFieldsByName', options: { include: { names: [...IDENTITY_COLUMNS] } } })
    .height(5)
    .span(24);
}

export function deviceTraffic(scope: Scope): cog.Builder<dashboard.Panel> {
  return timeseries('Traffic in/out', 'IP-layer bytes sent (out) and received (in) by $device per feature window, and packets. Answers: did its volume change?')
    .withTarget(
      influxql(
        `SELECT mean(${id('bytes_out')}) AS ${id('bytes out')}, mean(${id('bytes_in')}) AS ${id('bytes in')} FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} GROUP BY time($__interval) fill(null)`,
        'A',
      ),
    )
    .withTarget(
      influxql(
        `SELECT mean(${id('pkts_out')}) AS ${id('packets out')}, mean(${id('pkts_in')}) AS ${id('packets in')} FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} GROUP BY time($__interval) fill(null)`,
        'B',
      ),
    )
    .unit('decbytes')
    .overrideByRegexp('packets.*', [
      { id: 'unit', value: 'short' },
      { id: 'custom.axisPlacement', value: 'right' },
    ])
    .height(8)
    .span(12);
}

export function deviceScore(scope: Scope): cog.Builder<dashboard.Panel> {
  return timeseries('Anomaly score against threshold', 'Anomaly score of each window of $device (reconstruction error ÷ the model threshold): above the dashed line at 1 the window is anomalous. Gaps: the device is still learning.')
    .withTarget(
      influxql(
        `SELECT max(${id('score')}) AS ${id('score')} FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} GROUP BY time($__interval) fill(null)`,
      ),
    )
    .unit('short')
    .decimals(2)
    .min(0)
    .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
    .height(8)
    .span(12);
}

export function deviceTopFeatures(scope: Scope): cog.Builder<dashboard.Panel> {
  return new StateTimelinePanel()
    .title('Top contributing features over time')
    .description("The features that contributed most to each of $device's alerts (largest share first), over time. Answers: what kind of change is it?")
    .datasource(INFLUX_DATASOURCE)
    .withTarget(influxql(`SELECT ${id('top_features')} AS ${id('top features')} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope, DEVICE)}`))
    .mergeValues(true)
    .showValue(common.VisibilityMode.Auto)
    .height(8)
    .span(12);
}

export function deviceFeatureValues(scope: Scope): cog.Builder<dashboard.Panel> {
  return timeseries('Feature values ($feature)', 'Window values of the features chosen in $feature (default: the ones that most often explain alerts) for $device.')
    .withTarget(influxql(`SELECT mean(/^$feature$/) FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} GROUP BY time($__interval) fill(null)`))
    .unit('short')
    .height(8)
    .span(12);
}

export function devicePeersAndPorts(scope: Scope): cog.Builder<dashboard.Panel> {
  const cols = ['peers_internal', 'peers_external', 'dst_ports', 'new_peers', 'new_dst_ports']
    .map((c) => `max(${id(c)}) AS ${id(c)}`)
    .join(', ');
  return timeseries('Peers and ports', 'Distinct internal/external peers, destination ports, and never-seen-before peers and ports of $device per window. Answers: is it talking to new places?')
    .withTarget(influxql(`SELECT ${cols} FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} GROUP BY time($__interval) fill(null)`))
    .unit('short')
    .decimals(0)
    .height(8)
    .span(12);
}

export const NEW_PEER_COLUMNS = ['time', 'new peers', 'new ports'] as const;

export function deviceNewPeersTable(scope: Scope): cog.Builder<dashboard.Panel> {
  return table('New peers and ports', 'Peers and destination ports $device used for the first time, per window (up to 16 each).')
    .withTarget(
      influxql(`SELECT ${id('new_peer_list')} AS ${id('new peers')}, ${id('new_port_list')} AS ${id('new ports')} FROM ${scope.from(MEASUREMENT.window)} ${where(scope, DEVICE)} ORDER BY time DESC LIMIT 200`).format('table'),
    )
    .height(8)
    .span(12);
}

export const DEVICE_ALERT_COLUMNS = ['time', 'kind', 'severity', 'score', 'summary', 'explanation', 'new_peers', 'new_dst_ports', 'windows_over', 'windows_considered', 'model', 'alert_id'] as const;

export function deviceAlerts(scope: Scope): cog.Builder<dashboard.Panel> {
  const cols = DEVICE_ALERT_COLUMNS.filter((c) => c !== 'time')
    .map((c) => id(c))
    .join(', ');
  return table("Device's alerts with explanations", 'Every alert of $device in the period, newest first: what changed (summary), why the model thinks so (top features with observed vs expected), new peers and ports, and the K-of-N windows rule that fired.')
    .withTarget(influxql(`SELECT ${cols} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope, DEVICE)} ORDER BY time DESC LIMIT 500`).format('table'))
    .overrideByName('score', [{ id: 'decimals', value: 2 }])
    .overrideByName('explanation', [{ id: 'custom.cellOptions', value: { type: 'auto', wrapText: true } }])
    .height(10)
    .span(24);
}

// ---------------------------------------------------------------------------------------------------------------
// Annotations

export function alertAnnotation(scope: Scope, onlyDevice: boolean): dashboard.AnnotationQueryBuilder {
  const extra = onlyDevice ? [DEVICE] : [];
  const fieldMapping = (value: string): dashboard.AnnotationEventFieldMappingBuilder =>
    new dashboard.AnnotationEventFieldMappingBuilder().source(dashboard.AnnotationEventFieldSource.Field).value(value);
  return new dashboard.AnnotationQueryBuilder()
    .name('Alerts')
    .datasource(INFLUX_DATASOURCE)
    .enable(true)
    .iconColor('red')
    .target(influxql(`SELECT ${id('summary')}, ${id('device_name')}, ${id('severity')}, ${id('kind')} FROM ${scope.from(MEASUREMENT.alert)} ${where(scope, ...extra)}`).format('table'))
    .mappings({ text: fieldMapping('summary'), title: fieldMapping('device_name'), tags: fieldMapping('severity') });
}

/** Variable `$device`: devices that produced feature windows in scope, from the data. */
export function deviceVariable(scope: Scope): dashboard.QueryVariableBuilder {
  const q = `SHOW TAG VALUES FROM ${scope.from(MEASUREMENT.window)} WITH KEY = ${id('device')} WHERE ${scope.tagConditions.join(' AND ')}`;
  return new dashboard.QueryVariableBuilder('device')
    .label('Device')
    .description('Device id (mac:… or ip:…) from the feature windows in scope.')
    .datasource(INFLUX_DATASOURCE)
    .query(q)
    .definition(q)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(false)
    .includeAll(false);
}
