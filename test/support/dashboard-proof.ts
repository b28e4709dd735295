/**
 * Proof that the dashboards work on real data: every variable, panel and annotation query of every dashboard is
 * expanded the way Grafana's InfluxDB (InfluxQL) datasource expands it, run against a real InfluxDB, and its answer
 * checked for the shape its panel needs. A query that returns nothing is a failure.
 *
 * Expansion, as Grafana does it (public/app/plugins/datasource/influxdb):
 *  - `$timeFilter` → `time >= now() - 6h` for a relative range ending now, else `time >= <from>ms and time <= <to>ms`;
 *  - `${__from}` / `${__to}` → the range's bounds in ms since the epoch;
 *  - `$__interval` → range ÷ max data points, at least the datasource's min interval (10s), rounded like
 *    Grafana's `rangeutil.roundInterval`;
 *  - a template variable inside a `/regex/` → its value regex-escaped, several values as `(a|b)`; "All" → every
 *    value. Variables are resolved in dashboard order from their own queries (SHOW TAG VALUES), so a variable
 *    whose query returns nothing fails the proof too. Current value: the dashboard's saved `current` when it is
 *    among the values, else the first value (Grafana's behaviour), unless `pick` overrides it.
 *
 * Usable on any database the sink wrote (phase 2: data written by the real pipeline from a replayed capture).
 */
import { buildDashboards, toPlainJson } from '../../src/dashboards/index.js';

export interface ProofTimeRange {
  /** `now-<n><s|m|h|d>` or ms since the epoch. */
  from: string | number;
  /** `now` or ms since the epoch. */
  to: string | number;
}

export interface ProofOptions {
  /** Values to select instead of the default (first / saved) value, per variable name. */
  pick?: Record<string, string[]>;
  /** Dashboard files to prove (default: all). */
  only?: string[];
  /** Grafana's maxDataPoints for $__interval (≈ panel width in pixels). */
  max_data_points?: number;
  /** Datasource "min time interval" (provisioning `timeInterval`). */
  min_interval_ms?: number;
}

export interface ProofEntry {
  dashboard: string;
  /** `panel <id> "<title>" <refId>`, `variable $name` or `annotation <name>`. */
  what: string;
  query: string;
  series: number;
  rows: number;
}

export interface ProofReport {
  entries: ProofEntry[];
  failures: string[];
}

interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface Target {
  refId: string;
  query: string;
  resultFormat: 'time_series' | 'table' | 'logs';
  alias?: string;
}

interface PanelJson {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  transformations?: { id: string; options: Record<string, unknown> }[];
}

interface VariableJson {
  type: string;
  name: string;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
  sort?: number;
  current?: { value: string | string[] };
}

interface DashboardJson {
  uid: string;
  panels: PanelJson[];
  templating: { list?: VariableJson[] };
  annotations: { list?: { name: string; target?: Target; mappings?: Record<string, { value?: string }> }[] };
}

