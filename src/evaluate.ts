/**
 * Evaluation on a labelled capture: the wiring behind `wardwatch evaluate <capture> --labels <file>`.
 *
 *   [train_before: capture up to T → trainFromCapture → a temporary model store]
 *   capture → replayCapture (decode → flows → features → Detector with the store's models) → scores + alerts
 *   labels (generic or simulator JSON, src/records/labels.ts) → evaluateDetections → per attack, per kind, overall
 *
 * What is measured, and how, is defined in src/detect/evaluate.ts. Windows of devices still in learning mode are not
 * scored and so are left out of the window-level metrics. Devices an attack involves besides its actor — its
 * labelled related devices, and the devices the attacking device reached during the attack on a peer:port it had not
 * used before (scan targets, flood victims) or its DNS resolver — are "affected" until two windows after the attack: their windows then are
 * neither positive nor benign and their alerts not false (src/detect/evaluate.ts). `learning_windows` says how many there were, and an attack
 * on such a device cannot be detected (the report lists those as `unscored_attacks`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { replayCapture, type AnalyseOptions } from './compose/embedded.js';
import { evaluateDetections, selectBackendFor, type AttackLabel, type AttackReport, type DetectConfig, type EvaluationReport } from './detect/index.js';
import type { Alert } from './records/alert.js';
import type { InventoryEntry } from './records/device.js';
import type { EvaluationAttack, EvaluationDevice, EvaluationLabels } from './records/labels.js';
import { formatMac, parseMac } from './records/packet.js';
import { ConfigError } from './errors.js';
import type { SimulationLabels } from './simulate/labels.js';
import { trainFromCapture, type TrainFromCaptureResult } from './train.js';

/**
 * The floors the test suite holds the detector to: every attack detected within 3 windows, except slow and periodic
 * ones (kinds naming a beacon or a slow exfiltration), detected within 10 minutes of their start; ≤ 1 false alert per
 * device-day.
 */
export const EVALUATION_FLOORS = { max_delay_windows: 3, max_false_alerts_per_device_day: 1, slow_kinds: /beacon|slow_exfil/, max_delay_slow_s: 600 } as const;

