/**
 * The forensic replay report: ONE self-contained HTML file a forensic analyst opens offline. Contents, top to bottom:
 * the capture's summary, per-device anomaly score timelines (score = reconstruction error ÷ threshold, the threshold
 * at 1, alert markers), the alert list with explanations, and the device inventory — with each device's medical
 * identity (what its HL7, DICOM, MQTT and DHCP traffic says it is: applications, message types, AE titles, equipment
 * ids; records/device.ts `AppIdentity`, identity fields only, never a patient field).
 *
 * Design:
 * - Rendered here, server-side, as static HTML + inline SVG; the page has NO script at all. The strings it shows
 *   (DHCP host names, vendor class ids, peers) come off the wire and are attacker-controlled: every text goes through
 *   `esc()`, and a Content-Security-Policy (`default-src 'none'`, inline styles only) makes the browser refuse any
 *   script, request or resource even if something slipped through. Static markup also prints, diffs and archives
 *   well, and opens the same in any browser years later.
 * - The data are what the pipeline produced in this run (the detector's `WindowScore`s and `Alert`s as they were
 *   handed to the sinks, the inventory at capture end): nothing is recomputed here.
 * - Size: one SVG path per device (contiguous windows joined, gaps broken), dots only for windows over the
 *   threshold; about 10 bytes per scored window.
 *
 * This module imports only records: the CLI maps its replay result into `ReportSummary`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { incidentCounts, incidentSummary, isDetection, type Alert, type Severity, type WindowScore } from '../../records/alert.js';
import { appIdentityRows, type InventoryEntry } from '../../records/device.js';

/** What the report says about the capture and the run (filled by the caller from its replay result). */
export interface ReportSummary {
  file: string;
  size_bytes: number;
  packets: number;
  /** Packet-time range, seconds since the epoch (NaN when the capture had no packets). */
  first_ts: number;
  last_ts: number;
  /** Frames per link type, keyed by a readable name (`EN10MB (1)`). */
  link_types: Record<string, number>;
  /** Malformed or skipped input per reason (only non-zero ones), keyed `capture: reason` / `decode: reason`. */
  malformed: Record<string, number>;
  flows: number;
  devices: number;
  windows: number;
  windows_scored: number;
  run_id: string;
  sensor_id: string;
  models_dir: string;
  backend: string;
  /**
   * Why the capture file was not read to its end (cut in the middle of a record, gzip cut short), when it was not:
   * shown above the summary, since every number below covers only what came before the cut.
   */
  cut_short?: string;
  /**
   * `detect.startup_grace_s` of the run: windows ending this long after the first window the detector saw were
   * scored but could not alert (shaded on the charts). Absent: not shaded.
   */
  startup_grace_s?: number;
  /** Wall-clock time the report was written (ISO-8601); the only thing that differs between two replays. */
  generated_at: string;
}

export interface ReportInput {
  summary: ReportSummary;
  inventory: readonly InventoryEntry[];
  /** One per incident (alert id), in its latest state. */
  alerts: readonly Alert[];
  scores: readonly WindowScore[];
  /** Alert records received (every line of alerts.jsonl: incidents and their updates); default: one per incident. */
  records?: readonly Pick<Alert, 'alert_id' | 'kind' | 'ts'>[];
}

/** Collects what the detector hands to the sinks during a replay (hook it beside the other sinks). */
export class ReportCollector {
  readonly scores: WindowScore[] = [];
  readonly alerts: Alert[] = [];
  /** Every alert record received (id, kind, time): what the incident counts are counted from. */
  private readonly records: Pick<Alert, 'alert_id' | 'kind' | 'ts'>[] = [];
  private readonly seen = new Map<string, number>(); // alert id → row

  onScores(scores: readonly WindowScore[]): void {
    for (const s of scores) this.scores.push(s);
  }

