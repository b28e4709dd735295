/**
 * Evaluation metrics of the detector against labelled attacks (the numbers `wardwatch evaluate` prints; the command
 * itself, reading a capture + labels, lands in phase 2 with the simulator).
 *
 * Definitions (all in packet time):
 * - A scored window is **positive for kind k** when it overlaps a label of kind k on the same device, else benign.
 *   Windows not scored (learning mode, no model) are left out of every window-level metric.
 * - **Window level**, with "flagged" = score > 1: precision_k = TP_k / (TP_k + FP), recall_k = TP_k / P_k, where FP
 *   counts flagged benign windows (shared by all kinds); overall uses all positives. **ROC-AUC** is the probability
 *   that a positive window scores higher than a benign one (Mann–Whitney, ties count ½).
 * - **Attack level**: an attack (one label) is detected when an anomaly alert of its device has [since, ts] overlapping
 *   [start, end) and ts ≥ start; the delay is the number of the device's windows from the first window overlapping the
 *   attack up to and including the window whose end is the alert's ts (1 = alerted on the first attack window).
 * - **False alerts**: distinct anomaly alert ids whose [since, ts] overlaps no label of their device.
 * - **Benign device-days** (the floor's denominator) are wall-clock monitoring time: per device that a model scored,
 *   from the start of its first scored window to the end of the last scored window of the evaluation (any device),
 *   minus the time its own labels and affected ranges cover (merged), summed over devices ÷ 86,400 s. A device is
 *   watched whether or not it sends in a given 10-s window (a BMS server that polls once a minute is monitored all
 *   minute), so an operator's "false alerts per device per day" is per wall-clock day. Reported beside it:
 *   **active device-days** = benign scored windows × window length ÷ 86,400 s (only the windows with traffic; a
 *   device silent in 5 of 6 windows counts a sixth of its time), the stricter figure used before 2026-11-24.
 * - **Affected** ranges (optional): other devices an attack involves (a flood's victim, the hosts an ARP spoof
 *   targets) during it. Their windows there are neither positive nor benign, and their alerts there are not false;
 *   an attack is detected only by an alert on its own device.
 * - **Detection alerts** are every alert but `new_device` (the model's `anomaly` and the behavioural detectors'
 *   kinds alike).
 * - Options for labels written by hand (src/records/labels.ts, the generic format): `slack` widens each attack to
 *   [start − before_s, end + after_s] for detection and false alerts (windows in the widening but not in the attack
 *   are neither positive nor benign); `benign` replaces the wall-clock denominator by listed devices × (end − from)
 *   and counts false alerts on the listed devices only.
 * - **Per attack**: detected, delay in windows and in seconds (first detecting alert's ts − start), the highest
 *   window score during it, and the ROC-AUC of its windows against every benign window.
 */
import type { Alert } from '../records/index.js';

export interface AttackLabel {
  /** Label id (`a1`), for the per-attack report. */
  id?: string;
  kind: string;
  device_id: string;
  /** [start, end) in seconds since the epoch (packet time). */
  start: number;
  end: number;
}

export interface ScoredWindow {
  device_id: string;
  window_start: number;
  window_end: number;
  score: number;
}

export interface KindReport {
  attacks: number;
  detected: number;
  /** Per attack, in label order: delay in windows, or null when not detected. */
  delays_windows: (number | null)[];
  positive_windows: number;
  precision: number;
  recall: number;
  roc_auc: number;
}

export interface AttackReport {
  id: string;
  kind: string;
  device_id: string;
  detected: boolean;
  /** Delay in the device's windows (1 = alerted on the first window overlapping the attack); null when missed. */
  delay_windows: number | null;
  /** First detecting alert's ts − the attack's start (s); null when missed. */
  delay_s: number | null;
  /** Kind of the first detecting alert (`anomaly`, `scan`, …). */
  alert_kind: string | null;
  /** Highest window score among the device's scored windows overlapping the attack (NaN when none was scored). */
  max_score: number;
  positive_windows: number;
  /** ROC-AUC of this attack's windows against every benign window. */
  roc_auc: number;
}

export interface EvaluationOptions {
  /** Widening of each attack for detection and false alerts (s). Default 0 / 0. */
  slack?: { before_s: number; after_s: number };
  /** Denominator by listed devices × span, false alerts counted on these devices only (generic labels). */
  benign?: { device_ids: readonly string[]; from: number; end: number };
}

