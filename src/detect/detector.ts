/**
 * `Detector`: scores batches of feature windows against the model store and returns alerts.
 *
 * Per window, by device:
 * - a device with a model of its own (`device/<id>`) is scored by it;
 * - otherwise a device whose windows are in a class model's baseline (`metadata.devices`) is scored by that model
 *   (whatever class the inventory gives it now);
 * - otherwise a device that has not yet had `learning_min_windows` windows is in learning mode: no anomaly alerts
 *   (the first window of a device without a model yields one `new_device` alert, info, once the inventory lists the
 *   device — a candidate without evidence of being a real host waits — and at most `new_device_notices_max` per
 *   `new_device_notice_interval_s`, the rest summarised in one notice per interval);
 * - otherwise the model of its device class (`class/<class>`) scores it; without one it stays in learning mode.
 * Scores go through the device's K-of-N state; an incident yields an `anomaly` alert when it opens and again (same
 * alert_id, sinks overwrite) when its severity rises. Windows inside incidents are remembered as alerted ranges, which
 * the trainer excludes from the next baseline.
 *
 * New model versions are picked up without restart: before a batch, at most every `reload_check_ms`, the detector
 * reads the store's GENERATION file and reloads the scopes whose `latest` changed.
 */
import path from 'node:path';
import { componentLogger } from '../log.js';
import { Counters } from '../metrics.js';
import {
  ALERT_SCHEMA_VERSION,
  FEATURE_COUNT,
  featureIndex,
  FEATURE_SCHEMA_VERSION,
  identityChangesText,
  type Alert,
  type BehaviourAlertKind,
  type DeviceClass,
  type FeatureContribution,
  type FeatureWindow,
  type InventoryEntry,
  type Severity,
  type WindowScore,
} from '../records/index.js';
import type { DetectConfig } from './config.js';
import { alertId, KOfN } from './incident.js';
import { BehaviourRules, type RollingWindow, type RuleHit } from './behaviour/rules.js';
import { BaselineModel } from './model.js';
import { severityFor, severityRank } from './severity.js';
import { ModelStore } from './store.js';
import type { AlertedRange } from './trainer.js';

const log = componentLogger('detector');

/** What the detector needs to know about a device (from the inventory); undefined = unknown device. */
/**
 * A device's identity for alerts and class models. `window`, when given, is the window being scored: a lookup may answer
 * with the identity the device had when that window closed (replays do, so alerts do not depend on the replay speed).
 * `confirmed: false` (a candidate) or undefined (not in the inventory): no `new_device` notice yet.
 */
export type InventoryLookup = (
  deviceId: string,
  window?: FeatureWindow,
) => (Pick<InventoryEntry, 'device_class' | 'criticality' | 'name' | 'vendor' | 'first_seen'> & { confirmed?: boolean }) | undefined;

type DetectorCounter =
  | 'windows_received'
  | 'windows_scored'
  | 'windows_learning'
  | 'windows_refused_schema'
  | 'windows_replayed'
  | 'windows_over_threshold'
  | 'windows_scan_guard'
  | 'windows_novelty_guard'
  | 'windows_identity_guard'
  | 'windows_capture_loss'
  | 'windows_capture_loss_over_threshold'
  | 'alerts_anomaly'
  | 'alerts_new_device'
  | 'alerts_behaviour'
  | 'windows_rule_matched'
  | 'alerts_new_device_summary'
  | 'new_devices_summarised'
  | 'alerted_ranges_dropped'
  | 'state_entries_invalid'
  | 'models_loaded'
  | 'model_load_errors';

/** An open incident of a behavioural rule: one alert, updated while matching windows keep coming. */
interface RuleIncident {
  id: string;
  since: number;
  /** Start of the last matching window. */
  last: number;
  severity: Severity;
  windows: number;
  range: AlertedRange;
}

interface DeviceState {
  windows_seen: number;
  /** Start of the device's first window seen (its observed span ends at last_start). */
  first_start: number;
  last_start: number;
  kofn: KOfN;
  announced: boolean;
  /** Open incident, if any. */
  incident?: { id: string; since: number; severity: Severity; peers: Set<string>; ports: Set<number>; range: AlertedRange };
  /** Rolling sums of the slow behavioural rules. */
  recent: RollingWindow[];
  /** Open behavioural incidents by kind. */
  rules: Map<BehaviourAlertKind, RuleIncident>;
}