/** Grafana's escapeRegex (@grafana/data). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function resolveRange(r: ProofTimeRange, now: number): { from: number; to: number; timeFilter: string } {
  const rel = (v: string | number): { ms: number; influx: string } => {
    if (typeof v === 'number') return { ms: v, influx: `${v}ms` };
    if (v === 'now') return { ms: now, influx: 'now()' };
    const m = /^now-(\d+)([smhd])$/.exec(v);
    if (!m) throw new Error(`time range bound ${v}: use now, now-<n>[smhd] or ms since the epoch`);
    return { ms: now - Number(m[1]) * UNIT_MS[m[2]!]!, influx: `now() - ${m[1]}${m[2]}` };
  };
  const f = rel(r.from);
  const t = rel(r.to);
  const timeFilter = t.influx === 'now()' ? `time >= ${f.influx}` : `time >= ${f.influx} and time <= ${t.influx}`;
  return { from: f.ms, to: t.ms, timeFilter };
}

/** Grafana's rangeutil.roundInterval thresholds (ms → ms). */
const ROUND: [number, number][] = [
  [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
  [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [210_000, 120_000],
  [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [27_000_000, 21_600_000],
  [43_200_000, 43_200_000], [86_400_000, 86_400_000], [604_800_000, 604_800_000],
];

export function grafanaInterval(rangeMs: number, maxDataPoints: number, minIntervalMs: number): string {
  let ms = Math.max(rangeMs / maxDataPoints, minIntervalMs);
  ms = ROUND.find(([limit]) => ms < limit)?.[1] ?? 31_536_000_000;
  ms = Math.max(ms, minIntervalMs);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Replaces variables the way Grafana's InfluxDB datasource does; every variable in our queries sits in a /regex/. */
export function expandQuery(query: string, ctx: { timeFilter: string; from: number; to: number; interval: string; vars: Map<string, string[]> }): string {
  let q = query
    .replaceAll('$timeFilter', ctx.timeFilter)
    .replaceAll('${__from}', String(ctx.from))
    .replaceAll('${__to}', String(ctx.to))
    .replaceAll('$__interval', ctx.interval);
  q = q.replace(/\$(\w+)|\$\{(\w+)\}/g, (_whole: string, a: string | undefined, b: string | undefined, offset: number) => {
    const name = (a ?? b)!;
    const values = ctx.vars.get(name);
    if (!values) throw new Error(`query uses $${name}, which is not a variable of this dashboard: ${query}`);
    // Inside a regex literal: an odd number of unescaped '/' before it on the same clause.
    const before = q.slice(0, offset);
    const slashes = (before.match(/(?<!\\)\//g) ?? []).length;
    if (slashes % 2 !== 1) throw new Error(`$${name} is used outside a /regex/ in: ${query}`);
    const escaped = values.map(escapeRegex);
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  });
  return q;
}

async function runInfluxQL(influxUrl: string, database: string, query: string): Promise<InfluxSeries[]> {
  const body = new URLSearchParams({ db: database, q: query, epoch: 'ms' });
  const res = await fetch(`${influxUrl}/query`, { method: 'POST', body });
  const json = (await res.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
  const err = json.error ?? json.results?.[0]?.error;
  if (!res.ok || err) throw new Error(`InfluxDB answered ${res.status}: ${err ?? 'no error text'}`);
  return json.results?.[0]?.series ?? [];
}

/** Splits at top-level commas (not inside parentheses or regexes). */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inRegex = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '/' && text[i - 1] !== '\\') inRegex = !inRegex;
    if (inRegex) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

/** Index of `word` at parenthesis depth 0 (outer query), or -1. */
function topLevelIndex(text: string, word: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && text.startsWith(word, i)) return i;
  }
  return -1;
}

/** The columns (and tag columns) the outer query names: `AS` aliases, raw fields, `fn(/re/)` as a `fn_` prefix. */
export function expectedColumns(query: string): { names: string[]; prefixes: string[]; tags: string[]; byTime: boolean } {
  const fromAt = topLevelIndex(query, ' FROM ');
  const select = query.slice('SELECT '.length, fromAt);
  const names: string[] = [];
  const prefixes: string[] = [];
  for (const item of splitTop(select)) {
    const alias = /\sAS\s+"([^"]+)"$/.exec(item);
    const raw = /^"([^"]+)"$/.exec(item);
    const fnRegex = /^(\w+)\(\/.*\/\)$/.exec(item);
    if (alias) names.push(alias[1]!);
    else if (raw) names.push(raw[1]!);
    else if (fnRegex) prefixes.push(`${fnRegex[1]!}_`);
    else throw new Error(`cannot tell the column name of "${item}" in: ${query}`);
  }
  const groupAt = topLevelIndex(query, ' GROUP BY ');
  const tags: string[] = [];
  let byTime = false;
  if (groupAt >= 0) {
    const clause = query.slice(groupAt + ' GROUP BY '.length).replace(/\s(fill\(\w+\)|ORDER BY.*|LIMIT.*)$/g, '');
    for (const g of splitTop(clause)) {
      const tag = /^"([^"]+)"/.exec(g);
      if (tag) tags.push(tag[1]!);
      else if (g.startsWith('time(')) byTime = true;
    }
  }
  return { names, prefixes, tags, byTime };
}

const NUMERIC_PANELS = new Set(['stat', 'timeseries', 'piechart', 'bargauge']);