export interface EvaluationReport {
  per_kind: Record<string, KindReport>;
  /** Per label, in label order. */
  per_attack: AttackReport[];
  overall: KindReport;
  benign_windows: number;
  /** Wall-clock benign monitoring time of the scored devices, in days (see the header). */
  benign_device_days: number;
  /** Benign scored windows × window length, in days. */
  benign_active_device_days: number;
  false_alerts: number;
  /** false_alerts ÷ benign_device_days (wall clock): the floor's figure. */
  false_alerts_per_device_day: number;
  /** false_alerts ÷ benign_active_device_days. */
  false_alerts_per_active_device_day: number;
  /** Ids of the false alerts (latest state of each), in the order first raised. */
  false_alert_ids: string[];
  /** Detection alerts (distinct ids) on devices outside `benign.device_ids` (generic labels), not counted as false. */
  unlisted_alerts: number;
  /** How `benign_device_days` was computed. */
  device_days: 'listed' | 'scored';
  /**
   * Calibration: per scored device, its benign windows and how many scored over the threshold (score > 1). With
   * thresholds at the hold-out's 99.5th percentile × 1.5 (or the floor), a calibrated model keeps every device's share
   * well under 0.5 %, whether it is busy or quiet.
   */
  benign_over_threshold: { device_id: string; windows: number; over: number }[];
}

/** ROC-AUC by ranks (Mann–Whitney U). NaN when either class is empty. */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && (all[j + 1] as { s: number }).s === (all[i] as { s: number }).s) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if ((all[k] as { p: number }).p === 1) rankSumPos += avgRank;
    i = j + 1;
  }
  const nP = positives.length;
  const nN = negatives.length;
  return (rankSumPos - (nP * (nP + 1)) / 2) / (nP * nN);
}

function overlaps(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && bStart < aEnd;
}

