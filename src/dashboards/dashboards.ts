/**
 * The three wardwatch dashboards, as foundation-SDK builders:
 *  - SOC overview (`wardwatch-soc`): live capture, all devices, alerts, inventory and sensor health;
 *  - device drill-down (`wardwatch-device`): one live device ($device);
 *  - forensic replay (`wardwatch-replay`): the overview and drill-down panels restricted to one replay run ($run_id).
 * `buildDashboards()` returns them as plain objects; `renderDashboard()` is the committed JSON form.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { FEATURE_NAMES } from '../records/features.js';
import { INFLUX_DATASOURCE, MEASUREMENT, fromReplay, id, str } from './influxql.js';
import {
  LIVE_RUN_ID,
  LIVE_SCOPE,
  REPLAY_SCOPE,
  activeAlertsBySeverity,
  alertAnnotation,
  alertsOverTimeByKind,
  deviceAlerts,
  deviceFeatureValues,
  deviceNewPeersTable,
  devicePeersAndPorts,
  deviceScore,
  deviceTopFeatures,
  deviceTraffic,
  deviceVariable,
  devicesByClass,
  devicesByVendor,
  healthPanels,
  inventoryFacts,
  deviceIdentity,
  mostAnomalousDevices,
  newDevicesCount,
  newDevicesTable,
  type Scope,
} from './panels.js';

export const DASHBOARD_UID = { soc: 'wardwatch-soc', device: 'wardwatch-device', replay: 'wardwatch-replay' } as const;
const TAGS = ['wardwatch'];

/** Features `$feature` selects by default: the ones that most often explain alerts. */
export const DEFAULT_FEATURES = ['new_dst_ports', 'new_peers', 'dst_ports', 'peers_external', 'tcp_syn'] as const;

function checkedFeatures(names: readonly string[]): string[] {
  for (const n of names) if (!FEATURE_NAMES.includes(n)) throw new Error(`dashboard feature ${n} is not in FEATURE_SCHEMA`);
  return [...names];
}

function sensorVariable(): dashboard.QueryVariableBuilder {
  const q = `SHOW TAG VALUES FROM ${id(MEASUREMENT.window)} WITH KEY = ${id('sensor')} WHERE ${id('run_id')} = ${str(LIVE_RUN_ID)}`;
  return new dashboard.QueryVariableBuilder('sensor')
    .label('Sensor')
    .description('Sensors (config sensor.id) that produced feature windows from live capture.')
    .datasource(INFLUX_DATASOURCE)
    .query(q)
    .definition(q)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: ['All'], value: ['$__all'] });
}

function runVariable(): dashboard.QueryVariableBuilder {
  const q = `SHOW TAG VALUES FROM ${fromReplay(MEASUREMENT.window)} WITH KEY = ${id('run_id')} WHERE ${id('run_id')} != ${str(LIVE_RUN_ID)}`;
  return new dashboard.QueryVariableBuilder('run_id')
    .label('Replay run')
    .description('Forensic replay runs (run_id given to `wardwatch replay`). Set the time range to the capture period.')
    .datasource(INFLUX_DATASOURCE)
    .query(q)
    .definition(q)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalDesc)
    .multi(false)
    .includeAll(false);
}

function featureVariable(): dashboard.CustomVariableBuilder {
  const defaults = checkedFeatures(DEFAULT_FEATURES);
  return new dashboard.CustomVariableBuilder('feature')
    .label('Features')
    .description('Feature-window fields to plot (FEATURE_SCHEMA, docs/features.md).')
    .values(FEATURE_NAMES.join(','))
    .multi(true)
    .includeAll(false)
    .current({ text: defaults, value: defaults })
    .options(FEATURE_NAMES.map((f) => ({ text: f, value: f, selected: defaults.includes(f) })));
}

function links(): cog.Builder<dashboard.DashboardLink>[] {
  return [new dashboard.DashboardLinkBuilder('wardwatch').type(dashboard.DashboardLinkType.Dashboards).tags(TAGS).asDropdown(true).keepTime(true).includeVars(false)];
}

function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).collapsed(false);
}

function base(uid: string, title: string, description: string, time: { from: string; to: string }): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(TAGS)
    .editable()
    .timezone('browser')
    .time(time)
    .refresh('1m')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .links(links());
}

