/**
 * Evaluation on a labelled capture: the wiring behind `wardwatch evaluate <capture> --labels <file>`.
 *
 *   capture → replayCapture (decode → flows → features → Detector with the store's models) → scores + alerts
 *   labels (simulator JSON) → evaluateDetections → per attack kind and overall
 *
 * What is measured, and how, is defined in src/detect/evaluate.ts. Windows of devices still in learning mode are not
 * scored and so are left out of the window-level metrics. Devices an attack involves besides its actor — its
 * labelled related devices, and the devices the attacking device reached during the attack on a peer:port it had not
 * used before (scan targets, flood victims) or its DNS resolver — are "affected" until two windows after the attack: their windows then are
 * neither positive nor benign and their alerts not false (src/detect/evaluate.ts). `learning_windows` says how many there were, and an attack
 * on such a device cannot be detected (the report lists those as `unscored_attacks`).
 */
import { readFileSync } from 'node:fs';
import { replayCapture, type AnalyseOptions } from './replay.js';
import { evaluateDetections, selectBackendFor, type AttackLabel, type DetectConfig, type EvaluationReport } from './detect/index.js';
import type { Alert } from './records/alert.js';
import { ConfigError } from './errors.js';
import type { SimulationLabels } from './simulate/labels.js';

/** The floors the test suite holds the detector to (issue 7). */
export const EVALUATION_FLOORS = { max_delay_windows: 3, max_false_alerts_per_device_day: 1 } as const;

export interface CaptureEvaluation {
  capture: string;
  report: EvaluationReport;
  window_s: number;
  windows_scored: number;
  learning_windows: number;
  /** Labelled attacks whose device had no scored window during the attack (learning mode): undetectable here. */
  unscored_attacks: string[];
  alerts: Alert[];
  /** Per labelled attack: id, kind, device, detected, delay in windows. */
  attacks: { id: string; kind: string; device_id: string; detected: boolean; delay_windows: number | null }[];
  floors: { passed: boolean; failures: string[] };
}

/** Reads and checks a simulator labels file. */
export function readLabels(file: string): SimulationLabels {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('--labels', `cannot read ${file} as JSON: ${(err as Error).message}`, { cause: err });
  }
  const l = raw as Partial<SimulationLabels>;
  if (!l || l.generator !== 'wardwatch-simulate' || !Array.isArray(l.attacks) || !Array.isArray(l.devices)) {
    throw new ConfigError('--labels', `${file} is not a wardwatch simulator labels file (generator "wardwatch-simulate", attacks, devices)`);
  }
  for (const a of l.attacks) {
    if (typeof a?.kind !== 'string' || typeof a.device_id !== 'string' || !Number.isFinite(a.start) || !Number.isFinite(a.end)) {
      throw new ConfigError('--labels', `${file}: attack ${JSON.stringify(a)} lacks kind, device_id, start or end`);
    }
  }
  return l as SimulationLabels;
}

/** Checks a report against the floors; returns what failed, in words. */
export function checkFloors(evaluation: Pick<CaptureEvaluation, 'attacks' | 'report'>, floors = EVALUATION_FLOORS): { passed: boolean; failures: string[] } {
  const failures: string[] = [];
  for (const a of evaluation.attacks) {
    if (!a.detected) failures.push(`${a.id} ${a.kind} on ${a.device_id}: not detected`);
    else if ((a.delay_windows ?? Infinity) > floors.max_delay_windows) failures.push(`${a.id} ${a.kind} on ${a.device_id}: detected after ${a.delay_windows} windows (floor ${floors.max_delay_windows})`);
  }
  const fa = evaluation.report.false_alerts_per_device_day;
  if (fa > floors.max_false_alerts_per_device_day) failures.push(`${fa.toFixed(2)} false alerts per device-day on benign traffic (floor ${floors.max_false_alerts_per_device_day})`);
  return { passed: failures.length === 0, failures };
}

/** Replays `capture` through the detector with the models of `config.models_dir` and evaluates it against `labels`. */
export interface EvaluateOptions extends Pick<AnalyseOptions, 'onProgress' | 'features' | 'inventoryFile'> {
  /**
   * Measure only from this time (epoch seconds): the whole capture is replayed (the detector sees everything), but
   * windows before it and alerts that end before it are left out. For a capture that starts with every device booting
   * (the simulator's), a steady-state measurement starts after the boot aftermath.
   */
  from?: number;
}