export interface CaptureEvaluation {
  capture: string;
  labels_format: EvaluationLabels['format'];
  /** Measured from (epoch s; -Infinity = the capture's start). */
  from: number;
  report: EvaluationReport;
  window_s: number;
  windows_scored: number;
  learning_windows: number;
  /** Labelled attacks whose device had no scored window during the attack (learning mode): undetectable here. */
  unscored_attacks: string[];
  alerts: Alert[];
  /** Per labelled attack (src/detect/evaluate.ts `AttackReport`). */
  attacks: AttackReport[];
  /** The models trained for this evaluation (`train_before`), when it trained. */
  training?: Pick<TrainFromCaptureResult, 'from' | 'to' | 'windows_in_range'> & { models: number; refused: number };
  floors: { passed: boolean; failures: string[] };
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number (epoch seconds)');
const GenericLabelsSchema = z.looseObject({
  train_end: finite.optional(),
  end: finite.optional(),
  devices: z
    .array(
      z
        .looseObject({ name: z.string().min(1), kind: z.string().optional(), ip: z.string().optional(), mac: z.string().optional() })
        .refine((d) => d.ip !== undefined || d.mac !== undefined, 'give a mac or an ip'),
    )
    .min(1),
  attacks: z.array(
    z
      .looseObject({ kind: z.string().min(1), device: z.string().optional(), ip: z.string().optional(), mac: z.string().optional(), start: finite, end: finite, note: z.string().optional() })
      .refine((a) => a.device !== undefined || a.ip !== undefined || a.mac !== undefined, 'name its device (a devices[].name) or give its mac or ip')
      .refine((a) => a.end >= a.start, 'end must not be before start'),
  ),
});

/** The wardwatch device id of a labelled host: `mac:…` when the MAC is known, else `ip:…`. */
function labelDeviceId(mac: string | undefined, ip: string | undefined, field: string): string {
  if (mac !== undefined) {
    const m = parseMac(mac);
    if (m < 0) throw new ConfigError(field, `"${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
    return `mac:${formatMac(m)}`;
  }
  return `ip:${(ip ?? '').trim().toLowerCase()}`;
}

/** Normalises generic labels (src/records/labels.ts); throws ConfigError naming the field. */
export function parseGenericLabels(raw: unknown, file = 'labels'): EvaluationLabels {
  const r = GenericLabelsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(['--labels', ...(issue?.path ?? []).map(String)].join('.'), `${file}: ${issue?.message ?? 'invalid'}`);
  }
  const g = r.data;
  const devices: EvaluationDevice[] = g.devices.map((d, i) => ({
    name: d.name,
    device_id: labelDeviceId(d.mac, d.ip, `--labels.devices.${i}.mac`),
    ...(d.mac !== undefined ? { mac: formatMac(parseMac(d.mac)) } : {}),
    ...(d.ip !== undefined ? { ip: d.ip } : {}),
  }));
  const byName = new Map(devices.map((d) => [d.name, d]));
  const attacks: EvaluationAttack[] = g.attacks.map((a, i) => {
    let id: string;
    if (a.device !== undefined) {
      const d = byName.get(a.device);
      if (!d) throw new ConfigError(`--labels.attacks.${i}.device`, `${file}: "${a.device}" is not a devices[].name (${[...byName.keys()].join(', ')})`);
      id = d.device_id;
    } else id = labelDeviceId(a.mac, a.ip, `--labels.attacks.${i}.mac`);
    return { id: `a${i + 1}`, kind: a.kind, device_id: id, related_device_ids: [], start: a.start, end: a.end };
  });
  return {
    format: 'generic',
    ...(g.train_end !== undefined ? { train_end: g.train_end } : {}),
    ...(g.end !== undefined ? { end: g.end } : {}),
    devices,
    attacks,
    slack: { before_s: 10, after_s: 20 },
    device_days: 'listed',
  };
}

/** Normalises simulator labels (src/simulate/labels.ts). */
export function simulatorLabels(l: SimulationLabels): EvaluationLabels {
  return {
    format: 'simulator',
    devices: l.devices.map((d) => ({ name: d.name, device_id: d.device_id, mac: d.mac, ip: d.ip })),
    attacks: l.attacks.map((a) => ({ id: a.id, kind: a.kind, device_id: a.device_id, related_device_ids: [...a.related_device_ids], start: a.start, end: a.end })),
    slack: { before_s: 0, after_s: 0 },
    device_days: 'scored',
  };
}

/** Reads a labels file of either format (src/records/labels.ts). */
export function readLabels(file: string): EvaluationLabels {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('--labels', `cannot read ${file} as JSON: ${(err as Error).message}`, { cause: err });
  }
  const l = raw as Partial<SimulationLabels> | null;
  if (l && typeof l === 'object' && l.generator === 'wardwatch-simulate') {
    if (!Array.isArray(l.attacks) || !Array.isArray(l.devices)) throw new ConfigError('--labels', `${file}: simulator labels without attacks or devices`);
    for (const a of l.attacks) {
      if (typeof a?.kind !== 'string' || typeof a.device_id !== 'string' || !Number.isFinite(a.start) || !Number.isFinite(a.end)) {
        throw new ConfigError('--labels', `${file}: attack ${JSON.stringify(a)} lacks kind, device_id, start or end`);
      }
    }
    return simulatorLabels(l as SimulationLabels);
  }
  if (!l || typeof l !== 'object' || !('devices' in l) || !('attacks' in l)) {
    throw new ConfigError('--labels', `${file} is neither a wardwatch simulator labels file nor generic labels (devices, attacks; see README "Evaluating on your own capture")`);
  }
  return parseGenericLabels(raw, file);
}

/**
 * Maps labelled devices onto the ids the inventory gave them: a device labelled by MAC that the sensor keyed by IP
 * (behind a router), or labelled by IP but keyed by MAC on the segment. Returns the labels with ids replaced.
 */
export function resolveLabelDevices(labels: EvaluationLabels, inventory: readonly InventoryEntry[]): EvaluationLabels {
  const ids = new Set(inventory.map((e) => e.device_id));
  const map = new Map<string, string>();
  for (const d of labels.devices) {
    if (ids.has(d.device_id)) continue;
    const byIp = d.ip === undefined ? undefined : ids.has(`ip:${d.ip}`) ? `ip:${d.ip}` : inventory.find((e) => e.key_kind === 'mac' && e.ips.includes(d.ip as string))?.device_id;
    if (byIp) map.set(d.device_id, byIp);
  }
  if (map.size === 0) return labels;
  const to = (id: string) => map.get(id) ?? id;
  return {
    ...labels,
    devices: labels.devices.map((d) => ({ ...d, device_id: to(d.device_id) })),
    attacks: labels.attacks.map((a) => ({ ...a, device_id: to(a.device_id), related_device_ids: a.related_device_ids.map(to) })),
  };
}

/** Checks a report against the floors; returns what failed, in words. */
export function checkFloors(
  evaluation: { attacks: readonly (Pick<AttackReport, 'id' | 'kind' | 'device_id' | 'detected' | 'delay_windows'> & { delay_s?: number | null })[]; report: Pick<EvaluationReport, 'false_alerts_per_device_day'> },
  floors = EVALUATION_FLOORS,
): { passed: boolean; failures: string[] } {
  const failures: string[] = [];
  for (const a of evaluation.attacks) {
    if (!a.detected) failures.push(`${a.id} ${a.kind} on ${a.device_id}: not detected`);
    else if (floors.slow_kinds.test(a.kind)) {
      if ((a.delay_s ?? Infinity) > floors.max_delay_slow_s) failures.push(`${a.id} ${a.kind} on ${a.device_id}: detected after ${(a.delay_s ?? Infinity).toFixed(0)} s (floor ${floors.max_delay_slow_s} s)`);
    } else if ((a.delay_windows ?? Infinity) > floors.max_delay_windows) failures.push(`${a.id} ${a.kind} on ${a.device_id}: detected after ${a.delay_windows} windows (floor ${floors.max_delay_windows})`);
  }
  const fa = evaluation.report.false_alerts_per_device_day;
  if (fa > floors.max_false_alerts_per_device_day) failures.push(`${fa.toFixed(2)} false alerts per device-day on benign traffic (floor ${floors.max_false_alerts_per_device_day})`);
  return { passed: failures.length === 0, failures };
}

/** Replays `capture` through the detector with the models of `config.models_dir` and evaluates it against `labels`. */
export interface EvaluateOptions extends Pick<AnalyseOptions, 'onProgress' | 'features' | 'flows' | 'devices' | 'inventoryFile'> {
  /**
   * Measure only from this time (epoch seconds): the whole capture is replayed (the detector sees everything), but
   * windows before it and alerts that end before it are left out. For a capture that starts with every device booting
   * (the simulator's), a steady-state measurement starts after the boot aftermath. Default: the labels' `train_end`
   * (generic labels), else the capture's start.
   */
  from?: number;
  /**
   * Train first, on the capture's packets before this time, into a temporary model store (removed afterwards), and
   * evaluate with those models; `config.models_dir` is then not read.
   */
  train_before?: number;
  /** Progress of the training step (`train_before`). */
  onTraining?: (phase: 'start' | 'done', info: { to: number; models?: number }) => void;
}

export async function evaluateCapture(capture: string, labelsIn: EvaluationLabels, configIn: DetectConfig, opts: EvaluateOptions = {}): Promise<CaptureEvaluation> {
  const { train_before: trainBefore, onTraining, from: fromOpt, ...options } = opts;
  let config = configIn;
  let training: CaptureEvaluation['training'];
  let tmp: string | undefined;
  if (trainBefore !== undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'ww-evaluate-models-'));
    config = { ...configIn, models_dir: tmp };
    onTraining?.('start', { to: trainBefore });
    // The capture is read with the same analysis options for training as for the replay (progress shown for both).
    const t = await trainFromCapture(capture, config, { to: trainBefore, ...options });
    const stored = t.models.filter((m) => m.model).length;
    training = { from: t.from, to: t.to, windows_in_range: t.windows_in_range, models: stored, refused: t.models.length - stored };
    onTraining?.('done', { to: trainBefore, models: stored });
  }
  try {
    return await evaluateWith(capture, labelsIn, config, fromOpt ?? labelsIn.train_end ?? trainBefore ?? -Infinity, options, training);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function evaluateWith(
  capture: string,
  labelsIn: EvaluationLabels,
  config: DetectConfig,
  from: number,
  options: Omit<EvaluateOptions, 'train_before' | 'onTraining' | 'from'>,
  training: CaptureEvaluation['training'],
): Promise<CaptureEvaluation> {
  const scored: { device_id: string; window_start: number; window_end: number; score: number }[] = [];
  const learningWindows: { device_id: string; window_start: number }[] = [];
  let windowS = NaN;
  await selectBackendFor(config, 'score');
  // Devices an attacking device reached during its attack on a peer:port it had not used before the attack (scan and
  // lateral-movement targets, flood victims) or on DNS (the resolver a tunnel goes through): their alerts then are
  // consequences of the attack, not false alerts. Attackers are matched by their labelled id and, after the replay,
  // by the id the inventory gave them.
  const labelled = new Set(labelsIn.attacks.map((a) => a.device_id));
  const flows: { ts: number; orig: string; resp: string; port: number }[] = [];
  const result = await replayCapture(capture, config, {
    ...options,
    onFlow: (f) => {
      if (f.resp_device && f.resp_device !== f.orig_device && (labelled.has(f.orig_device) || labelsIn.format === 'generic')) flows.push({ ts: f.ts, orig: f.orig_device, resp: f.resp_device, port: f.resp_p });
    },
    sinks: {
      onScores: (scores) => {
        for (const s of scores) {
          if (Number.isNaN(windowS)) windowS = s.window_end - s.window_start;
          if (s.window_start < from) continue;
          if (s.learning) learningWindows.push(s);
          else scored.push({ device_id: s.device_id, window_start: s.window_start, window_end: s.window_end, score: s.score });
        }
      },
    },
  });
  const labels = resolveLabelDevices(labelsIn, result.inventory);
  const attackers = new Map<string, { start: number; end: number }[]>();
  for (const a of labels.attacks) attackers.set(a.device_id, [...(attackers.get(a.device_id) ?? []), { start: a.start, end: a.end }]);
  const attackLabels: AttackLabel[] = labels.attacks.map((a) => ({ id: a.id, kind: a.kind, device_id: a.device_id, start: a.start, end: a.end }));
  // Devices an attack involves besides its actor (flood victims, ARP-spoof targets, the brute-force intruder).
  const before = new Map<string, Set<string>>();
  const reached: AttackLabel[] = [];
  flows.sort((a, b) => a.ts - b.ts);
  for (const f of flows) {
    if (!attackers.has(f.orig)) continue;
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
  const end = labels.end ?? result.last_ts;
  const report = evaluateDetections(
    scored,
    result.alerts.filter((a) => a.ts >= from),
    attackLabels,
    windowS,
    affected,
    {
      slack: labels.slack,
      ...(labels.device_days === 'listed' ? { benign: { device_ids: labels.devices.map((d) => d.device_id), from: Number.isFinite(from) ? from : result.first_ts, end } } : {}),
    },
  );
  const unscored = labels.attacks
    .filter((a) => !scored.some((w) => w.device_id === a.device_id && w.window_start < a.end && a.start < w.window_end))
    .map((a) => `${a.id} ${a.kind} on ${a.device_id}`);
  const evaluation = {
    capture,
    labels_format: labels.format,
    from,
    report,
    window_s: windowS,
    windows_scored: scored.length,
    learning_windows: learningWindows.length,
    unscored_attacks: unscored,
    alerts: result.alerts,
    attacks: report.per_attack,
    ...(training ? { training } : {}),
  };
  return { ...evaluation, floors: checkFloors(evaluation) };
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/**
 * Benign windows over the threshold per device (devices with ≥ 30 benign windows): the share on the median device
 * and on the worst, and on a quiet and a busy device alike — what "a score means the same on every device" measures.
 */
export function calibrationText(rows: EvaluationReport['benign_over_threshold'], named: (t: string) => string = (t) => t): string {
  const usable = rows.filter((r) => r.windows >= 30).map((r) => ({ ...r, share: r.over / r.windows }));
  if (usable.length === 0) return 'no device with ≥ 30 benign scored windows';
  const sorted = [...usable].sort((a, b) => a.share - b.share);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const worst = sorted[sorted.length - 1]!;
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  return `benign windows over the threshold, per device (${usable.length} devices with ≥ 30 benign windows): median ${pct(median.share)}, worst ${pct(worst.share)} (${named(worst.device_id)}, ${worst.over} of ${worst.windows})`;
}

/** The table `wardwatch evaluate` prints: per attack, per kind and overall, then false alerts and the floors. */
export function formatEvaluation(e: CaptureEvaluation, names: ReadonlyMap<string, string> = new Map()): string {
  const named = (t: string) => t.replace(/mac:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}|ip:[0-9a-f.:]*[0-9a-f]/g, (m) => names.get(m) ?? m);
  const table = (rows: string[][]) => {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]) => r.map((c, i) => (i <= 2 && i < r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  };
  const attackRows: string[][] = [['attack', 'kind', 'device', 'detected', 'by', 'delay (windows)', 'delay (s)', 'max score', 'ROC-AUC']];
  for (const a of e.attacks) {
    attackRows.push([a.id, a.kind, named(a.device_id), a.detected ? 'yes' : 'MISSED', a.alert_kind ?? '-', a.delay_windows === null ? '-' : String(a.delay_windows), a.delay_s === null ? '-' : a.delay_s.toFixed(0), fmt(a.max_score, 2), fmt(a.roc_auc)]);
  }
  const rows: string[][] = [['kind', 'attacks', 'detected', 'delay (windows)', 'precision', 'recall', 'ROC-AUC', 'attack windows']];
  const delayText = (d: (number | null)[]) => d.map((x) => (x === null ? 'missed' : String(x))).join(', ');
  for (const [kind, r] of Object.entries(e.report.per_kind)) {
    rows.push([kind, String(r.attacks), `${r.detected}/${r.attacks}`, delayText(r.delays_windows), fmt(r.precision), fmt(r.recall), fmt(r.roc_auc), String(r.positive_windows)]);
  }
  const o = e.report.overall;
  rows.push(['overall', String(o.attacks), `${o.detected}/${o.attacks}`, `max ${Math.max(0, ...o.delays_windows.filter((d): d is number => d !== null))}`, fmt(o.precision), fmt(o.recall), fmt(o.roc_auc), String(o.positive_windows)]);
  const out = [...table(attackRows), '', ...table(rows)];
  if (e.training) out.push('', `trained on ${new Date(e.training.from * 1000).toISOString()} .. ${new Date(e.training.to * 1000).toISOString()}: ${e.training.models} models from ${e.training.windows_in_range} windows (${e.training.refused} refused: too few windows)`);
  const r = e.report;
  out.push(
    '',
    r.device_days === 'listed'
      ? `benign: ${fmt(r.benign_device_days, 2)} device-days (listed devices × evaluated span); ${r.false_alerts} false alerts on listed devices = ${fmt(r.false_alerts_per_device_day, 2)} per device-day` +
          (r.unlisted_alerts ? `; ${r.unlisted_alerts} alerts on devices not in the labels (not counted)` : '')
      : `benign: ${fmt(r.benign_device_days, 2)} device-days monitored (wall clock); ${r.false_alerts} false alerts = ${fmt(r.false_alerts_per_device_day, 2)} per device-day` +
          ` (per active device-day, counting only the ${r.benign_windows} benign windows with traffic = ${fmt(r.benign_active_device_days, 2)} device-days: ${fmt(r.false_alerts_per_active_device_day, 2)})`,
    `windows: ${e.windows_scored} scored, ${e.learning_windows} in learning mode (not scored; window ${e.window_s} s)${Number.isFinite(e.from) ? `; measured from ${new Date(e.from * 1000).toISOString()}` : ''}`,
    `calibration: ${calibrationText(r.benign_over_threshold, named)}`,
  );
  const byId = new Map<string, Alert>();
  for (const a of e.alerts) if (!byId.has(a.alert_id) || (byId.get(a.alert_id) as Alert).ts < a.ts) byId.set(a.alert_id, a);
  for (const id of r.false_alert_ids) {
    const a = byId.get(id);
    if (a) out.push(`false alert: ${names.get(a.device_id) ?? a.device_id} ${new Date(a.since * 1000).toISOString()} .. ${new Date(a.ts * 1000).toISOString()} ${a.kind} (${a.severity}) ${a.summary}`);
  }
  if (e.unscored_attacks.length) out.push(`attacks on devices in learning mode (no model scored them): ${named(e.unscored_attacks.join('; '))}`);
  out.push(
    e.floors.passed
      ? `floors: passed (every attack detected within ${EVALUATION_FLOORS.max_delay_windows} windows, beacons and slow exfiltration within ${EVALUATION_FLOORS.max_delay_slow_s / 60} min; ≤ ${EVALUATION_FLOORS.max_false_alerts_per_device_day} false alert per device-day)`
      : `floors: FAILED: ${named(e.floors.failures.join('; '))}`,
  );
  return `${out.join('\n')}\n`;
}