function overviewPanels(b: dashboard.DashboardBuilder, scope: Scope): void {
  b.withRow(row('Alerts')).withPanel(activeAlertsBySeverity(scope)).withPanel(alertsOverTimeByKind(scope));
  b.withRow(row('Devices'))
    .withPanel(mostAnomalousDevices(scope))
    .withPanel(devicesByClass(scope))
    .withPanel(devicesByVendor(scope))
    .withPanel(newDevicesCount(scope))
    .withPanel(newDevicesTable(scope));
  b.withRow(row('Sensor health'));
  for (const p of healthPanels(scope)) b.withPanel(p);
}

function devicePanels(b: dashboard.DashboardBuilder, scope: Scope, title: string): void {
  b.withRow(row(title))
    .withPanel(inventoryFacts(scope))
    .withPanel(deviceIdentity(scope))
    .withPanel(deviceTraffic(scope))
    .withPanel(deviceScore(scope))
    .withPanel(deviceTopFeatures(scope))
    .withPanel(deviceFeatureValues(scope))
    .withPanel(devicePeersAndPorts(scope))
    .withPanel(deviceNewPeersTable(scope))
    .withPanel(deviceAlerts(scope));
}

/** Numbers panels (and rows) 1..n in layout order: stable ids for links and the proof report. */
function numberPanels(d: dashboard.Dashboard): dashboard.Dashboard {
  (d.panels ?? []).forEach((p, i) => (p.id = i + 1));
  return d;
}

export function socOverview(): dashboard.Dashboard {
  const b = base(
    DASHBOARD_UID.soc,
    'wardwatch — SOC overview',
    'Live medical-device network: alerts, the most anomalous devices, the device population and sensor health.',
    { from: 'now-6h', to: 'now' },
  )
    .withVariable(sensorVariable())
    .annotation(alertAnnotation(LIVE_SCOPE, false));
  overviewPanels(b, LIVE_SCOPE);
  return numberPanels(b.build());
}

export function deviceDrilldown(): dashboard.Dashboard {
  const b = base(
    DASHBOARD_UID.device,
    'wardwatch — device drill-down',
    'One device ($device): traffic, anomaly score against threshold, contributing features, peers and ports, alerts with explanations, inventory.',
    { from: 'now-24h', to: 'now' },
  )
    .withVariable(sensorVariable())
    .withVariable(deviceVariable(LIVE_SCOPE))
    .withVariable(featureVariable())
    .annotation(alertAnnotation(LIVE_SCOPE, true));
  devicePanels(b, LIVE_SCOPE, 'Device $device');
  return numberPanels(b.build());
}

export function forensicReplay(): dashboard.Dashboard {
  const b = base(
    DASHBOARD_UID.replay,
    'wardwatch — forensic replay',
    'A forensic replay run ($run_id): the SOC overview and device drill-down panels restricted to that run. Time is packet time: set the range to the capture period.',
    { from: 'now-7d', to: 'now' },
  )
    .withVariable(runVariable())
    .withVariable(deviceVariable(REPLAY_SCOPE))
    .withVariable(featureVariable())
    .annotation(alertAnnotation(REPLAY_SCOPE, false));
  overviewPanels(b, REPLAY_SCOPE);
  devicePanels(b, REPLAY_SCOPE, 'Device $device in run $run_id');
  return numberPanels(b.build());
}

export interface DashboardFile {
  /** File name under dashboards/. */
  file: string;
  dashboard: dashboard.Dashboard;
}

export function buildDashboards(): DashboardFile[] {
  return [
    { file: 'soc-overview.json', dashboard: socOverview() },
    { file: 'device-drilldown.json', dashboard: deviceDrilldown() },
    { file: 'forensic-replay.json', dashboard: forensicReplay() },
  ];
}

/** Plain JSON data (functions such as the SDK's variant markers dropped), keys sorted at every level. */
export function toPlainJson(value: unknown): unknown {
  const plain: unknown = JSON.parse(JSON.stringify(value));
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return sort(plain);
}

/** The committed form: sorted keys, 2-space indent, trailing newline. */
export function renderDashboard(d: dashboard.Dashboard): string {
  return `${JSON.stringify(toPlainJson(d), null, 2)}\n`;
}