/** What one `score` call produced: the alerts it raised and a verdict for every window it accepted. */
export interface DetectorOutput {
  alerts: Alert[];
  /** One per accepted window, in time order; `learning: true` (score NaN) while no model scores the device. */
  scores: WindowScore[];
}

/**
 * Serialized per-device state (K-of-N flags, open incident, learning bookkeeping, behavioural rolling sums and
 * incidents), JSON. Version 2 adds `recent` and `rules`; version 1 entries are read with neither.
 */
interface DeviceStateV2 {
  v: 1 | 2;
  recent?: RollingWindow[];
  first_start?: number;
  rules?: { kind: BehaviourAlertKind; id: string; since: number; last: number; severity: Severity; windows: number }[];
  windows_seen: number;
  last_start: number | null;
  announced: boolean;
  kofn: { flags: boolean[]; starts: number[]; since: number | null };
  incident: { id: string; since: number; until: number; severity: Severity; peers: string[]; ports: number[] } | null;
}

export interface DeviceStatus {
  device_id: string;
  learning: boolean;
  windows_seen: number;
  /** Model that scores the device now, or undefined while learning. */
  model?: string;
}

const MAX_LIST = 16;

const SCAN_GUARD = {
  new_peers_internal: featureIndex('new_peers_internal'),
  new_peers: featureIndex('new_peers'),
  new_dst_ports: featureIndex('new_dst_ports'),
  tcp_rejected: featureIndex('tcp_rejected'),
  tcp_half_open: featureIndex('tcp_half_open'),
};

/** Feature `identity_changes` (the identity guard, and the explanation that names the change). */
const IDENTITY_CHANGES = featureIndex('identity_changes');

/**
 * The window's identity changes in words ("new HL7 message type ADT^A01 from PUMP-03; seen before: ORU^R01"), ""
 * when it has none.
 */
export function windowIdentityText(w: FeatureWindow): string {
  return identityChangesText(w.identity_changes, w.values[IDENTITY_CHANGES] ?? 0);
}

/**
 * The scan guard (option `scan_guard`): the window reached a never-seen peer or destination port AND had a TCP
 * connection attempt rejected or unanswered. Co-occurrence in one window, not the same connection (the feature window
 * does not link them).
 */
export function scanGuardMatches(values: readonly number[]): boolean {
  const v = (i: number) => values[i] ?? 0;
  return (v(SCAN_GUARD.new_peers) > 0 || v(SCAN_GUARD.new_dst_ports) > 0) && (v(SCAN_GUARD.tcp_rejected) > 0 || v(SCAN_GUARD.tcp_half_open) > 0);
}
/**
 * The narrowest /8, /16 or /24 holding every IPv4 address of `peers` ("10.20.0.0/16"), "several networks" when they
 * share no first octet, "IPv6 addresses" when none is IPv4.
 */