export function evaluateDetections(
  scored: readonly ScoredWindow[],
  alerts: readonly Alert[],
  labels: readonly AttackLabel[],
  windowSeconds: number,
  affected: readonly AttackLabel[] = [],
  options: EvaluationOptions = {},
): EvaluationReport {
  const before = options.slack?.before_s ?? 0;
  const after = options.slack?.after_s ?? 0;
  const labelsByDevice = new Map<string, AttackLabel[]>();
  for (const l of labels) labelsByDevice.set(l.device_id, [...(labelsByDevice.get(l.device_id) ?? []), l]);
  const affectedByDevice = new Map<string, AttackLabel[]>();
  const slackRanges = before > 0 || after > 0 ? labels.map((l) => ({ ...l, start: l.start - before, end: l.end + after })) : [];
  for (const l of [...affected, ...slackRanges]) affectedByDevice.set(l.device_id, [...(affectedByDevice.get(l.device_id) ?? []), l]);
  const isAffected = (device: string, start: number, end: number) => (affectedByDevice.get(device) ?? []).some((l) => overlaps(start, end, l.start, l.end));
  const kinds = [...new Set(labels.map((l) => l.kind))].sort();
  const posScores = new Map<string, number[]>(kinds.map((k) => [k, []]));
  const perLabel = new Map<AttackLabel, number[]>(labels.map((l) => [l, []]));
  const negScores: number[] = [];
  const calibration = new Map<string, { device_id: string; windows: number; over: number }>();
  for (const w of scored) {
    const hit = labelsByDevice.get(w.device_id)?.find((l) => overlaps(w.window_start, w.window_end, l.start, l.end));
    if (hit) {
      posScores.get(hit.kind)?.push(w.score);
      perLabel.get(hit)?.push(w.score);
    } else if (!isAffected(w.device_id, w.window_start, w.window_end)) {
      negScores.push(w.score);
      let c = calibration.get(w.device_id);
      if (!c) calibration.set(w.device_id, (c = { device_id: w.device_id, windows: 0, over: 0 }));
      c.windows++;
      if (w.score > 1) c.over++;
    }
  }
  const fp = negScores.filter((s) => s > 1).length;

  const detections = alerts.filter((a) => a.kind !== 'new_device');
  // Latest state of each alert id (an incident may be re-emitted with a later ts).
  const byId = new Map<string, Alert>();
  for (const a of detections) {
    const prev = byId.get(a.alert_id);
    if (!prev || a.ts > prev.ts) byId.set(a.alert_id, a);
  }
  const listed = options.benign ? new Set(options.benign.device_ids) : undefined;
  let falseAlerts = 0;
  let unlisted = 0;
  const falseIds: string[] = [];
  for (const a of byId.values()) {
    if (listed && !listed.has(a.device_id)) {
      unlisted++;
      continue;
    }
    const own = labelsByDevice.get(a.device_id) ?? [];
    if (!own.some((l) => overlaps(a.since, a.ts, l.start - before, l.end + after)) && !isAffected(a.device_id, a.since, a.ts)) {
      falseAlerts++;
      falseIds.push(a.alert_id);
    }
  }

  const windowsOf = new Map<string, number[]>();
  for (const w of scored) windowsOf.set(w.device_id, [...(windowsOf.get(w.device_id) ?? []), w.window_start]);
  for (const v of windowsOf.values()) v.sort((a, b) => a - b);

  const firstDetection = (l: AttackLabel) =>
    detections.filter((a) => a.device_id === l.device_id && a.ts > l.start - before && a.since < l.end + after).sort((a, b) => a.ts - b.ts)[0];
  const delayOf = (l: AttackLabel, first: Alert | undefined) => {
    if (!first) return null;
    const starts = (windowsOf.get(l.device_id) ?? []).filter((s) => s + windowSeconds > l.start && s < first.ts);
    return Math.max(1, starts.length);
  };

  const report = (subset: readonly AttackLabel[], pos: number[]): KindReport => {
    const tp = pos.filter((s) => s > 1).length;
    const delays = subset.map((l) => delayOf(l, firstDetection(l)));
    return {
      attacks: subset.length,
      detected: delays.filter((d) => d !== null).length,
      delays_windows: delays,
      positive_windows: pos.length,
      precision: tp + fp === 0 ? NaN : tp / (tp + fp),
      recall: pos.length === 0 ? NaN : tp / pos.length,
      roc_auc: rocAuc(pos, negScores),
    };
  };
  const perKind: Record<string, KindReport> = {};
  for (const k of kinds) perKind[k] = report(labels.filter((l) => l.kind === k), posScores.get(k) ?? []);
  const perAttack: AttackReport[] = labels.map((l, i) => {
    const first = firstDetection(l);
    const pos = perLabel.get(l) ?? [];
    return {
      id: l.id ?? `a${i + 1}`,
      kind: l.kind,
      device_id: l.device_id,
      detected: first !== undefined,
      delay_windows: delayOf(l, first),
      delay_s: first ? Math.max(0, first.ts - l.start) : null,
      alert_kind: first?.kind ?? null,
      max_score: pos.length ? Math.max(...pos) : NaN,
      positive_windows: pos.length,
      roc_auc: rocAuc(pos, negScores),
    };
  });
  const activeDays = (negScores.length * windowSeconds) / 86_400;
  let benignDays: number;
  if (options.benign) {
    benignDays = (options.benign.device_ids.length * Math.max(0, options.benign.end - options.benign.from)) / 86_400;
  } else {
    // Wall clock: per scored device, [its first scored window start, the evaluation's last window end] minus its own
    // labels and affected ranges.
    const end = scored.reduce((m, w) => Math.max(m, w.window_end), -Infinity);
    let benignSeconds = 0;
    for (const [device, starts] of windowsOf) {
      const first = starts[0] as number;
      const covered = [...(labelsByDevice.get(device) ?? []), ...(affectedByDevice.get(device) ?? [])]
        .map((l) => [Math.max(first, l.start), Math.min(end, l.end)] as const)
        .filter(([a, b]) => b > a)
        .sort((a, b) => a[0] - b[0]);
      let excluded = 0;
      let curA = -Infinity;
      let curB = -Infinity;
      for (const [a, b] of covered) {
        if (a > curB) {
          if (curB > curA) excluded += curB - curA;
          curA = a;
          curB = b;
        } else curB = Math.max(curB, b);
      }
      if (curB > curA) excluded += curB - curA;
      benignSeconds += Math.max(0, end - first - excluded);
    }
    benignDays = benignSeconds / 86_400;
  }
  return {
    per_kind: perKind,
    per_attack: perAttack,
    overall: report(labels, [...posScores.values()].flat()),
    benign_windows: negScores.length,
    benign_device_days: benignDays,
    benign_active_device_days: activeDays,
    false_alerts: falseAlerts,
    false_alerts_per_device_day: benignDays === 0 ? NaN : falseAlerts / benignDays,
    false_alerts_per_active_device_day: activeDays === 0 ? NaN : falseAlerts / activeDays,
    false_alert_ids: falseIds,
    unlisted_alerts: unlisted,
    device_days: options.benign ? 'listed' : 'scored',
    benign_over_threshold: [...calibration.values()].sort((a, b) => (a.device_id < b.device_id ? -1 : 1)),
  };
}