  onAlerts(alerts: readonly Alert[]): void {
    // One row per alert id: a redelivered alert is one alert, and an incident's update (same id, later window,
    // e.g. escalated severity) replaces the row it updates, in place.
    for (const a of alerts) {
      this.records.push({ alert_id: a.alert_id, kind: a.kind, ts: a.ts });
      const at = this.seen.get(a.alert_id);
      if (at === undefined) {
        this.seen.set(a.alert_id, this.alerts.length);
        this.alerts.push(a);
      } else if (a.ts >= (this.alerts[at] as Alert).ts) {
        this.alerts[at] = a;
      }
    }
  }

  write(file: string, summary: ReportSummary, inventory: readonly InventoryEntry[]): number {
    const html = renderReport({ summary, inventory, alerts: this.alerts, scores: this.scores, records: this.records });
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, html);
    return Buffer.byteLength(html);
  }
}

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const SEVERITY_COLOUR: Record<Severity, string> = { info: '#607d8b', low: '#2e7d32', medium: '#f9a825', high: '#ef6c00', critical: '#c62828' };

function time(ts: number): string {
  if (!Number.isFinite(ts)) return '—';
  return new Date(Math.round(ts * 1000)).toISOString().slice(0, 19).replace('T', ' ');
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) return v.toExponential(2);
  return Number.isInteger(v) ? int(v) : v.toFixed(a < 10 ? 2 : 1);
}

/** Model kind of a device in this run: from the scores the detector produced for it (last one wins). */
function modelKinds(scores: readonly WindowScore[]): Map<string, { kind: 'device' | 'class' | 'learning'; model: string }> {
  const out = new Map<string, { kind: 'device' | 'class' | 'learning'; model: string }>();
  for (const s of scores) {
    if (s.learning || s.model === '') out.set(s.device_id, { kind: 'learning', model: '' });
    else out.set(s.device_id, { kind: s.model.startsWith('class:') ? 'class' : 'device', model: s.model });
  }
  return out;
}

interface DeviceSeries {
  device_id: string;
  scores: WindowScore[];
  max: number;
  /** Time spans (merged) of the device's windows in learning mode: no model scored them, no anomaly alert. */
  learning: [number, number][];
}

/** Periods the charts shade: when a score over the line could not raise an alert, and why. */
interface ChartShading {
  /** Start-up grace: [first window's start, + startup_grace_s]. */
  grace?: [number, number];
}

/** Windows' time spans merged where they touch or overlap, in time order. */
function mergeSpans(spans: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1] + 1e-6) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const CHART = { w: 760, h: 130, left: 44, right: 8, top: 8, bottom: 22 };

/** Log-scale y axis, in powers of ten: from 0.1 (lower scores sit on the axis) up to at least 10 and the highest score. */
function yRange(max: number): { lo: number; hi: number } {
  return { lo: -1, hi: Math.max(1, Math.ceil(Math.log10(Math.max(max, 1e-9)) - 1e-9)) };
}

/**
 * Highest score per pixel column (NaN where the device had no window), for charts with more windows than pixels.
 * A window counts in every column its span overlaps, so a lone window is never lost between columns.
 */
export function columnMax(scores: readonly WindowScore[], t0: number, span: number, columns: number): Float64Array {
  const out = new Float64Array(columns).fill(NaN);
  for (const s of scores) {
    const a = Math.max(0, Math.min(columns - 1, Math.floor(((s.window_start - t0) / span) * columns)));
    const b = Math.max(a, Math.min(columns - 1, Math.ceil(((s.window_end - t0) / span) * columns) - 1));
    for (let c = a; c <= b; c++) if (!(out[c]! >= s.score)) out[c] = s.score;
  }
  return out;
}