export function sourceSegment(peers: readonly string[]): string {
  const v4 = peers.map((p) => p.split('.')).filter((o) => o.length === 4);
  if (v4.length === 0) return 'IPv6 addresses';
  let n = 0;
  while (n < 3 && v4.every((o) => o[n] === v4[0]![n])) n++;
  if (n === 0) return `several networks (e.g. ${peers.slice(0, 3).join(', ')})`;
  const prefix = v4[0]!.slice(0, n);
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join('.')}/${n * 8}`;
}

/** The caveat a behavioural alert raised on a window with capture loss carries in its summary. */
export function lossCaveat(loss: number): string {
  return `caveat: the sensor lost ${(loss * 100).toFixed(loss < 0.001 ? 3 : 1)} % of its packets while this window was open (capture loss), so its counts are lower bounds`;
}

/** Alerted ranges kept in memory for the next training (oldest dropped, counted); alerts.jsonl keeps them all. */
const MAX_ALERTED_RANGES = 10_000;

export class Detector {
  readonly counters = new Counters<DetectorCounter>('detect');
  private readonly models = new Map<string, BaselineModel>();
  private readonly rules: BehaviourRules;
  private readonly devices = new Map<string, DeviceState>();
  private readonly alerted: AlertedRange[] = [];
  private readonly dirty = new Set<string>();
  private generation = '';
  private lastCheck = -Infinity;
  /** Start of the first window scored by this process (packet time): the startup grace counts from it. */
  private firstStart: number | undefined;
  /** New-device notice limit: the current interval (index), notices raised in it, the new devices summarised. */
  private noticeInterval = -Infinity;
  private noticesRaised = 0;
  private readonly summarised: { ids: string[]; count: number; last: FeatureWindow | undefined } = { ids: [], count: 0, last: undefined };

  private constructor(
    readonly config: DetectConfig,
    readonly store: ModelStore,
  ) {
    this.rules = new BehaviourRules(config.behaviour);
  }

  /** Open the store and load the latest version of every model in it. */
  static async open(config: DetectConfig, store = new ModelStore(path.resolve(config.models_dir))): Promise<Detector> {
    const d = new Detector(config, store);
    await d.reloadIfChanged(true);
    return d;
  }

  /** Labels of the loaded models (`device:<id>@v3`). */
  loadedModels(): string[] {
    return [...this.models.values()].map((m) => m.label).sort();
  }

  /** Ranges of windows that were part of incidents, for `Trainer.train(..., { exclude })`. */
  alertedRanges(): AlertedRange[] {
    return this.alerted.map((r) => ({ ...r }));
  }

  deviceStatus(deviceId: string, inventory: InventoryLookup): DeviceStatus {
    const st = this.devices.get(deviceId);
    const model = this.modelFor(deviceId, st, inventory(deviceId)?.device_class);
    return { device_id: deviceId, learning: model === undefined, windows_seen: st?.windows_seen ?? 0, ...(model ? { model: model.label } : {}) };
  }

  /**
   * Reload models whose `latest` changed since the last check. Called by `score` (throttled by reload_check_ms);
   * call it with force=true to check now.
   */
  async reloadIfChanged(force = false): Promise<boolean> {
    const now = performance.now();
    if (!force && now - this.lastCheck < this.config.reload_check_ms) return false;
    this.lastCheck = now;
    const gen = await this.store.generation();
    if (gen === this.generation && !force) return false;
    this.generation = gen;
    let changed = false;
    const refs = await this.store.list();
    const loaded: string[] = [];
    for (const ref of refs) {
      const key = `${ref.scope}:${ref.id}`;
      const current = this.models.get(key);
      if (current?.metadata.version === ref.version) continue;
      try {
        const { model, metadata } = await this.store.load(ref.scope, ref.id, ref.version);
        this.models.set(key, new BaselineModel(model, metadata));
        current?.dispose();
        this.counters.add('models_loaded');
        changed = true;
        loaded.push(`${key}@v${ref.version}`);
        log.debug({ model: `${key}@v${ref.version}`, previous: current?.metadata.version ?? null }, 'model loaded');
      } catch (err) {
        this.counters.add('model_load_errors');
        log.error({ model: `${key}@v${ref.version}`, err: (err as Error).message }, 'model load failed; keeping the previous version');
      }
    }
    if (loaded.length > 0) {
      const scopes = (scope: string): number => loaded.filter((l) => l.startsWith(`${scope}:`)).length;
      log.info({ models_dir: this.store.dir, loaded: loaded.length, device: scopes('device'), class: scopes('class'), population: scopes('population') }, `${loaded.length} model${loaded.length === 1 ? '' : 's'} loaded from ${this.store.dir}`);
    }
    return changed;
  }

  private modelFor(deviceId: string, st: Pick<DeviceState, 'windows_seen' | 'first_start' | 'last_start'> | undefined, cls: DeviceClass | undefined): BaselineModel | undefined {
    const own = this.models.get(`device:${deviceId}`);
    if (own) return own;
    // A device whose windows are in a class model's baseline is known: that model scores it, with no learning mode,
    // even when the inventory now puts it in another class (an attack can change what a device looks like); likewise
    // a device in the population model's baseline.
    const member = this.classMembers().get(deviceId);
    if (member) return member;
    // Learning ends after learning_min_windows windows or, for a quiet device, after learning_min_span_s of observed time.
    const seen = st?.windows_seen ?? 0;
    const span = st && Number.isFinite(st.first_start) ? st.last_start - st.first_start : 0;
    const learned = seen >= this.config.learning_min_windows || (this.config.learning_min_span_s > 0 && span >= this.config.learning_min_span_s);
    if (!learned) return undefined;
    return this.models.get(`class:${cls ?? 'unknown'}`) ?? this.models.get('population:all');
  }

  private members: { models: number; generation: string; map: Map<string, BaselineModel> } | undefined;

  /** Device id → the class model whose baseline holds it (rebuilt when the loaded models change). */
  private classMembers(): Map<string, BaselineModel> {
    if (this.members && this.members.generation === this.generation && this.members.models === this.models.size) return this.members.map;
    const map = new Map<string, BaselineModel>();
    for (const m of this.models.values()) if (m.metadata.scope === 'class') for (const id of m.metadata.devices) if (!map.has(id)) map.set(id, m);
    for (const m of this.models.values()) if (m.metadata.scope === 'population') for (const id of m.metadata.devices) if (!map.has(id)) map.set(id, m);
    this.members = { models: this.models.size, generation: this.generation, map };
    return map;
  }

  /**
   * Score a batch of windows (any devices, any order within a device): the alerts it raised and a `WindowScore` for
   * every accepted window (learning-mode windows included, with score NaN).
   */
  async score(windows: readonly FeatureWindow[], inventory: InventoryLookup): Promise<DetectorOutput> {
    await this.reloadIfChanged();
    const alerts: Alert[] = [];
    const scores: WindowScore[] = [];
    const sorted = [...windows].sort((a, b) => a.window_start - b.window_start);
    // Group by the model that scores each window; learning-mode windows only update bookkeeping.
    const groups = new Map<BaselineModel, FeatureWindow[]>();
    /** The class each scored window's device had (its score carries it). */
    const classes = new Map<FeatureWindow, string>();
    for (const w of sorted) {
      this.counters.add('windows_received');
      if (this.firstStart === undefined) this.firstStart = w.window_start;
      if (w.feature_schema_version !== FEATURE_SCHEMA_VERSION || w.values.length !== FEATURE_COUNT) {
        this.counters.add('windows_refused_schema');
        continue;
      }
      let st = this.devices.get(w.device_id);
      if (st === undefined) {
        st = { windows_seen: 0, first_start: w.window_start, last_start: -Infinity, kofn: new KOfN(this.config.alert_k, this.config.alert_n), announced: false, recent: [], rules: new Map() };
        this.devices.set(w.device_id, st);
      }
      if (w.window_start <= st.last_start) {
        this.counters.add('windows_replayed');
        continue;
      }
      st.last_start = w.window_start;
      st.windows_seen++;
      this.dirty.add(w.device_id);
      if (this.lossy(w)) this.counters.add('windows_capture_loss');
      const inv = inventory(w.device_id, w);
      // Behavioural rules: every device, every window, model or not.
      this.applyRules(w, st, inv, alerts);
      this.noticeIntervalAt(w, alerts);
      const model = this.modelFor(w.device_id, st, inv?.device_class);
      if (model === undefined) {
        this.counters.add('windows_learning');
        scores.push({ device_id: w.device_id, window_start: w.window_start, window_end: w.window_end, score: NaN, threshold: 0, model: '', learning: true, device_class: inv?.device_class ?? 'unknown' });
        if (!st.announced && !this.models.has(`device:${w.device_id}`) && inv !== undefined && inv.confirmed !== false) {
          st.announced = true;
          const notice = this.newDeviceNotice(w, inv);
          if (notice !== undefined) alerts.push(notice);
        }
        continue;
      }
      st.announced = true;
      if (!model.accepts(w)) {
        this.counters.add('windows_refused_schema');
        continue;
      }
      const list = groups.get(model) ?? [];
      list.push(w);
      groups.set(model, list);
      classes.set(w, inv?.device_class ?? 'unknown');
    }
    const scored: { w: FeatureWindow; model: BaselineModel; batch: ReturnType<BaselineModel['scoreRows']>; i: number }[] = [];
    for (const [model, list] of groups) {
      const batch = model.scoreRows(list.map((w) => w.values));
      list.forEach((w, i) => scored.push({ w, model, batch, i }));
      this.counters.add('windows_scored', list.length);
    }
    scored.sort((a, b) => a.w.window_start - b.w.window_start);
    for (const { w, model, batch, i } of scored) {
      const st = this.devices.get(w.device_id) as DeviceState;
      const score = batch.scores[i] as number;
      scores.push({ device_id: w.device_id, window_start: w.window_start, window_end: w.window_end, score, threshold: model.threshold, model: model.label, learning: false, device_class: classes.get(w) ?? 'unknown' });
      // A window that lost packets abstains: scored and written, but it neither opens, extends nor closes an incident
      // (what the sensor did not see is not evidence either way).
      if (this.lossy(w)) {
        if (score > 1) this.counters.add('windows_capture_loss_over_threshold');
        continue;
      }
      // At start every peer and session looks new to the sensor: those windows never count toward an alert.
      const over = score > 1 && w.window_end > (this.firstStart ?? -Infinity) + this.config.startup_grace_s;
      if (over) this.counters.add('windows_over_threshold');
      const guard = over && this.config.scan_guard && scanGuardMatches(w.values);
      const loud = over && this.config.alert_single_window_score > 0 && score >= this.config.alert_single_window_score;
      const novel = over && !guard && !loud && this.config.novelty_guard ? this.novelPeer(w, model) : undefined;
      // An identity change happens in one window (the next have none): it alerts alone once the model scores it over.
      const identity = over && this.config.identity_guard && (w.values[IDENTITY_CHANGES] ?? 0) > 0;
      const single = guard || loud || novel !== undefined || identity;
      if (novel !== undefined) this.counters.add('windows_novelty_guard');
      if (identity) this.counters.add('windows_identity_guard');
      if (guard) this.counters.add('windows_scan_guard');
      const span = this.config.alert_n_span === 'time' ? this.config.alert_n * (w.window_end - w.window_start) : Infinity;
      const step = st.kofn.push(w.window_start, over, single, span);
      if (!step.firing) {
        st.incident = undefined;
        continue;
      }
      const inv = inventory(w.device_id, w);
      const severity = severityFor(score, inv?.criticality ?? 'medium');
      if (step.opened || st.incident === undefined) {
        const range = { device_id: w.device_id, since: step.since, until: w.window_start };
        st.incident = { id: alertId(w.device_id, 'anomaly', step.since), since: step.since, severity, peers: new Set(), ports: new Set(), range };
        this.alerted.push(range);
        if (this.alerted.length > MAX_ALERTED_RANGES) {
          this.alerted.shift();
          this.counters.add('alerted_ranges_dropped');
        }
      }
      const inc = st.incident;
      inc.range.until = w.window_start;
      if (over) {
        for (const p of w.new_peers) if (inc.peers.size < MAX_LIST) inc.peers.add(p);
        for (const p of w.new_dst_ports) if (inc.ports.size < MAX_LIST) inc.ports.add(p);
      }
      const rising = severityRank(severity) > severityRank(inc.severity);
      if (!step.opened && !rising) continue;
      if (rising) inc.severity = severity;
      if (!over) continue; // never page on a window that is itself under the threshold
      // The explanation names a change of the device's identity in this window whatever its share of the error.
      const identityText = windowIdentityText(w);
      const top = model.explain(batch, i, w.values, 5, identityText ? IDENTITY_CHANGES : -1);
      if (identityText) for (const c of top) if (c.feature === 'identity_changes') c.text = identityText;
      // Why a window alerted alone (fewer than K over the threshold), in the summary.
      const alone =
        step.over >= this.config.alert_k
          ? ''
          : guard
            ? '; scan guard: new peer or port with a rejected or unanswered attempt'
            : loud
              ? `; one window ≥ ${this.config.alert_single_window_score}`
              : identity
                ? '; identity guard: its medical identity changed'
                : novel !== undefined
                  ? `; first contact with ${novel}, an external host its baseline never reached`
                  : '';
      alerts.push(this.anomalyAlert(w, inv, model, score, inc.severity, step.over, step.considered, inc, top, alone));
    }
    scores.sort((a, b) => a.window_start - b.window_start);
    return { alerts, scores };
  }

  /** The window lost more than `capture_loss_max` of the sensor's packets while it was open (`FeatureWindow.capture_loss`). */
  private lossy(w: FeatureWindow): boolean {
    return w.capture_loss !== undefined && w.capture_loss > this.config.capture_loss_max;
  }

  /**
   * The novelty guard: a new external peer that the device's baseline never named, on a device whose baseline rarely
   * took up new external peers. Returns the peer (text), or undefined.
   */
  private novelPeer(w: FeatureWindow, model: BaselineModel): string | undefined {
    const external = (w.values[SCAN_GUARD.new_peers] ?? 0) - (w.values[SCAN_GUARD.new_peers_internal] ?? 0);
    if (external <= 0) return undefined;
    const n = model.novelty(w.device_id);
    if (!n || n.rate > this.config.novelty_guard_max_per_day) return undefined;
    return w.new_peers.find((p) => !n.knows(p));
  }

  /**
   * Runs the behavioural rules on one window: a match opens the kind's incident (one alert) or extends it; the alert
   * is re-emitted (same id) only when its severity rises; an incident closes after `incident_gap_s` without a match.
   */
  private applyRules(w: FeatureWindow, st: DeviceState, inv: ReturnType<InventoryLookup>, alerts: Alert[]): void {
    const gap = this.config.behaviour.incident_gap_s;
    for (const [kind, inc] of st.rules) if (inc.last < w.window_start - gap) st.rules.delete(kind);
    const settled = w.window_end > (this.firstStart ?? -Infinity) + this.config.startup_grace_s;
    const hits = this.rules.evaluate(w.values, w.window_start, st.recent, settled);
    if (hits.length === 0) return;
    this.counters.add('windows_rule_matched');
    for (const hit of hits) {
      const severity = severityFor(hit.score > 5 ? hit.score : 5.01, inv?.criticality ?? 'medium');
      let inc = st.rules.get(hit.kind);
      const opened = inc === undefined;
      if (inc === undefined) {
        const range = { device_id: w.device_id, since: w.window_start, until: w.window_start };
        inc = { id: alertId(w.device_id, hit.kind, w.window_start), since: w.window_start, last: w.window_start, severity, windows: 0, range };
        st.rules.set(hit.kind, inc);
        this.alerted.push(range);
        if (this.alerted.length > MAX_ALERTED_RANGES) {
          this.alerted.shift();
          this.counters.add('alerted_ranges_dropped');
        }
      }
      inc.last = w.window_start;
      inc.range.until = w.window_start;
      inc.windows++;
      const rising = severityRank(severity) > severityRank(inc.severity);
      if (!opened && !rising) continue;
      if (rising) inc.severity = severity;
      alerts.push(this.behaviourAlert(w, inv, hit, inc));
    }
  }

  private behaviourAlert(w: FeatureWindow, inv: ReturnType<InventoryLookup>, hit: RuleHit, inc: RuleIncident): Alert {
    this.counters.add('alerts_behaviour');
    // A flood names where its sources are: the narrowest common prefix of the window's new peers (a sample of ≤ 16).
    const where = hit.kind === 'flood' && w.new_peers.length >= 2 ? `${hit.text}; sources in ${sourceSegment(w.new_peers)}` : hit.text;
    // A rule's counts cannot be made up by missing packets, so it alerts on a lossy window too, saying so.
    const summary = this.lossy(w) ? `${where}; ${lossCaveat(w.capture_loss!)}` : where;
    return {
      schema_version: ALERT_SCHEMA_VERSION,
      alert_id: inc.id,
      kind: hit.kind,
      severity: inc.severity,
      ...this.identity(w, inv),
      ts: w.window_end,
      since: inc.since,
      score: Math.round(hit.score * 100) / 100,
      threshold: hit.threshold,
      windows_over: inc.windows,
      windows_considered: inc.windows,
      summary,
      top_features: hit.evidence,
      new_peers: w.new_peers.slice(0, MAX_LIST),
      new_dst_ports: w.new_dst_ports.slice(0, MAX_LIST),
      model: `rule:${hit.kind}`,
      sensor_id: w.sensor_id,
      run_id: w.run_id,
    };
  }

  /**
   * State of the devices touched since the last call (K-of-N flags, open incident, learning bookkeeping), to be written
   * to the per-device state store before the batch's offsets are committed. Clears the touched set.
   */
  takeDirtyState(): Map<string, Buffer> {
    const out = this.exportState(this.dirty);
    this.dirty.clear();
    return out;
  }

  /** Serialized state of the given devices (all known devices by default). */
  exportState(deviceIds: Iterable<string> = this.devices.keys()): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const id of deviceIds) {
      const st = this.devices.get(id);
      if (!st) continue;
      const s: DeviceStateV2 = {
        v: 2,
        first_start: st.first_start,
        recent: st.recent,
        rules: [...st.rules].map(([kind, r]) => ({ kind, id: r.id, since: r.since, last: r.last, severity: r.severity, windows: r.windows })),
        windows_seen: st.windows_seen,
        last_start: Number.isFinite(st.last_start) ? st.last_start : null,
        announced: st.announced,
        kofn: st.kofn.toState(),
        incident: st.incident
          ? { id: st.incident.id, since: st.incident.since, until: st.incident.range.until, severity: st.incident.severity, peers: [...st.incident.peers], ports: [...st.incident.ports] }
          : null,
      };
      out.set(id, Buffer.from(JSON.stringify(s)));
    }
    return out;
  }

  /** Restore devices' state (a partition moved to this detector). Undecodable entries are counted and skipped. */
  restoreState(entries: ReadonlyMap<string, Buffer>): number {
    let restored = 0;
    for (const [id, buf] of entries) {
      let s: DeviceStateV2;
      try {
        s = JSON.parse(buf.toString('utf8')) as DeviceStateV2;
        if (s.v !== 1 && s.v !== 2) throw new Error(`state version ${String(s.v)}`);
      } catch (err) {
        this.counters.add('state_entries_invalid');
        log.warn({ device_id: id, err: (err as Error).message }, 'detector state entry skipped');
        continue;
      }
      const st: DeviceState = {
        windows_seen: s.windows_seen,
        first_start: Number.isFinite(s.first_start) ? (s.first_start as number) : (s.last_start ?? -Infinity),
        last_start: s.last_start ?? -Infinity,
        announced: s.announced,
        kofn: KOfN.fromState(this.config.alert_k, this.config.alert_n, s.kofn),
        recent: Array.isArray(s.recent) ? s.recent.filter((r) => Number.isFinite(r?.t) && Array.isArray(r.v)) : [],
        rules: new Map(),
      };
      for (const r of s.rules ?? []) {
        const range = { device_id: id, since: r.since, until: r.last };
        this.alerted.push(range);
        st.rules.set(r.kind, { id: r.id, since: r.since, last: r.last, severity: r.severity, windows: r.windows, range });
      }
      if (s.incident) {
        const range = { device_id: id, since: s.incident.since, until: s.incident.until };
        this.alerted.push(range);
        st.incident = { id: s.incident.id, since: s.incident.since, severity: s.incident.severity, peers: new Set(s.incident.peers), ports: new Set(s.incident.ports), range };
      }
      this.devices.set(id, st);
      restored++;
    }
    return restored;
  }

  private identity(w: FeatureWindow, inv: ReturnType<InventoryLookup>) {
    return {
      device_id: w.device_id,
      device_name: inv?.name ?? '',
      device_class: inv?.device_class ?? ('unknown'),
      vendor: inv?.vendor ?? '',
      criticality: inv?.criticality ?? ('medium' as const),
    };
  }

  /**
   * The summary notice of the new devices beyond the limit in the interval that is still open, if any (call at the end
   * of a replay: otherwise it is raised when the next interval's first window is scored).
   */
  flushNotices(): Alert[] {
    const out: Alert[] = [];
    this.summaryTo(out);
    return out;
  }

  /** Moves the notice limit to the window's interval; the summary of the interval it leaves goes to `out`. */
  private noticeIntervalAt(w: FeatureWindow, out: Alert[]): void {
    const interval = Math.floor(w.window_start / this.config.new_device_notice_interval_s);
    if (interval <= this.noticeInterval) return;
    this.summaryTo(out);
    this.noticesRaised = 0;
    this.noticeInterval = interval;
  }

  private summaryTo(out: Alert[]): void {
    const s = this.summarised;
    if (s.count > 0 && s.last !== undefined) out.push(this.newDevicesSummary(s.last, s.ids, s.count));
    s.ids = [];
    s.count = 0;
    s.last = undefined;
  }

  /** A confirmed device's first learning window: its notice, or undefined when the interval's limit is reached. */
  private newDeviceNotice(w: FeatureWindow, inv: ReturnType<InventoryLookup>): Alert | undefined {
    if (this.noticesRaised < this.config.new_device_notices_max) {
      this.noticesRaised++;
      return this.newDeviceAlert(w, inv);
    }
    const s = this.summarised;
    s.count++;
    if (s.ids.length < MAX_LIST) s.ids.push(w.device_id);
    s.last = w;
    this.counters.add('new_devices_summarised');
    return undefined;
  }

  /** "K more new devices …": one notice for the new devices of an interval beyond the limit (named by the first). */
  private newDevicesSummary(last: FeatureWindow, ids: readonly string[], count: number): Alert {
    this.counters.add('alerts_new_device_summary');
    const len = this.config.new_device_notice_interval_s;
    const since = Math.floor(last.window_start / len) * len;
    const first = ids[0] ?? last.device_id;
    const shown = ids.slice(0, 5).join(', ') + (count > 5 ? ', …' : '');
    return {
      schema_version: ALERT_SCHEMA_VERSION,
      alert_id: alertId(`new_devices:${first}`, 'new_device', since),
      kind: 'new_device',
      severity: 'info',
      device_id: first,
      device_name: '',
      device_class: 'unknown',
      vendor: '',
      criticality: 'medium',
      ts: last.window_end,
      since,
      score: 0,
      threshold: 0,
      windows_over: 0,
      windows_considered: 0,
      summary: `${count} more new device${count === 1 ? '' : 's'} in these ${len} s, beyond the ${this.config.new_device_notices_max} notices per ${len} s (new_device_notices_max): ${shown}. All are in the inventory, learning their baselines`,
      top_features: [],
      new_peers: [],
      new_dst_ports: [],
      model: '',
      sensor_id: last.sensor_id,
      run_id: last.run_id,
    };
  }

  private newDeviceAlert(w: FeatureWindow, inv: ReturnType<InventoryLookup>): Alert {
    this.counters.add('alerts_new_device');
    const since = inv?.first_seen ?? w.window_start;
    return {
      schema_version: ALERT_SCHEMA_VERSION,
      alert_id: alertId(w.device_id, 'new_device', since),
      kind: 'new_device',
      severity: 'info',
      ...this.identity(w, inv),
      ts: w.window_end,
      since,
      score: 0,
      threshold: 0,
      windows_over: 0,
      windows_considered: 0,
      summary: `new device${inv?.vendor ? ` (${inv.vendor})` : ''}: learning its baseline, no anomaly alerts until ${this.config.learning_min_windows} windows are seen`,
      top_features: [],
      new_peers: w.new_peers.slice(0, MAX_LIST),
      new_dst_ports: w.new_dst_ports.slice(0, MAX_LIST),
      model: '',
      sensor_id: w.sensor_id,
      run_id: w.run_id,
    };
  }

  private anomalyAlert(
    w: FeatureWindow,
    inv: ReturnType<InventoryLookup>,
    model: BaselineModel,
    score: number,
    severity: Severity,
    over: number,
    considered: number,
    inc: NonNullable<DeviceState['incident']>,
    top: FeatureContribution[],
    alone = '',
  ): Alert {
    this.counters.add('alerts_anomaly');
    // A change of the device's identity leads the summary (it names what changed); then the top features.
    const identity = top.find((c) => c.feature === 'identity_changes' && c.observed > 0 && w.identity_changes !== undefined);
    const what =
      [identity, ...top.filter((c) => c !== identity)]
        .filter((c): c is FeatureContribution => c !== undefined)
        .slice(0, 2)
        .map((c) => c.text)
        .join('; ') || 'behaviour differs from its baseline';
    return {
      schema_version: ALERT_SCHEMA_VERSION,
      alert_id: inc.id,
      kind: 'anomaly',
      severity,
      ...this.identity(w, inv),
      ts: w.window_end,
      since: inc.since,
      score: Math.round(score * 100) / 100,
      threshold: model.threshold,
      windows_over: over,
      windows_considered: considered,
      summary: `${what} (score ${score.toFixed(1)}, ${over} of ${considered} windows over threshold${alone})`,
      top_features: top,
      new_peers: [...inc.peers],
      new_dst_ports: [...inc.ports],
      model: model.label,
      sensor_id: w.sensor_id,
      run_id: w.run_id,
    };
  }
}
