/**
 * The baseline model end to end on synthetic windows (test/support/synthetic-windows.ts): train → store → detector,
 * detection of each anomaly kind with K-of-N, quiet on held-out benign windows, explanations, store round-trip,
 * schema refusal, new version picked up without restart, learning mode and class fallback, alerted windows not learned.
 * Training runs are kept to a few seconds (≤ 2,000 windows).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { selectBackendFor, type BackendStatus } from '../../../src/detect/backend.js';
import { parseDetectConfig, type DetectConfig } from '../../../src/detect/config.js';
import { Detector, type InventoryLookup } from '../../../src/detect/detector.js';
import { evaluateDetections, type AttackLabel, type ScoredWindow } from '../../../src/detect/evaluate.js';
import { ModelStore } from '../../../src/detect/store.js';
import { Trainer, type TrainResult } from '../../../src/detect/trainer.js';
import { ModelError } from '../../../src/errors.js';
import { FEATURE_SCHEMA_VERSION, type Alert, type FeatureWindow, type InventoryEntry } from '../../../src/records/index.js';
import { ANOMALY_KINDS, benignWindows, DEFAULT_START, WINDOW_S, withAnomaly, type AnomalyKind } from '../../support/synthetic-windows.js';

const PUMP = 'mac:02:00:00:00:00:01';
const NEWCOMER = 'mac:02:00:00:00:00:09';
const DAY = 86_400;

const INVENTORY: Record<string, Pick<InventoryEntry, 'device_class' | 'criticality' | 'name' | 'vendor' | 'first_seen'>> = {
  [PUMP]: { device_class: 'infusion_pump', criticality: 'life_critical', name: 'Pump 3 West', vendor: 'Acme Medical', first_seen: DEFAULT_START },
  [NEWCOMER]: { device_class: 'infusion_pump', criticality: 'high', name: '', vendor: '', first_seen: DEFAULT_START + 2 * DAY },
};
const inventory: InventoryLookup = (id) => INVENTORY[id];

/** Features an analyst would expect to be named for each anomaly kind (any one of them among the top features). */
const EXPECTED_FEATURES: Record<AnomalyKind, string[]> = {
  port_scan: ['new_dst_ports', 'dst_ports', 'tcp_syn', 'tcp_rejected', 'tcp_half_open', 'tcp_rst', 'flows_started'],
  dns_tunnel: ['dns_queries', 'dns_unique_names', 'dns_name_entropy_bits', 'dns_name_len_chars'],
  flood: ['pkts_out', 'bytes_out', 'tcp_syn', 'tcp_half_open', 'iat_mean_ms', 'iat_std_ms'],
  exfiltration: ['new_peers', 'peers_external', 'bytes_out', 'pkt_size_mean_bytes'],
};

function anomalies(alerts: Alert[]): Alert[] {
  return alerts.filter((a) => a.kind === 'anomaly');
}