function chart(series: DeviceSeries, alerts: readonly Alert[], t0: number, t1: number, anchor: (id: string) => string, shading: ChartShading = {}): string {
  const { w, h, left, right, top, bottom } = CHART;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const span = t1 > t0 ? t1 - t0 : 1;
  const { lo, hi } = yRange(series.max);
  const x = (t: number): number => left + ((t - t0) / span) * pw;
  const y = (score: number): number => {
    const l = Math.min(hi, Math.max(lo, Math.log10(Math.max(score, 1e-12))));
    return top + ph - ((l - lo) / (hi - lo)) * ph;
  };
  const parts: string[] = [];
  // Shading first (under the grid and the score): the start-up grace, then the device's learning spans.
  const band = (a: number, b: number, cls: string, title: string): void => {
    const xa = Math.max(left, x(a));
    const xb = Math.min(w - right, x(b));
    if (xb - xa < 0.05) return;
    parts.push(`<path d="M${xa.toFixed(1)} ${top}H${xb.toFixed(1)}V${top + ph}H${xa.toFixed(1)}Z" class="${cls}"><title>${esc(title)}</title></path>`);
  };
  if (shading.grace) band(shading.grace[0], shading.grace[1], 'grace', `start-up grace until ${time(shading.grace[1])}: scored, never alerted (every peer looks new at start)`);
  for (const [a, b] of series.learning) band(a, b, 'learning', `learning ${time(a)} — ${time(b)}: no model for this device yet, not scored, no anomaly alert`);
  // Axes: a grid line per power of ten, labelled; time ticks at both ends.
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e).toFixed(1);
    parts.push(`<line x1="${left}" x2="${w - right}" y1="${yy}" y2="${yy}" class="grid"/><text x="${left - 4}" y="${yy}" class="ylab">${esc(num(10 ** e))}</text>`);
  }
  const yt = y(1).toFixed(1);
  parts.push(`<line x1="${left}" x2="${w - right}" y1="${yt}" y2="${yt}" class="threshold"><title>threshold (score 1)</title></line>`);
  parts.push(`<text x="${left + 2}" y="${h - 6}" class="xlab">${esc(time(t0))}</text><text x="${w - right}" y="${h - 6}" class="xlab end">${esc(time(t1))}</text>`);
  // The score as steps: each window a horizontal segment over its time span; contiguous windows joined, a gap (no
  // window: the device was silent) breaks the line. Windows over the threshold get a dot. When there are more windows
  // than pixels (long captures), each pixel column shows the highest score of its windows: spikes survive, the file
  // stays bounded (≤ one segment and one dot per column and device).
  const cols = series.scores.length > pw ? columnMax(series.scores, t0, span, pw) : undefined;
  let d = '';
  const over: string[] = [];
  if (cols) {
    let prev = false;
    for (let c = 0; c < cols.length; c++) {
      const v = cols[c]!;
      if (Number.isNaN(v)) {
        prev = false;
        continue;
      }
      const py = y(v).toFixed(1);
      d += `${prev ? 'L' : 'M'}${left + c} ${py}H${left + c + 1}`;
      prev = true;
      if (v > 1) over.push(`<circle cx="${left + c + 0.5}" cy="${py}" r="1.8" class="over"/>`);
    }
  } else {
    let prevEnd = NaN;
    for (const s of series.scores) {
      const xs = x(s.window_start).toFixed(1);
      const xe = x(s.window_end).toFixed(1);
      const py = y(s.score).toFixed(1);
      d += `${Math.abs(s.window_start - prevEnd) < 1e-6 ? 'L' : 'M'}${xs} ${py}H${xe}`;
      prevEnd = s.window_end;
      if (s.score > 1) over.push(`<circle cx="${xe}" cy="${py}" r="1.8" class="over"/>`);
    }
  }
  parts.push(`<path d="${d}" class="score"/>`, ...over);
  for (const a of alerts) {
    const ax = x(a.ts).toFixed(1);
    parts.push(
      `<a href="#${anchor(a.alert_id)}"><line x1="${ax}" x2="${ax}" y1="${top}" y2="${top + ph}" stroke="${SEVERITY_COLOUR[a.severity]}" class="marker"/>` +
        `<path d="M${ax} ${top}l-4 -6h8z" fill="${SEVERITY_COLOUR[a.severity]}" transform="translate(0 6)"><title>${esc(`${time(a.ts)} ${a.severity}: ${a.summary}`)}</title></path></a>`,
    );
  }
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(`anomaly score of ${series.device_id}`)}">${parts.join('')}</svg>`;
}

