/**
 * InfluxQL queries for Grafana's InfluxDB datasource, as a builder the foundation SDK accepts wherever it takes a
 * `cog.Builder<cog.Dataquery>` (panel targets, annotation targets). The SDK (0.0.21) ships no InfluxDB package, so
 * this follows Grafana's own InfluxQL query model (`public/app/plugins/datasource/influxdb/types.ts`, raw mode):
 * `refId`, `datasource {type: 'influxdb', uid}`, `query`, `rawQuery: true`, `resultFormat`, `alias`.
 *
 * Measurement names always come from `MEASUREMENT` (src/sinks/influx/points.ts) and field names from the record
 * contracts, so renaming one breaks the build rather than silently emptying a panel.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { MEASUREMENT, REPLAY_RETENTION_POLICY } from '../sinks/influx/points.js';

/** Datasource uid the dashboards reference; the provisioning file creates the datasource with this uid. */
export const INFLUX_DATASOURCE_UID = 'wardwatch-influxdb';
export const INFLUX_DATASOURCE: DataSourceRef = { type: 'influxdb', uid: INFLUX_DATASOURCE_UID };

/** How Grafana shapes the InfluxDB response: one frame per series, one table, or log lines. */
export type InfluxResultFormat = 'time_series' | 'table' | 'logs';

/** Grafana's InfluxQL query model (raw mode): the keys Grafana reads for a raw InfluxQL query. */
export interface InfluxQuery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: InfluxResultFormat;
  /** Series name template, e.g. `$tag_severity` (time series only). */
  alias?: string;
  hide?: boolean;
}

export type InfluxDataquery = InfluxQuery & cog.Dataquery;

export class InfluxQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly q: InfluxQuery;

  constructor(query: string, refId = 'A') {
    this.q = { refId, datasource: { ...INFLUX_DATASOURCE }, query, rawQuery: true, resultFormat: 'time_series' };
  }

  refId(refId: string): this {
    this.q.refId = refId;
    return this;
  }

  format(format: InfluxResultFormat): this {
    this.q.resultFormat = format;
    return this;
  }

  alias(alias: string): this {
    this.q.alias = alias;
    return this;
  }

  hide(hide: boolean): this {
    this.q.hide = hide;
    return this;
  }

  build(): InfluxDataquery {
    // `_implementsDataqueryVariant` is the SDK's nominal marker; like the SDK's own dataqueries it is a function,
    // so JSON.stringify leaves it out of the dashboard JSON.
    return { ...this.q, datasource: { ...this.q.datasource }, _implementsDataqueryVariant: () => {} };
  }
}

export function influxql(query: string, refId = 'A'): InfluxQueryBuilder {
  return new InfluxQueryBuilder(query, refId);
}

/** `"name"`: an InfluxQL identifier. */
export const id = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** `'text'`: an InfluxQL string literal. */
export const str = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `"tag" =~ /^$variable$/`: Grafana replaces `$variable` with the regex-escaped value, or `(a|b)` for several. */
export const tagMatchesVariable = (tag: string, variable: string): string => `${id(tag)} =~ /^$${variable}$/`;

/** FROM clause for one of our measurements (the default retention policy of the datasource's database). */
export const from = (m: (typeof MEASUREMENT)[keyof typeof MEASUREMENT]): string => id(m);

/** FROM clause for a measurement of a forensic replay run: the replays' own retention policy (REPLAY_RETENTION_POLICY). */
export const fromReplay = (m: (typeof MEASUREMENT)[keyof typeof MEASUREMENT]): string => `${id(REPLAY_RETENTION_POLICY)}.${id(m)}`;

export { MEASUREMENT };