/** Checks the answer has the shape the panel type needs; returns what is wrong, or []. */
function checkShape(panelType: string, target: Target, series: InfluxSeries[]): string[] {
  const problems: string[] = [];
  const rows = series.reduce((n, s) => n + s.values.length, 0);
  if (series.length === 0 || rows === 0) return ['returned no data'];
  const exp = expectedColumns(target.query);
  const columnsOf = (s: InfluxSeries): string[] => [...s.columns, ...Object.keys(s.tags ?? {})];
  const valueAt = (s: InfluxSeries, name: string, row: unknown[]): unknown =>
    s.columns.includes(name) ? row[s.columns.indexOf(name)] : s.tags?.[name];
  for (const s of series) {
    if (s.columns[0] !== 'time') problems.push(`series ${s.name} has no time column`);
    for (const n of [...exp.names, ...exp.tags]) if (!columnsOf(s).includes(n)) problems.push(`series ${s.name} lacks column "${n}" (has ${columnsOf(s).join(', ')})`);
    for (const p of exp.prefixes) if (!s.columns.some((c) => c.startsWith(p))) problems.push(`series ${s.name} has no ${p}* column`);
  }
  // Every named column carries a value somewhere (a column that is always null shows as empty cells).
  for (const n of [...exp.names, ...exp.tags]) {
    const some = series.some((s) => s.values.some((r) => valueAt(s, n, r) !== null && valueAt(s, n, r) !== undefined));
    if (!some) problems.push(`column "${n}" is null in every row`);
  }
  const aliasTags = [...(target.alias ?? '').matchAll(/\$tag_(\w+)/g)].map((m) => m[1]!);
  for (const t of aliasTags) if (series.some((s) => !s.tags?.[t])) problems.push(`alias uses $tag_${t} but a series has no "${t}" tag`);
  const valueCells = (s: InfluxSeries): unknown[] => s.values.flatMap((r) => r.slice(1));
  if (NUMERIC_PANELS.has(panelType)) {
    if (target.resultFormat !== 'time_series') problems.push(`${panelType} expects time_series, query is ${target.resultFormat}`);
    if (!series.some((s) => valueCells(s).some((v) => typeof v === 'number'))) problems.push('no numeric value to plot');
  }
  if (panelType === 'timeseries' || panelType === 'state-timeline') {
    const points = (s: InfluxSeries): number => s.values.filter((r) => r.slice(1).some((v) => v !== null)).length;
    if (!series.some((s) => points(s) >= 2)) problems.push(`a ${panelType} needs ≥ 2 points in a series, got at most ${Math.max(...series.map(points))}`);
    if (exp.byTime) {
      const buckets = Math.max(...series.map((s) => s.values.length));
      if (buckets < 2) problems.push('GROUP BY time() gave a single bucket');
    }
  }
  if (panelType === 'table' && target.resultFormat !== 'table') problems.push(`table panel query should use resultFormat table, is ${target.resultFormat}`);
  return problems;
}

/** Checks a table panel's joins and field filters against what its queries returned. */
function checkTransformations(panel: PanelJson, answers: Map<string, InfluxSeries[]>): string[] {
  const problems: string[] = [];
  const available = new Set<string>();
  for (const series of answers.values()) for (const s of series) for (const c of [...s.columns, ...Object.keys(s.tags ?? {})]) available.add(c);
  for (const t of panel.transformations ?? []) {
    if (t.id === 'filterFieldsByName') {
      const names = (t.options['include'] as { names: string[] }).names;
      for (const n of names) if (!available.has(n)) problems.push(`filterFieldsByName keeps "${n}" but no query returns it`);
    }
    if (t.id === 'joinByField') {
      const by = t.options['byField'] as string;
      const sets = [...answers.values()].map((series) => new Set(series.flatMap((s) => s.values.map((r) => (s.columns.includes(by) ? r[s.columns.indexOf(by)] : s.tags?.[by])))));
      const common = [...(sets[0] ?? [])].filter((v) => v !== undefined && sets.every((set) => set.has(v)));
      if (common.length === 0) problems.push(`joinByField ${by}: no ${by} value is returned by all ${sets.length} queries, the joined rows would be half empty`);
    }
  }
  return problems;
}