function deviceLabel(e: InventoryEntry | undefined, id: string): string {
  const name = e?.name || e?.dhcp_hostname || '';
  return name ? `${name} (${id})` : id;
}

/** The whole report as one HTML document. */
export function renderReport(input: ReportInput): string {
  const { summary, inventory, alerts, scores } = input;
  const byId = new Map(inventory.map((e) => [e.device_id, e]));
  const kinds = modelKinds(scores);
  const devIndex = new Map<string, number>();
  const devAnchor = (id: string): string => {
    let i = devIndex.get(id);
    if (i === undefined) devIndex.set(id, (i = devIndex.size));
    return `dev-${i}`;
  };
  inventory.forEach((e) => devAnchor(e.device_id));
  // Alerts in packet-time order (device, id break ties): the order and anchors do not depend on how the detector's
  // batches fell, so a replay at another speed gives the same file.
  const sortedAlerts = [...alerts].sort((a, b) => a.ts - b.ts || a.device_id.localeCompare(b.device_id) || a.alert_id.localeCompare(b.alert_id));
  const alertIndex = new Map(sortedAlerts.map((a, i) => [a.alert_id, i]));
  const alertAnchor = (id: string): string => `alert-${alertIndex.get(id) ?? 0}`;

  // Timelines: devices the detector scored with a model, by their highest score.
  const series = new Map<string, DeviceSeries>();
  const learningSpans = new Map<string, [number, number][]>();
  for (const s of scores) {
    if (s.learning || !Number.isFinite(s.score)) {
      let spans = learningSpans.get(s.device_id);
      if (!spans) learningSpans.set(s.device_id, (spans = []));
      spans.push([s.window_start, s.window_end]);
      continue;
    }
    let ds = series.get(s.device_id);
    if (!ds) series.set(s.device_id, (ds = { device_id: s.device_id, scores: [], max: 0, learning: [] }));
    ds.scores.push(s);
    if (s.score > ds.max) ds.max = s.score;
  }
  const charted = [...series.values()].sort((a, b) => b.max - a.max || a.device_id.localeCompare(b.device_id));
  for (const ds of charted) {
    ds.scores.sort((a, b) => a.window_start - b.window_start);
    ds.learning = mergeSpans(learningSpans.get(ds.device_id) ?? []);
  }
  const t0 = Number.isFinite(summary.first_ts) ? summary.first_ts : Math.min(...scores.map((s) => s.window_start));
  const t1 = Number.isFinite(summary.last_ts) ? summary.last_ts : Math.max(...scores.map((s) => s.window_end));
  // The start-up grace counts from the first window the detector saw (src/detect/detector.ts, startup_grace_s).
  const firstWindow = scores.reduce((m, s) => Math.min(m, s.window_start), Infinity);
  const shading: ChartShading = summary.startup_grace_s && Number.isFinite(firstWindow) ? { grace: [firstWindow, firstWindow + summary.startup_grace_s] } : {};
  const alertsBy = new Map<string, Alert[]>();
  for (const a of sortedAlerts) {
    if (!isDetection(a)) continue;
    const list = alertsBy.get(a.device_id);
    if (list) list.push(a);
    else alertsBy.set(a.device_id, [a]);
  }
  const incidents = incidentCounts(input.records ?? alerts);

  const kv = (rows: [string, string][]): string => `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
  const counts = (rec: Record<string, number>, none: string): string => {
    const entries = Object.entries(rec).filter(([, n]) => n > 0);
    return entries.length === 0 ? esc(none) : entries.map(([k, n]) => `${esc(k)}: ${int(n)}`).join('<br>');
  };

  const summaryHtml = kv([
    ['file', `<code>${esc(summary.file)}</code>`],
    ['size', esc(`${bytes(summary.size_bytes)} (${int(summary.size_bytes)} bytes)`)],
    ['packets', esc(int(summary.packets))],
    ['time range (UTC)', esc(`${time(summary.first_ts)} — ${time(summary.last_ts)}${Number.isFinite(summary.last_ts - summary.first_ts) ? ` (${((summary.last_ts - summary.first_ts) / 60).toFixed(1)} min)` : ''}`)],
    ['link types', counts(summary.link_types, 'none')],
    ['malformed / skipped input', counts(summary.malformed, 'none')],
    ['flows', esc(int(summary.flows))],
    ['devices', esc(`${int(summary.devices)} (${charted.length} scored by a model, ${summary.devices - charted.length} learning or silent)`)],
    ['feature windows', esc(`${int(summary.windows)} (${int(summary.windows_scored)} scored)`)],
    ['incidents', esc(incidentSummary(incidents))],
    ['run id / sensor', esc(`${summary.run_id || '—'} / ${summary.sensor_id}`)],
    ['models', esc(`${summary.models_dir} (TF.js backend ${summary.backend})`)],
    ['report written', esc(summary.generated_at)],
  ]);

  const chartsHtml =
    charted.length === 0
      ? '<p class="muted">No device was scored by a model in this capture (all devices learning).</p>'
      : charted
          .map((ds) => {
            const e = byId.get(ds.device_id);
            const k = kinds.get(ds.device_id);
            const n = alertsBy.get(ds.device_id)?.length ?? 0;
            return (
              `<section class="device-chart" data-device="${esc(ds.device_id)}"><h3><a href="#${devAnchor(ds.device_id)}">${esc(deviceLabel(e, ds.device_id))}</a>` +
              ` <span class="muted">${esc(`${(e?.device_class ?? 'unknown').replace(/_/g, ' ')} · ${e?.vendor || 'unknown vendor'} · max score ${num(ds.max)} · ${n} alert${n === 1 ? '' : 's'} · ${k?.model ?? ''}`)}</span></h3>` +
              `${chart(ds, alertsBy.get(ds.device_id) ?? [], t0, t1, alertAnchor, shading)}</section>`
            );
          })
          .join('\n');

  const alertRows = sortedAlerts
    .map((a) => {
      const e = byId.get(a.device_id);
      const features = a.top_features.length
        ? `<table class="features"><tr><th>feature</th><th>observed</th><th>expected</th><th>share</th><th>in words</th></tr>${a.top_features
            .map((f) => `<tr><td><code>${esc(f.feature)}</code></td><td class="n">${esc(num(f.observed))}</td><td class="n">${esc(num(f.expected))}</td><td class="n">${esc(`${(f.share * 100).toFixed(0)} %`)}</td><td>${esc(f.text)}</td></tr>`)
            .join('')}</table>`
        : '';
      const extras = [
        a.new_peers.length ? `<div><b>new peers:</b> ${a.new_peers.map((p) => `<code>${esc(p)}</code>`).join(', ')}</div>` : '',
        a.new_dst_ports.length ? `<div><b>new destination ports:</b> ${esc(a.new_dst_ports.join(', '))}</div>` : '',
        a.kind === 'anomaly'
          ? `<div class="muted">${esc(`since ${time(a.since)} · ${a.windows_over} of ${a.windows_considered} windows over the threshold · threshold ${num(a.threshold)} · model ${a.model} · alert ${a.alert_id}`)}</div>`
          : isDetection(a)
            ? `<div class="muted">${esc(`${a.kind.replace(/_/g, ' ')} (behavioural rule, no baseline needed) · since ${time(a.since)} · ${a.windows_over} matching window${a.windows_over === 1 ? '' : 's'} · rule threshold ${num(a.threshold)} · alert ${a.alert_id}`)}</div>`
            : `<div class="muted">${esc(`alert ${a.alert_id}`)}</div>`,
      ].join('');
      return (
        `<tbody class="alert" id="${alertAnchor(a.alert_id)}" data-alert-id="${esc(a.alert_id)}"><tr>` +
        `<td class="nowrap">${esc(time(a.ts))}</td><td><span class="sev" style="background:${SEVERITY_COLOUR[a.severity]}">${esc(a.severity)}</span></td>` +
        `<td><a href="#${devAnchor(a.device_id)}">${esc(a.device_name || e?.dhcp_hostname || a.device_id)}</a><div class="muted">${esc(`${a.vendor || 'unknown vendor'} · ${a.device_class.replace(/_/g, ' ')} · ${a.criticality}`)}</div></td>` +
        `<td class="n">${isDetection(a) ? esc(num(a.score)) : ''}</td><td>${esc(a.summary)}</td></tr>` +
        `<tr class="explain"><td></td><td colspan="4">${features}${extras}</td></tr></tbody>`
      );
    })
    .join('\n');

  const invRows = inventory
    .map((e) => {
      const k = kinds.get(e.device_id);
      const kind = k?.kind ?? (e.learning ? 'learning' : 'none');
      // What the device's HL7, DICOM, MQTT and DHCP traffic says about it (identity fields only: never a patient field).
      const identity = e.app_identity ? appIdentityRows(e.app_identity) : [];
      const identityRow =
        identity.length === 0
          ? ''
          : `\n<tr class="identity" data-identity-of="${esc(e.device_id)}"><td></td><td colspan="7"><b>medical identity</b>${kv(identity.map(([label, text]): [string, string] => [label, esc(text)]))}</td></tr>`;
      return (
        `<tr id="${devAnchor(e.device_id)}" data-device="${esc(e.device_id)}"><td><code>${esc(e.device_id)}</code>${e.name ? `<div>${esc(e.name)}</div>` : ''}${e.location ? `<div class="muted">${esc(e.location)}</div>` : ''}</td>` +
        `<td>${e.ips.map((ip) => esc(ip)).join('<br>')}</td><td>${esc(e.vendor)}</td>` +
        `<td>${esc(e.device_class.replace(/_/g, ' '))}<div class="muted">${esc(e.class_source === 'inventory' ? 'inventory file' : `guess ${(e.class_confidence * 100).toFixed(0)} %`)}</div>${e.class_evidence ? `<div class="muted">${esc(e.class_evidence)}</div>` : ''}</td>` +
        `<td>${esc(e.dhcp_hostname)}${e.dhcp_vendor_class ? `<div class="muted">${esc(e.dhcp_vendor_class)}</div>` : ''}</td><td>${esc(e.protocols.join(', '))}</td>` +
        `<td class="nowrap">${esc(time(e.first_seen))}<br>${esc(time(e.last_seen))}</td><td>${esc(kind)}${k?.model ? `<div class="muted">${esc(k.model)}</div>` : ''}</td></tr>` +
        identityRow
      );
    })
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`wardwatch replay report — ${path.basename(summary.file)}`)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#1c2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:14px;margin:12px 0 2px}
table{border-collapse:collapse}th,td{text-align:left;vertical-align:top;padding:3px 8px}
table.kv th{color:#57606a;font-weight:normal;white-space:nowrap}
table.list{width:100%}table.list>thead th{background:#f3f5f7;border-bottom:1px solid #d0d7de;position:sticky;top:0}
table.list>tbody>tr>td,#inventory td{border-top:1px solid #eaeef2}tr.explain td,tr.identity td{border-top:none!important;padding-top:0}
tr.identity table.kv{font-size:12px;margin:0 0 4px}tr.identity table.kv td{border-top:none}
table.features{margin:2px 0 4px;font-size:12px}table.features th{color:#57606a;font-weight:normal;border-bottom:1px solid #eaeef2}
.n{text-align:right;font-variant-numeric:tabular-nums}.nowrap{white-space:nowrap}.muted{color:#6e7781;font-size:12px}code{font-size:12px}
.sev{color:#fff;border-radius:3px;padding:0 6px;font-size:12px;text-transform:uppercase}
svg.chart{display:block;max-width:100%;height:auto;background:#fbfcfd;border:1px solid #eaeef2}
svg .grid{stroke:#e4e8ec;stroke-width:1}svg .threshold{stroke:#c62828;stroke-width:1.2;stroke-dasharray:5 3}
svg .score{fill:none;stroke:#1f5fa8;stroke-width:1.2}svg .grace{fill:#e9ecf1}svg .learning{fill:#fcf0d2}
.swatch{display:inline-block;width:12px;height:10px;border:1px solid #c9ced6;vertical-align:middle}.swatch.grace{background:#e9ecf1}.swatch.learning{background:#fcf0d2}svg .over{fill:#c62828}svg .marker{stroke-width:1;opacity:.7}
svg text{font-size:10px;fill:#57606a}svg .ylab{text-anchor:end;dominant-baseline:middle}svg .xlab.end{text-anchor:end}
p.warning{background:#fff4e5;border:1px solid #e6a23c;border-radius:4px;padding:6px 10px}
a{color:#0b57b0;text-decoration:none}a:hover{text-decoration:underline}
@media print{table.list>thead th{position:static}}
</style>
</head>
<body>
<h1>wardwatch forensic replay report</h1>
<p class="muted">Score = the model's reconstruction error ÷ its threshold: above 1 (the dashed red line) a window is anomalous; an alert fires when enough recent windows are over it. Times are packet time, UTC. Everything here comes from this replay's own output (windows scored, alerts raised, inventory at capture end).</p>
<h2 id="summary">Capture</h2>
${summary.cut_short ? `<p class="warning" id="capture-cut-short"><strong>Capture cut short:</strong> ${esc(summary.cut_short)}. Everything in this report covers the packets before the cut only.</p>\n` : ''}${summaryHtml}
<h2 id="timelines">Anomaly score per device</h2>
<p class="muted">One chart per device the detector scored with a model (device or class baseline), highest score first; log scale; markers are anomaly alerts (hover for the summary, click for the alert).</p>
${charted.length > 0 ? `<p class="muted legend" id="chart-legend">${shading.grace ? `<span class="swatch grace"></span> start-up grace (the first ${esc(int(summary.startup_grace_s ?? 0))} s the detector saw, to ${esc(time(shading.grace[1]))}): the flow table and inventory start empty, so every peer and session looks new; windows are scored and drawn but never count toward an alert. ` : ''}<span class="swatch learning"></span> learning: the device had no model yet (its own, or its class's after enough windows), so its windows were not scored and could not raise an anomaly alert (behavioural alerts still fire). Outside these, a window over the line alerts only when enough recent windows are over it too.</p>` : ''}
${chartsHtml}
<h2 id="alerts">Incidents (${alerts.length})</h2>
${
  alerts.length === 0
    ? '<p class="muted">No incidents.</p>'
    : `<p class="muted">One row per incident (one alert id: a device and a kind, since its first window), in its latest state. alerts.jsonl holds its ${esc(int(incidents.records))} alert records: each incident's first, and ${esc(int(incidents.updates))} updates (a later window of the same incident, e.g. a raised severity).</p>\n<table class="list" id="alert-list"><thead><tr><th>time (UTC)</th><th>severity</th><th>device</th><th class="n">score</th><th>what changed</th></tr></thead>\n${alertRows}\n</table>`
}
<h2 id="devices">Device inventory (${inventory.length})</h2>
<table class="list" id="inventory"><thead><tr><th>device</th><th>IPs</th><th>vendor</th><th>class</th><th>DHCP host name</th><th>protocols</th><th>first / last seen</th><th>model</th></tr></thead>
<tbody>
${invRows}
</tbody></table>
</body>
</html>
`;
}