describe('detect: baseline model lifecycle (synthetic windows)', function () {
  this.timeout(120_000);
  let dir: string;
  let config: DetectConfig;
  let store: ModelStore;
  let trainer: Trainer;
  let trained: TrainResult;
  const baseline = benignWindows({ device_id: PUMP, count: 2000, seed: 1 });
  // Held out: another seed, the next day (never seen in training, not even its seed).
  const heldout = benignWindows({ device_id: PUMP, count: 1500, seed: 2, start: DEFAULT_START + DAY });

  let backend: BackendStatus;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ww-models-'));
    config = parseDetectConfig({ models_dir: dir, learning_min_windows: 60, device_model_min_windows: 500, reload_check_ms: 0, startup_grace_s: 0 });
    backend = await selectBackendFor(config, 'train'); // the default: auto
    store = new ModelStore(dir);
    trainer = new Trainer(config, store);
    trained = await trainer.train(baseline, { kind: 'device', id: PUMP });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores model.json, weights.bin and metadata (schema version, scaler, threshold, range, samples, hash, backend) as v1', async () => {
    assert.deepEqual(trained.ref, { scope: 'device', id: PUMP, version: 1 });
    const vdir = path.join(dir, 'device', encodeURIComponent(PUMP), 'v1');
    const modelJson = JSON.parse(await readFile(path.join(vdir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    assert.deepEqual(modelJson.weightsManifest[0]?.paths, ['weights.bin']);
    const meta = JSON.parse(await readFile(path.join(vdir, 'metadata.json'), 'utf8')) as typeof trained.metadata;
    assert.equal(meta.feature_schema_version, FEATURE_SCHEMA_VERSION);
    assert.equal(meta.version, 1);
    assert.equal(meta.backend, backend.active);
    assert.equal(meta.samples.total, 2000);
    assert.equal(meta.samples.train + meta.samples.validation + meta.samples.heldout, 2000);
    assert.ok(meta.samples.heldout >= 300 && meta.samples.heldout <= 500, `heldout ${meta.samples.heldout}`);
    assert.deepEqual(meta.training_range, { start: DEFAULT_START, end: DEFAULT_START + 2000 * WINDOW_S });
    assert.match(meta.data_hash, /^[0-9a-f]{64}$/);
    assert.ok(meta.threshold.value > meta.threshold.heldout_error.median);
    assert.equal(meta.scaler.median.length, meta.feature_names.length);
    assert.equal((await readFile(path.join(dir, 'device', encodeURIComponent(PUMP), 'latest'), 'utf8')).trim(), '1');
  });

  it('raises no anomaly alert on a held-out benign day-part of the same device', async () => {
    const det = await Detector.open(config, store);
    const { alerts, scores } = await det.score(heldout, inventory);
    assert.equal(scores.length, heldout.length);
    assert.ok(scores.every((x) => !x.learning && x.model === `device:${PUMP}@v1` && Number.isFinite(x.score) && x.threshold > 0));
    assert.deepEqual(anomalies(alerts), [], anomalies(alerts).map((a) => a.summary).join('\n'));
    assert.equal(det.counters.get('windows_scored'), heldout.length);
    // Single noisy windows may cross the threshold; the K-of-N rule is what keeps them quiet. Few must cross at all.
    assert.ok(det.counters.get('windows_over_threshold') <= heldout.length * 0.01, `over: ${det.counters.get('windows_over_threshold')}`);
  });

  for (const kind of ANOMALY_KINDS) {
    it(`detects ${kind} within 3 windows and explains it with the right features`, async () => {
      const det = await Detector.open(config, store);
      const lead = heldout.slice(0, 30);
      const attack = heldout.slice(30, 36).map((w) => withAnomaly(w, kind));
      assert.deepEqual(anomalies((await det.score(lead, inventory)).alerts), []);
      const alerts = anomalies((await det.score(attack, inventory)).alerts);
      assert.ok(alerts.length >= 1, `${kind}: no alert`);
      const first = alerts[0] as Alert;
      const firstAttack = attack[0] as FeatureWindow;
      assert.equal(first.since, firstAttack.window_start);
      assert.ok(first.ts <= (attack[2] as FeatureWindow).window_end, `${kind}: alert at ${first.ts}, later than the 3rd window`);
      assert.ok(first.score > 1);
      assert.equal(first.model, `device:${PUMP}@v1`);
      assert.equal(first.device_name, 'Pump 3 West');
      assert.ok(['medium', 'high', 'critical'].includes(first.severity), `life-critical device: ${first.severity}`);
      if ((kind === 'port_scan' && config.scan_guard) || (kind === 'exfiltration' && config.novelty_guard) || first.score >= config.alert_single_window_score) {
        // The scan guard (new ports + unanswered attempts, over the threshold), the novelty guard (an external host
        // the pump's baseline never reached) or a score ≥ alert_single_window_score alerts on the first window alone.
        if (kind === 'exfiltration') assert.match(first.summary, /first contact with .*, an external host its baseline never reached/);
        assert.equal(first.ts, firstAttack.window_end);
        assert.equal(first.windows_over, 1);
      } else assert.equal(first.windows_over >= config.alert_k, true);
      // The same incident keeps its id.
      for (const a of alerts) assert.equal(a.alert_id, first.alert_id);
      const named = first.top_features.map((c) => c.feature);
      assert.ok(named.some((f) => EXPECTED_FEATURES[kind].includes(f)), `${kind}: top features ${named.join(', ')}`);
      for (const c of first.top_features) {
        assert.ok(c.text.includes('expected'), c.text);
        assert.ok(c.share > 0 && c.share <= 1);
      }
      assert.ok(!first.summary.includes('Pump 3 West'), 'summary must not carry the device name (sinks prefix it)');
      assert.ok(first.summary.includes((first.top_features[0] as { text: string }).text), first.summary);
      if (kind === 'port_scan') {
        assert.ok(first.new_dst_ports.includes(1000));
        const ports = first.top_features.find((c) => c.feature === 'new_dst_ports');
        if (ports) assert.match(ports.text, /^200 new destination ports; expected ≤ \d$/);
      }
      if (kind === 'exfiltration') assert.deepEqual(first.new_peers, ['203.0.113.50']);
    });
  }

  it('evaluation on a held-out stream with one attack of each kind: all detected within 3 windows, ≤ 1 false alert per device-day', async () => {
    const det = await Detector.open(config, store);
    const labels: AttackLabel[] = [];
    const stream = heldout.map((w, i) => {
      const k = ANOMALY_KINDS[Math.floor((i - 200) / 300)];
      const inAttack = i >= 200 && (i - 200) % 300 < 6 && k !== undefined;
      if (inAttack && (i - 200) % 300 === 0) labels.push({ kind: k, device_id: PUMP, start: w.window_start, end: w.window_start + 6 * WINDOW_S });
      return inAttack ? withAnomaly(w, k) : w;
    });
    assert.equal(labels.length, ANOMALY_KINDS.length);
    const { alerts, scores } = await det.score(stream, inventory);
    const scored: ScoredWindow[] = scores.filter((x) => !x.learning);
    const r = evaluateDetections(scored, alerts, labels, WINDOW_S);
    for (const kind of ANOMALY_KINDS) {
      const k = r.per_kind[kind];
      assert.ok(k, kind);
      assert.equal(k.detected, 1, `${kind} not detected`);
      assert.ok((k.delays_windows[0] ?? 99) <= 3, `${kind} delay ${k.delays_windows[0]}`);
      assert.ok(k.roc_auc > 0.99, `${kind} AUC ${k.roc_auc}`);
    }
    assert.ok(r.false_alerts_per_device_day <= 1, `false alerts/device-day ${r.false_alerts_per_device_day}`);
    assert.equal(r.benign_windows, heldout.length - 6 * ANOMALY_KINDS.length);
  });

  it('per-device state handed over to another detector (partition move) gives the same alerts as one detector', async () => {
    const noGuard = parseDetectConfig({ ...config, scan_guard: false, alert_single_window_score: 0 }); // the K-of-N state is what is handed over
    const stream = heldout.slice(0, 60).map((w, i) => (i >= 29 && i < 34 ? withAnomaly(w, 'port_scan') : w));
    const single = await Detector.open(noGuard, store);
    const expected = anomalies((await single.score(stream, inventory)).alerts);
    assert.ok(expected.length >= 1);
    // Detector A sees the windows up to and including the first anomalous one (K-of-N half way), then hands over.
    const a = await Detector.open(noGuard, store);
    const firstHalf = anomalies((await a.score(stream.slice(0, 30), inventory)).alerts);
    assert.deepEqual(firstHalf, []);
    const state = a.takeDirtyState();
    assert.deepEqual([...state.keys()], [PUMP]);
    assert.equal(a.takeDirtyState().size, 0); // taken
    const b = await Detector.open(noGuard, store);
    assert.equal(b.restoreState(new Map([...state, ['mac:bad', Buffer.from('not json')]])), 1);
    assert.equal(b.counters.get('state_entries_invalid'), 1);
    const handedOver = anomalies((await b.score(stream.slice(30), inventory)).alerts);
    assert.deepEqual(handedOver, expected);
    // Without the state, B would alert later (it must see K over-threshold windows itself).
    const c = await Detector.open(noGuard, store);
    const cold = anomalies((await c.score(stream.slice(30), inventory)).alerts);
    assert.notEqual(cold[0]?.alert_id, expected[0]?.alert_id);
  });

  it('a single anomalous window among benign ones does not alert (K-of-N)', async () => {
    const det = await Detector.open(parseDetectConfig({ ...config, scan_guard: false, alert_single_window_score: 0 }), store);
    const stream = heldout.slice(0, 40).map((w, i) => (i === 20 ? withAnomaly(w, 'port_scan') : w));
    assert.deepEqual(anomalies((await det.score(stream, inventory)).alerts), []);
    assert.ok(det.counters.get('windows_over_threshold') >= 1);
  });

  it('the scan guard: one window reaching new ports with unanswered attempts alerts alone; other single windows do not', async () => {
    const guardOnly = parseDetectConfig({ ...config, alert_single_window_score: 0, novelty_guard: false });
    const det = await Detector.open(guardOnly, store);
    const scan = heldout.slice(0, 40).map((w, i) => (i === 20 ? withAnomaly(w, 'port_scan') : w));
    const alerts = anomalies((await det.score(scan, inventory)).alerts);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.since, scan[20]?.window_start);
    assert.equal(alerts[0]?.windows_over, 1);
    assert.equal(det.counters.get('windows_scan_guard'), 1);
    // A single exfiltration-like window (no new port, no rejected attempt) still needs K of N.
    const other = await Detector.open(guardOnly, store);
    const exfil = heldout.slice(40, 80).map((w, i) => (i === 20 ? withAnomaly(w, 'exfiltration') : w));
    assert.deepEqual(anomalies((await other.score(exfil, inventory)).alerts), []);
    assert.equal(other.counters.get('windows_scan_guard'), 0);
    // With the novelty guard, the same window alerts alone: its new external host is not in the pump's baseline,
    // which reached no new external host.
    const novel = await Detector.open(parseDetectConfig({ ...config, alert_single_window_score: 0 }), store);
    const alone = anomalies((await novel.score(exfil, inventory)).alerts);
    assert.equal(alone.length, 1);
    assert.equal(alone[0]?.windows_over, 1);
    assert.equal(novel.counters.get('windows_novelty_guard'), 1);
  });

  it('windows in the startup grace are scored but never alert; after it the same anomaly does', async () => {
    const graced = parseDetectConfig({ ...config, startup_grace_s: 300 });
    const det = await Detector.open(graced, store);
    // Windows 5..9 (50–100 s after the first window) anomalous: inside the grace.
    const early = heldout.slice(0, 60).map((w, i) => (i >= 5 && i < 10 ? withAnomaly(w, 'port_scan') : w));
    const out = await det.score(early, inventory);
    assert.deepEqual(anomalies(out.alerts), []);
    assert.ok(out.scores.slice(5, 10).every((s) => s.score > 1), 'the graced windows are still scored (over the threshold)');
    const late = heldout.slice(60, 120).map((w, i) => (i >= 5 && i < 10 ? withAnomaly(w, 'port_scan') : w));
    assert.equal(anomalies((await det.score(late, inventory)).alerts).length, 1);
  });

  it('windows that lost packets (capture_loss > capture_loss_max) are scored and written but raise no model alert; rules still alert, with a caveat', async () => {
    const lossy = (loss: number) => heldout.slice(120, 180).map((w, i) => ({ ...(i >= 20 && i < 26 ? withAnomaly(w, 'port_scan') : w), capture_loss: i >= 20 && i < 26 ? loss : 0.002 }));
    const det = await Detector.open(config, store);
    const out = await det.score(lossy(0.05), inventory);
    assert.deepEqual(anomalies(out.alerts), [], 'no model alert on windows that lost 5 % of the packets');
    assert.equal(out.scores.filter((x) => !x.learning).length, 60, 'every window is scored (and written to the sinks)');
    assert.ok(out.scores.slice(20, 26).every((x) => x.score > 1), 'the lossy windows still score over the threshold');
    assert.equal(det.counters.get('windows_capture_loss'), 6);
    assert.equal(det.counters.get('windows_capture_loss_over_threshold'), 6);
    assert.equal(det.counters.get('windows_over_threshold'), 0);
    // The behavioural rule (200 ports with SYNs) is not fooled by missing packets: it alerts, saying the window lost some.
    const rule = out.alerts.filter((a) => a.kind === 'port_scan');
    assert.equal(rule.length, 1);
    assert.match(rule[0]!.summary, /; caveat: the sensor lost 5\.0 % of its packets while this window was open \(capture loss\), so its counts are lower bounds$/);
    // At the limit (not above it) the same windows alert as usual, without the caveat; capture_loss_max 1 turns the discount off.
    const atLimit = await Detector.open(config, store);
    const usual = await atLimit.score(lossy(config.capture_loss_max), inventory);
    assert.equal(anomalies(usual.alerts).length, 1);
    assert.doesNotMatch(usual.alerts.find((a) => a.kind === 'port_scan')!.summary, /caveat/);
    const off = await Detector.open(parseDetectConfig({ ...config, capture_loss_max: 1 }), store);
    assert.equal(anomalies((await off.score(lossy(0.5), inventory)).alerts).length, 1);
  });

  it('a lossy window neither opens nor closes an incident: K of N counts the windows the sensor saw whole', async () => {
    const noGuard = parseDetectConfig({ ...config, scan_guard: false, novelty_guard: false, alert_single_window_score: 0 });
    // Anomalous windows 20 and 23 with two lossy windows between them: 2 of the last 3 windows seen whole are over.
    const stream = heldout.slice(200, 240).map((w, i) => (i === 20 || i === 23 ? withAnomaly(w, 'port_scan') : i === 21 || i === 22 ? { ...w, capture_loss: 0.3 } : w));
    const det = await Detector.open(noGuard, store);
    const alerts = anomalies((await det.score(stream, inventory)).alerts);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.since, stream[20]!.window_start);
    assert.equal(alerts[0]!.ts, stream[23]!.window_end);
    assert.equal(alerts[0]!.windows_over, 2);
    // Had the lossy windows counted as normal, 1 of the last 3 would be over: no alert.
    const counted = await Detector.open(parseDetectConfig({ ...noGuard, capture_loss_max: 1 }), store);
    assert.deepEqual(anomalies((await counted.score(stream, inventory)).alerts), []);
  });

  it('training leaves out windows that lost packets', async () => {
    const t = new Trainer(config, store);
    const few = baseline.slice(0, 600).map((w, i) => (i < 200 ? { ...w, capture_loss: 0.2 } : w));
    await assert.rejects(t.train(few, { kind: 'device', id: PUMP }), (e: unknown) => e instanceof ModelError && /400 usable baseline windows, need ≥ 500 \(200 excluded: capture loss above detect\.capture_loss_max\)/.test(e.message));
    assert.equal(t.counters.get('windows_excluded_capture_loss'), 200);
  });

  it('scoring and training leak no tensors', async () => {
    const det = await Detector.open(config, store);
    await det.score(heldout.slice(0, 50), inventory);
    const before = tf.memory().numTensors;
    await det.score(heldout.slice(50, 500).map((w, i) => (i % 50 < 3 ? withAnomaly(w, 'flood') : w)), inventory);
    assert.equal(tf.memory().numTensors, before);
    const t = new Trainer(parseDetectConfig({ ...config, training: { ...config.training, max_epochs: 2 } }), store);
    const mid = tf.memory().numTensors;
    const r = await t.train(baseline.slice(0, 600), { kind: 'class', id: 'imaging' }, { min_windows: 100 });
    const weights = r.model.network.getWeights().length;
    assert.equal(tf.memory().numTensors, mid + weights); // only the new model's weights remain
    r.model.dispose();
    assert.equal(tf.memory().numTensors, mid);
  });

  it('save → load gives identical scores', async () => {
    const { model, metadata } = await store.load('device', PUMP);
    const { BaselineModel } = await import('../../../src/detect/model.js');
    const loaded = new BaselineModel(model, metadata);
    const rows = heldout.slice(0, 200).map((w) => w.values);
    const a = trained.model.scoreRows(rows);
    const b = loaded.scoreRows(rows);
    assert.deepEqual(b.errors, a.errors);
    assert.equal(loaded.threshold, trained.model.threshold);
    assert.equal(loaded.label, `device:${PUMP}@v1`);
    loaded.dispose();
  });

  it('refuses windows of another feature schema version', async () => {
    const other: FeatureWindow = { ...(heldout[0] as FeatureWindow), feature_schema_version: FEATURE_SCHEMA_VERSION + 1 };
    assert.throws(() => trained.model.score([other]), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_SCHEMA' && /retrain/.test(e.message));
    const shorter: FeatureWindow = { ...(heldout[0] as FeatureWindow), values: (heldout[0] as FeatureWindow).values.slice(1) };
    assert.throws(() => trained.model.score([shorter]), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_SCHEMA');
    const det = await Detector.open(config, store);
    assert.deepEqual(await det.score([withAnomaly(other, 'flood'), withAnomaly({ ...other, window_start: other.window_start + 10 }, 'flood')], inventory), { alerts: [], scores: [] });
    assert.equal(det.counters.get('windows_refused_schema'), 2);
    assert.equal(det.counters.get('windows_scored'), 0);
  });

  it('missing models are a ModelError, not a crash', async () => {
    await assert.rejects(store.load('device', 'mac:no:such'), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_MISSING');
  });

  it('a new device learns (one new_device alert, no anomaly alerts), then the class model scores it', async () => {
    const det = await Detector.open(config, store);
    const start = DEFAULT_START + 2 * DAY;
    const stream = benignWindows({ device_id: NEWCOMER, count: 100, seed: 7, start, volume: 1.1 });
    // Anomalous windows while learning: no anomaly alert.
    const learning = stream.slice(0, 40).map((w, i) => (i >= 30 && i < 36 ? withAnomaly(w, 'port_scan') : w));
    const { alerts: a1, scores: s1 } = await det.score(learning, inventory);
    assert.equal(s1.length, learning.length);
    assert.ok(s1.every((x) => x.learning && Number.isNaN(x.score) && x.model === ''));
    // The model is silent while learning; the baseline-free port-scan rule is not (one incident for the burst).
    assert.deepEqual(a1.map((a) => a.kind), ['new_device', 'port_scan']);
    assert.equal(a1[0]?.severity, 'info');
    assert.equal(a1[0]?.since, start);
    assert.equal(a1[1]?.since, (learning[30] as FeatureWindow).window_start);
    assert.equal(det.deviceStatus(NEWCOMER, inventory).learning, true);
    // Past learning_min_windows but no class model yet: still learning, the model still quiet.
    assert.deepEqual((await det.score(stream.slice(40, 70).map((w, i) => (i >= 25 ? withAnomaly(w, 'port_scan') : w)), inventory)).alerts.map((a) => a.kind), ['port_scan']);
    assert.equal(det.deviceStatus(NEWCOMER, inventory).learning, true);
    // Train the class model from two other pumps; the detector picks it up at its next batch.
    const peers = [
      ...benignWindows({ device_id: 'mac:02:00:00:00:00:02', count: 400, seed: 11, volume: 0.9 }),
      ...benignWindows({ device_id: 'mac:02:00:00:00:00:03', count: 400, seed: 12, volume: 1.2, phase: 1 }),
    ];
    const cls = await trainer.train(peers, { kind: 'class', id: 'infusion_pump' });
    assert.deepEqual(cls.metadata.devices, ['mac:02:00:00:00:00:02', 'mac:02:00:00:00:00:03']);
    const tail = stream.slice(70, 100).map((w, i) => (i >= 20 && i < 26 ? withAnomaly(w, 'dns_tunnel') : w));
    const a3 = (await det.score(tail, inventory)).alerts;
    assert.equal(det.deviceStatus(NEWCOMER, inventory).model, 'class:infusion_pump@v1');
    const an = anomalies(a3);
    assert.ok(an.length >= 1, 'class model raised no alert');
    assert.equal(an[0]?.model, 'class:infusion_pump@v1');
    assert.equal(an[0]?.since, (tail[20] as FeatureWindow).window_start);
    assert.ok(an.every((a) => a.kind === 'anomaly'));
  });

  it('a device in a class model\'s baseline is scored by it at once, even when the inventory now gives another class', async () => {
    // Runs after the test above, which trained class:infusion_pump on pumps ...02 and ...03.
    const member = 'mac:02:00:00:00:00:02';
    const reclassified: InventoryLookup = (id) => (id === member ? { device_class: 'imaging', criticality: 'high', name: '', vendor: '', first_seen: DEFAULT_START } : inventory(id));
    const det = await Detector.open(config, store);
    const stream = benignWindows({ device_id: member, count: 30, seed: 21, start: DEFAULT_START + 5 * DAY, volume: 0.9 }).map((w, i) => (i >= 20 && i < 26 ? withAnomaly(w, 'port_scan') : w));
    const { alerts, scores } = await det.score(stream, reclassified);
    assert.ok(scores.every((x) => !x.learning && x.model === 'class:infusion_pump@v1'), 'scored from the first window by its class model');
    assert.ok(alerts.every((a) => a.kind !== 'new_device'), 'no new_device alert for a known device');
    assert.equal(anomalies(alerts)[0]?.since, (stream[20] as FeatureWindow).window_start);
    // A device in no baseline still learns first.
    const stranger = 'mac:02:00:00:00:00:09';
    const s2 = await det.score(benignWindows({ device_id: stranger, count: 5, seed: 22, start: DEFAULT_START + 5 * DAY }), () => ({ device_class: 'infusion_pump', criticality: 'high', name: '', vendor: '', first_seen: DEFAULT_START }));
    assert.ok(s2.scores.every((x) => x.learning));
  });

  it('picks up a new version without restart, and does not learn windows that raised alerts', async () => {
    const det = await Detector.open(config, store);
    assert.ok(det.loadedModels().includes(`device:${PUMP}@v1`));
    const day3 = benignWindows({ device_id: PUMP, count: 600, seed: 3, start: DEFAULT_START + 3 * DAY });
    const withAttack = day3.map((w, i) => (i >= 300 && i < 310 ? withAnomaly(w, 'flood') : w));
    const alerts = anomalies((await det.score(withAttack, inventory)).alerts);
    assert.ok(alerts.length >= 1);
    // The model's incident and the flood rule's (its thousands of SYNs) both start at the attack's first window.
    const ranges = det.alertedRanges();
    assert.ok(ranges.length >= 1 && ranges.every((r) => r.since === (withAttack[300] as FeatureWindow).window_start), JSON.stringify(ranges));
    const inRange = withAttack.filter((w) => ranges.some((r) => w.window_start >= r.since && w.window_start <= r.until)).length;
    assert.ok(inRange >= 9, `range covers ${inRange} windows`);
    const retrained = await trainer.train([...baseline.slice(1500), ...withAttack], { kind: 'device', id: PUMP }, { exclude: ranges });
    assert.equal(retrained.ref.version, 2);
    assert.equal(retrained.metadata.samples.excluded_alerted, inRange);
    assert.equal(retrained.metadata.samples.total, 500 + 600 - inRange);
    // The running detector uses v2 from its next batch on.
    const next = benignWindows({ device_id: PUMP, count: 10, seed: 4, start: DEFAULT_START + 4 * DAY }).map((w) => withAnomaly(w, 'port_scan'));
    const a2 = anomalies((await det.score(next, inventory)).alerts);
    assert.ok(det.loadedModels().includes(`device:${PUMP}@v2`));
    assert.equal(a2[0]?.model, `device:${PUMP}@v2`);
    assert.deepEqual(await store.versions('device', PUMP), [1, 2]);
  });

  it('keeps the loaded version when a newer one is corrupt (counted, not a crash)', async () => {
    const det = await Detector.open(config, store);
    assert.ok(det.loadedModels().includes(`device:${PUMP}@v2`));
    const base = path.join(dir, 'device', encodeURIComponent(PUMP));
    await mkdir(path.join(base, 'v3'));
    await writeFile(path.join(base, 'v3', 'metadata.json'), '{"format":"something-else"}');
    await writeFile(path.join(base, 'latest'), '3\n');
    await writeFile(path.join(dir, 'GENERATION'), 'manual-corruption\n');
    await assert.rejects(store.load('device', PUMP), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_CORRUPT');
    const next = benignWindows({ device_id: PUMP, count: 5, seed: 5, start: DEFAULT_START + 5 * DAY });
    await det.score(next, inventory);
    assert.equal(det.counters.get('model_load_errors'), 1);
    assert.ok(det.loadedModels().includes(`device:${PUMP}@v2`));
    assert.equal(det.counters.get('windows_scored'), 5);
    await rm(path.join(base, 'v3'), { recursive: true });
    await writeFile(path.join(base, 'latest'), '2\n');
  });

  it('training is deterministic for a seed and skips windows of another schema version', async () => {
    const small = parseDetectConfig({ ...config, training: { ...config.training, max_epochs: 3 } });
    const dirs = [await mkdtemp(path.join(os.tmpdir(), 'ww-det-a-')), await mkdtemp(path.join(os.tmpdir(), 'ww-det-b-'))];
    try {
      const input = [...baseline.slice(0, 600), { ...(baseline[600] as FeatureWindow), feature_schema_version: 99 }];
      const results = [];
      for (const d of dirs) {
        const t = new Trainer(small, new ModelStore(d));
        results.push(await t.train(input, { kind: 'device', id: PUMP }));
        assert.equal(t.counters.get('windows_skipped_schema'), 1);
      }
      assert.equal(results[0]?.metadata.data_hash, results[1]?.metadata.data_hash);
      const w = await Promise.all(dirs.map((d) => readFile(path.join(d, 'device', encodeURIComponent(PUMP), 'v1', 'weights.bin'))));
      assert.ok((w[0] as Buffer).equals(w[1] as Buffer), 'weights differ between two runs with the same seed');
      results.forEach((r) => r.model.dispose());
    } finally {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  });

  it('refuses to train on too few windows', async () => {
    await assert.rejects(trainer.train(baseline.slice(0, 100), { kind: 'device', id: PUMP }), (e: unknown) => e instanceof ModelError && e.code === 'WW_MODEL_TOO_FEW_WINDOWS');
  });
});