/** Values a variable query returns, as Grafana lists them (SHOW TAG VALUES → the `value` column). */
function variableValues(series: InfluxSeries[]): string[] {
  const out = new Set<string>();
  for (const s of series) {
    const i = s.columns.includes('value') ? s.columns.indexOf('value') : s.columns.length - 1;
    for (const r of s.values) {
      const v = r[i];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
    }
  }
  return [...out];
}

export async function proveDashboards(influxUrl: string, database: string, timeRange: ProofTimeRange, options: ProofOptions = {}): Promise<ProofReport> {
  const now = Date.now();
  const range = resolveRange(timeRange, now);
  const interval = grafanaInterval(range.to - range.from, options.max_data_points ?? 1000, options.min_interval_ms ?? 10_000);
  const report: ProofReport = { entries: [], failures: [] };
  for (const { file, dashboard } of buildDashboards()) {
    if (options.only && !options.only.includes(file)) continue;
    const d = toPlainJson(dashboard) as DashboardJson;
    const vars = new Map<string, string[]>();
    const ctx = { ...range, interval, vars };
    const run = async (what: string, query: string): Promise<InfluxSeries[] | undefined> => {
      let expanded = query;
      try {
        expanded = expandQuery(query, ctx);
        const series = await runInfluxQL(influxUrl, database, expanded);
        report.entries.push({ dashboard: file, what, query: expanded, series: series.length, rows: series.reduce((n, s) => n + s.values.length, 0) });
        return series;
      } catch (err) {
        report.failures.push(`${file} ${what}: ${(err as Error).message}\n    ${expanded}`);
        return undefined;
      }
    };

    for (const v of d.templating.list ?? []) {
      let values: string[];
      if (v.type === 'query') {
        const series = await run(`variable $${v.name}`, v.query ?? '');
        if (!series) continue;
        values = variableValues(series);
        if (v.sort === 1) values.sort();
        if (v.sort === 2) values.sort().reverse();
      } else if (v.type === 'custom') {
        values = (v.query ?? '').split(',').map((s) => s.trim());
      } else {
        report.failures.push(`${file} variable $${v.name}: type ${v.type} is not handled by the proof`);
        continue;
      }
      if (values.length === 0) {
        report.failures.push(`${file} variable $${v.name}: returned no values`);
        continue;
      }
      const saved = v.current ? ([] as string[]).concat(v.current.value) : [];
      let selected: string[];
      if (options.pick?.[v.name]) selected = options.pick[v.name]!;
      else if (saved.includes('$__all') && v.includeAll) selected = values;
      else if (saved.length > 0 && saved.every((s) => values.includes(s))) selected = saved;
      else selected = [values[0]!];
      for (const s of selected) if (!values.includes(s)) report.failures.push(`${file} variable $${v.name}: picked value ${s} is not among its values`);
      vars.set(v.name, selected);
    }

    for (const panel of d.panels) {
      if (panel.type === 'row') continue;
      if (!panel.targets?.length) {
        report.failures.push(`${file} panel ${panel.id} "${panel.title}": has no query`);
        continue;
      }
      const answers = new Map<string, InfluxSeries[]>();
      for (const t of panel.targets) {
        const what = `panel ${panel.id} "${panel.title}" ${t.refId}`;
        const series = await run(what, t.query);
        if (!series) continue;
        answers.set(t.refId, series);
        for (const p of checkShape(panel.type, t, series)) report.failures.push(`${file} ${what}: ${p}\n    ${report.entries.at(-1)?.query ?? ''}`);
      }
      if (answers.size === panel.targets.length) {
        for (const p of checkTransformations(panel, answers)) report.failures.push(`${file} panel ${panel.id} "${panel.title}": ${p}`);
      }
    }

    for (const a of d.annotations.list ?? []) {
      if (!a.target) continue;
      const what = `annotation ${a.name}`;
      const series = await run(what, a.target.query);
      if (!series) continue;
      if (series.every((s) => s.values.length === 0)) report.failures.push(`${file} ${what}: returned no data`);
      for (const [role, m] of Object.entries(a.mappings ?? {})) {
        const col = m.value ?? '';
        if (!series.some((s) => s.columns.includes(col) && s.values.some((r) => r[s.columns.indexOf(col)] !== null))) {
          report.failures.push(`${file} ${what}: mapping ${role} → column "${col}" has no value`);
        }
      }
    }
  }
  return report;
}