export async function evaluateCapture(capture: string, labels: SimulationLabels, config: DetectConfig, opts: EvaluateOptions = {}): Promise<CaptureEvaluation> {
  const { from = -Infinity, ...options } = opts;
  const scored: { device_id: string; window_start: number; window_end: number; score: number }[] = [];
  let learning = 0;
  let windowS = NaN;
  await selectBackendFor(config, 'score');
  // Devices an attacking device reached during its attack on a peer:port it had not used before the attack (scan and
  // lateral-movement targets, flood victims) or on DNS (the resolver a tunnel goes through): their alerts then are
  // consequences of the attack, not false alerts.
  const attackers = new Map<string, { start: number; end: number }[]>();
  for (const a of labels.attacks) attackers.set(a.device_id, [...(attackers.get(a.device_id) ?? []), { start: a.start, end: a.end }]);
  const before = new Map<string, Set<string>>();
  const reached: AttackLabel[] = [];
  const flows: { ts: number; orig: string; resp: string; port: number }[] = [];
  const result = await replayCapture(capture, config, {
    ...options,
    onFlow: (f) => {
      if (attackers.has(f.orig_device) && f.resp_device && f.resp_device !== f.orig_device) flows.push({ ts: f.ts, orig: f.orig_device, resp: f.resp_device, port: f.resp_p });
    },
    sinks: {
      onScores: (scores) => {
        for (const s of scores) {
          if (Number.isNaN(windowS)) windowS = s.window_end - s.window_start;
          if (s.window_start < from) continue;
          if (s.learning) learning++;
          else scored.push({ device_id: s.device_id, window_start: s.window_start, window_end: s.window_end, score: s.score });
        }
      },
    },
  });
  const attackLabels: AttackLabel[] = labels.attacks.map((a) => ({ kind: a.kind, device_id: a.device_id, start: a.start, end: a.end }));
  // Devices an attack involves besides its actor (flood victims, ARP-spoof targets, the brute-force intruder).
  flows.sort((a, b) => a.ts - b.ts);
  for (const f of flows) {
    const key = `${f.resp}|${f.port}`;
    const known = before.get(f.orig) ?? new Set<string>();
    before.set(f.orig, known);
    const during = (attackers.get(f.orig) ?? []).find((r) => f.ts >= r.start && f.ts <= r.end);
    // New peer:port pairs (scan targets) and the servers a flood or tunnel goes through (DNS for a tunnel).
    if (during && (!known.has(key) || f.port === 53)) reached.push({ kind: 'reached', device_id: f.resp, start: during.start, end: during.end + 2 * windowS });
    else if (!during) known.add(key);
  }
  const affected: AttackLabel[] = [
    ...labels.attacks.flatMap((a) => a.related_device_ids.map((id) => ({ kind: a.kind, device_id: id, start: a.start, end: a.end + 2 * windowS }))),
    ...reached,
  ];
  const report = evaluateDetections(scored, result.alerts.filter((a) => a.ts >= from), attackLabels, windowS, affected);
  const delays = new Map<string, (number | null)[]>(Object.entries(report.per_kind).map(([k, r]) => [k, [...r.delays_windows]]));
  const attacks = labels.attacks.map((a) => {
    const d = delays.get(a.kind)?.shift() ?? null;
    return { id: a.id, kind: a.kind, device_id: a.device_id, detected: d !== null, delay_windows: d };
  });
  const unscored = labels.attacks
    .filter((a) => !scored.some((w) => w.device_id === a.device_id && w.window_start < a.end && a.start < w.window_end))
    .map((a) => `${a.id} ${a.kind} on ${a.device_id}`);
  const evaluation = { capture, report, window_s: windowS, windows_scored: scored.length, learning_windows: learning, unscored_attacks: unscored, alerts: result.alerts, attacks };
  return { ...evaluation, floors: checkFloors(evaluation) };
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** The table `wardwatch evaluate` prints: per kind and overall, then false alerts and the floors. */
export function formatEvaluation(e: CaptureEvaluation, names: ReadonlyMap<string, string> = new Map()): string {
  const rows: string[][] = [['kind', 'attacks', 'detected', 'delay (windows)', 'precision', 'recall', 'ROC-AUC', 'attack windows']];
  const delayText = (d: (number | null)[]) => d.map((x) => (x === null ? 'missed' : String(x))).join(', ');
  for (const [kind, r] of Object.entries(e.report.per_kind)) {
    rows.push([kind, String(r.attacks), `${r.detected}/${r.attacks}`, delayText(r.delays_windows), fmt(r.precision), fmt(r.recall), fmt(r.roc_auc), String(r.positive_windows)]);
  }
  const o = e.report.overall;
  rows.push(['overall', String(o.attacks), `${o.detected}/${o.attacks}`, `max ${Math.max(0, ...o.delays_windows.filter((d): d is number => d !== null))}`, fmt(o.precision), fmt(o.recall), fmt(o.roc_auc), String(o.positive_windows)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  out.push(
    '',
    `benign: ${fmt(e.report.benign_device_days, 2)} device-days monitored (wall clock); ${e.report.false_alerts} false alerts = ${fmt(e.report.false_alerts_per_device_day, 2)} per device-day` +
      ` (per active device-day, counting only the ${e.report.benign_windows} benign windows with traffic = ${fmt(e.report.benign_active_device_days, 2)} device-days: ${fmt(e.report.false_alerts_per_active_device_day, 2)})`,
    `windows: ${e.windows_scored} scored, ${e.learning_windows} in learning mode (not scored; window ${e.window_s} s)`,
  );
  const byId = new Map(e.alerts.map((a) => [a.alert_id, a]));
  for (const id of e.report.false_alert_ids) {
    const a = byId.get(id);
    if (a) out.push(`false alert: ${names.get(a.device_id) ?? a.device_id} ${new Date(a.since * 1000).toISOString()} .. ${new Date(a.ts * 1000).toISOString()} (${a.severity}) ${a.summary}`);
  }
  if (e.unscored_attacks.length) out.push(`attacks on devices in learning mode (no model scored them): ${e.unscored_attacks.map((a) => a.replace(/mac:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}/g, (m) => names.get(m) ?? m)).join('; ')}`);
  out.push(
    e.floors.passed
      ? `floors: passed (every attack detected within ${EVALUATION_FLOORS.max_delay_windows} windows, ≤ ${EVALUATION_FLOORS.max_false_alerts_per_device_day} false alert per device-day)`
      : `floors: FAILED: ${e.floors.failures.map((f) => f.replace(/mac:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}/g, (m) => names.get(m) ?? m)).join('; ')}`,
  );
  return `${out.join('\n')}\n`;
}
