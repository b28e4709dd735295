/**
 * Issue 23 item 2: a change of a device's medical identity is a feature (`identity_changes`) the model and the
 * explanations use. The settle period (a device's first values are its identity, not changes), what counts and what
 * does not (acknowledgements, called AE titles, full lists), the window's list through every codec, and end to end: a
 * crafted ward capture where a pump starts sending ADT^A01 and a CT calls from a new AE title, models trained on its
 * first two hours, then `run` on the whole capture: the two alerts name what changed, the stable monitor has no
 * identity signal and no alert.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCapture } from '../../src/cli/run.js';
import { parseConfig } from '../../src/config/load.js';
import { parseDetectConfig } from '../../src/detect/index.js';
import { topContributions } from '../../src/detect/explain.js';
import { AppIdentityState } from '../../src/flows/app-identity.js';
import { featureIndex, FEATURE_SCHEMA, identityChangeText, type FeatureWindow, type IdentityChange } from '../../src/records/features.js';
import type { AppMeta } from '../../src/records/packet.js';
import { windowPoint } from '../../src/sinks/influx/points.js';
import { trainFromCapture } from '../../src/train.js';
import {
  decodeWindow,
  decodeWindowBatch,
  decodeWindowBinary,
  encodeWindow,
  encodeWindowBatch,
  encodeWindowBinary,
  PoisonMessageError,
  WINDOW_BINARY,
  WINDOW_BINARY_V2,
  WINDOW_BINARY_V3,
} from '../../src/transport/codec.js';
import { analyseFile } from '../support/analyse-file.js';
import { identityWardCapture, PUMP_EQUIPMENT, WARD_IDS } from '../support/identity-change.js';
import { makeWindows } from '../support/windows.js';

const IC = featureIndex('identity_changes');
const H = 3600;
const T0 = 1_767_603_600; // 2026-01-05 09:00:00 UTC

const hl7 = (type: string, app = 'PUMP-03', obx18?: string): AppMeta => ({ hl7_msg_type: type, hl7_sending_app: app, ...(obx18 ? { hl7_obx18: obx18 } : {}) });
const rq = (calling: string, called = 'PACS01'): AppMeta => ({ dicom_pdu_type: 1, dicom_calling_ae: calling, dicom_called_ae: called });

describe('identity changes: what counts (AppIdentityState)', () => {
  it('learns for identity_settle_ms after a field\'s first value, then counts each new value once, naming what came before', () => {
    const s = new AppIdentityState(H);
    s.learnHl7Sent(hl7('ORU^R01^ORU_R01', 'PUMP-03', PUMP_EQUIPMENT), 0);
    s.learnHl7Sent(hl7('ORU^R40^ORU_R40'), 3000); // within the hour: learned, not a change
    assert.equal(s.takeChanges(), undefined);
    s.learnHl7Sent(hl7('ORU^R01^ORU_R01'), 3700);
    assert.equal(s.takeChanges(), undefined, 'a known value is no change');
    s.learnHl7Sent(hl7('ADT^A01^ADT_A01'), 3800);
    s.learnHl7Sent(hl7('ADT^A01^ADT_A01'), 3810); // the same new type again: counted once
    const c = s.takeChanges();
    assert.deepEqual(c, { count: 1, changes: [{ field: 'hl7_message_type', value: 'ADT^A01^ADT_A01', context: 'PUMP-03', seen_before: ['ORU^R01^ORU_R01', 'ORU^R40^ORU_R40'] }] });
    assert.equal(identityChangeText(c.changes[0]!), 'new HL7 message type ADT^A01^ADT_A01 from PUMP-03; seen before: ORU^R01^ORU_R01, ORU^R40^ORU_R40');
    assert.equal(s.takeChanges(), undefined, 'taken');
    // A new sending application and equipment id in one message: two changes.
    s.learnHl7Sent(hl7('ORU^R01^ORU_R01', 'PUMP-99', 'PUMP-99^ALARIS8015^ACME'), 4000);
    assert.deepEqual(
      s.takeChanges()?.changes.map((x) => identityChangeText(x)),
      ['new HL7 sending application PUMP-99; seen before: PUMP-03', `new HL7 equipment id PUMP-99^ALARIS8015^ACME (OBX-18) from PUMP-99; seen before: ${PUMP_EQUIPMENT} (OBX-18)`],
    );
  });

  it('each field settles from its own first value (a DICOM AE title an hour after the HL7 ones is still being learned)', () => {
    const s = new AppIdentityState(H);
    s.learnHl7Sent(hl7('ORU^R01^ORU_R01'), 0);
    s.learnDicom(rq('CT01'), true, 2 * H);
    s.learnDicom(rq('CT02'), true, 2.5 * H);
    assert.equal(s.takeChanges(), undefined);
    s.learnDicom(rq('CT_ROGUE'), true, 3.1 * H);
    assert.deepEqual(s.takeChanges()?.changes, [{ field: 'dicom_ae_title', value: 'CT_ROGUE', context: 'PACS01', seen_before: ['CT01', 'CT02'] }]);
  });

  it('never counts what the device does not say of itself: acknowledgements, the AE title others call it by, values beyond a full list', () => {
    const engine = new AppIdentityState(H);
    engine.learnHl7Sent(hl7('ACK^R01^ACK', 'HL7ENGINE'), 0);
    engine.learnHl7Sent(hl7('ACK^A01^ACK', 'NEWAPP'), 2 * H); // an ACK echoing a new sender's names and type
    engine.learnHl7Sent(hl7('ACK', 'OTHER'), 2 * H);
    assert.equal(engine.takeChanges(), undefined);
    assert.deepEqual(engine.toRecord().hl7_sending_applications, ['HL7ENGINE', 'NEWAPP', 'OTHER'], 'learned all the same');
    const pacs = new AppIdentityState(H);
    pacs.learnDicom(rq('CT01', 'PACS01'), false, 0);
    pacs.learnDicom(rq('CT01', 'ARCHIVE'), false, 2 * H); // called by another title: the caller's choice
    assert.equal(pacs.takeChanges(), undefined);
    assert.deepEqual(pacs.toRecord().dicom_ae_titles, ['PACS01', 'ARCHIVE']);
    const gw = new AppIdentityState(H);
    for (let i = 0; i < 8; i++) gw.learnHl7Sent(hl7('ORU^R01', `APP${i}`), 0);
    gw.learnHl7Sent(hl7('ORU^R01', 'APP8'), 2 * H); // the list (8) is full: not kept, not a change
    assert.equal(gw.takeChanges(), undefined);
    assert.equal(gw.toRecord().dropped.hl7_sending_applications, 1);
  });

  it('a device restored from a saved inventory is settled for the fields it has values of', () => {
    const before = new AppIdentityState(H);
    before.learnHl7Sent(hl7('ORU^R01^ORU_R01'), 0);
    const restored = AppIdentityState.fromRecord(before.toRecord(), H);
    restored.learnHl7Sent(hl7('ADT^A01^ADT_A01'), 10);
    restored.learnDicom(rq('CT01'), true, 10); // a field it had no value of: its first value, learned
    assert.deepEqual(restored.takeChanges()?.changes.map((c) => c.value), ['ADT^A01^ADT_A01']);
  });

  it('keeps the first 8 changes of a window and counts them all', () => {
    const s = new AppIdentityState(0);
    s.learnHl7Sent(hl7('T0', 'A'), 0);
    for (let i = 1; i <= 12; i++) s.learnHl7Sent(hl7(`T${i}`, 'A'), i);
    const c = s.takeChanges()!;
    assert.equal(c.count, 12);
    assert.equal(c.changes.length, 8);
    assert.deepEqual(c.changes[7]!.seen_before, ['T0', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7']);
  });
});

describe('identity changes: feature windows of a capture', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ww-identity-change-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the window of a pump\'s first ADT^A01 and of a CT\'s new AE title count 1 and name it; every other window, and the stable monitor, 0', async () => {
    const file = join(dir, 'ward.pcap');
    writeFileSync(file, identityWardCapture({ t0: T0, durationS: 2.5 * H, pumpChangeS: 2 * H + 5, ctChangeS: 2 * H + 600 }));
    const { windows } = await analyseFile(file);
    const changed = windows.filter((w) => (w.values[IC] ?? 0) > 0);
    assert.deepEqual(
      changed.map((w) => [w.device_id, w.window_start - T0, w.values[IC], w.identity_changes]),
      [
        [WARD_IDS.pump, 2 * H + 100, 1, [{ field: 'hl7_message_type', value: 'ADT^A01^ADT_A01', context: 'PUMP-03', seen_before: ['ORU^R01^ORU_R01'] }]],
        [WARD_IDS.ct, 2 * H + 600, 1, [{ field: 'dicom_ae_title', value: 'CT_ROGUE', context: 'PACS01', seen_before: ['CT01'] }]],
      ],
    );
    assert.ok(windows.every((w) => (w.values[IC] ?? 0) > 0 || w.identity_changes === undefined), 'the list only where the count is');
    const monitor = windows.filter((w) => w.device_id === WARD_IDS.monitor);
    assert.ok(monitor.length > 800 && monitor.every((w) => w.values[IC] === 0), `${monitor.length} windows of the stable monitor, none with a change`);
  });

  it('a change within the first hour (the settle period) is learned as the device\'s identity, not counted', async () => {
    const file = join(dir, 'early.pcap');
    writeFileSync(file, identityWardCapture({ t0: T0, durationS: 2 * H, pumpChangeS: 1800, ctChangeS: 3000 }));
    const { windows, inventory } = await analyseFile(file);
    assert.ok(windows.every((w) => w.values[IC] === 0 && w.identity_changes === undefined));
    const pump = inventory.find((e) => e.device_id === WARD_IDS.pump)!;
    assert.deepEqual(pump.app_identity.hl7_message_types.map((t) => t.type), ['ORU^R01^ORU_R01', 'ADT^A01^ADT_A01']);
    const ct = inventory.find((e) => e.device_id === WARD_IDS.ct)!;
    assert.deepEqual(ct.app_identity.dicom_ae_titles, ['CT01', 'CT_ROGUE']);
  });
});

describe('identity changes travel with the window (codecs, InfluxDB point)', () => {
  const changes: IdentityChange[] = [
    { field: 'hl7_message_type', value: 'ADT^A01^ADT_A01', context: 'PUMP-03', seen_before: ['ORU^R01^ORU_R01'] },
    { field: 'dicom_ae_title', value: 'CT_ÜBER', context: '', seen_before: [] },
  ];
  const base = (): FeatureWindow => {
    const w = makeWindows(1, 1, 7, 'run-1', T0)[0]!;
    w.values[IC] = 2;
    return w;
  };

  it('binary: ww-window-bin/3 with the changes (and capture loss), /1 and /2 unchanged without them; JSON; batches', () => {
    const w = { ...base(), identity_changes: changes };
    const m = encodeWindow(w);
    assert.equal(m.format, WINDOW_BINARY_V3);
    assert.deepEqual(decodeWindow(m.value, m.format), w);
    const lossy = { ...w, capture_loss: 0.25 };
    assert.deepEqual(decodeWindowBinary(encodeWindowBinary(lossy)), lossy);
    assert.equal(encodeWindow(base()).format, WINDOW_BINARY);
    assert.equal(encodeWindow({ ...base(), capture_loss: 0.25 }).format, WINDOW_BINARY_V2);
    assert.equal(encodeWindow({ ...base(), identity_changes: [] }).format, WINDOW_BINARY, 'an empty list is no metadata');
    const json = encodeWindow(w, 'json');
    assert.deepEqual(decodeWindow(json.value, json.format), w);
    const batch = encodeWindowBatch([m, encodeWindow({ ...w, window_start: T0 + 10, window_end: T0 + 20 })]);
    assert.equal(batch[1], 3, 'inner codec 3');
    assert.deepEqual(decodeWindowBatch(batch).map((x) => x.identity_changes), [changes, changes]);
  });

  it('poison: an unknown field, the identity flag in a /2 window, a truncated list, a mistyped JSON change', () => {
    const buf = encodeWindowBinary({ ...base(), identity_changes: changes });
    // Field code 9 in the first change: find it after the metadata flags byte (flags 0x02, then k = 2, then the code 0).
    const at = buf.indexOf(Buffer.from([0x02, 0x02, 0x00]), buf.length - 80);
    assert.ok(at > 0);
    const badField = Buffer.from(buf);
    badField[at + 2] = 9;
    assert.throws(() => decodeWindowBinary(badField), (e: unknown) => e instanceof PoisonMessageError && /unknown field 9/.test(e.message));
    const asV2 = Buffer.from(buf);
    asV2[0] = 2;
    assert.throws(() => decodeWindowBinary(asV2), /unknown metadata flags 0x2/);
    assert.throws(() => decodeWindowBinary(buf.subarray(0, buf.length - 3)), PoisonMessageError);
    const bad = Buffer.from(JSON.stringify({ ...base(), identity_changes: [{ field: 'hl7_message_type', value: 1, context: '', seen_before: [] }] }));
    assert.throws(() => decodeWindow(bad, 'ww-window-json/1'), /not a feature window/);
  });

  it('ww_device_window carries the changes in words (identity_change_list)', () => {
    const p = windowPoint({ ...base(), identity_changes: changes }, undefined);
    assert.equal(p.fields?.['identity_changes'], 2);
    assert.equal(p.fields?.['identity_change_list'], 'new HL7 message type ADT^A01^ADT_A01 from PUMP-03; seen before: ORU^R01^ORU_R01 | new DICOM AE title CT_ÜBER; seen before: none');
    assert.equal(windowPoint(base(), undefined).fields?.['identity_change_list'], undefined);
  });

  it('the explanation always lists identity_changes when the window has one, whatever its share', () => {
    const d = FEATURE_SCHEMA.length;
    const sq = new Float64Array(d).fill(0);
    const observed = new Array<number>(d).fill(0);
    for (let j = 0; j < 6; j++) {
      sq[j] = 100 - j;
      observed[j] = 50;
    }
    sq[IC] = 0.5; // under 2 % of the error
    observed[IC] = 1;
    const deviation = Float64Array.from(sq, (x) => (x > 1 ? 10 : 0));
    const top = topContributions(sq, observed, new Float64Array(d), deviation, 5, FEATURE_SCHEMA, IC);
    assert.equal(top.length, 5);
    assert.equal(top[4]!.feature, 'identity_changes');
    assert.equal(topContributions(sq, observed, new Float64Array(d), deviation, 5).some((c) => c.feature === 'identity_changes'), false);
  });
});

describe('identity changes end to end: models trained on the first two hours, then run on the whole capture', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ww-identity-e2e-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('alerts the pump\'s new HL7 message type and the CT\'s new AE title alone, naming them; nothing for the stable monitor', async () => {
    const file = join(dir, 'ward.pcap');
    writeFileSync(file, identityWardCapture({ t0: T0, durationS: 2.5 * H, pumpChangeS: 2 * H + 5, ctChangeS: 2 * H + 600 }));
    const models = join(dir, 'models');
    const trained = await trainFromCapture(file, parseDetectConfig({ models_dir: models }), { to: T0 + 2 * H });
    assert.deepEqual(trained.models.map((m) => m.model?.replace(/@v\d+$/, '')).sort(), ['class:imaging', 'class:infusion_pump', 'class:pacs', 'class:patient_monitor', 'class:server']);
    const run = async (identityGuard: boolean) => {
      const config = parseConfig(
        { detect: { models_dir: models, identity_guard: identityGuard }, devices: { state_file: '' }, sinks: { files: { alerts_file: join(dir, `alerts-${identityGuard}.jsonl`) } } },
        'test',
        {},
      );
      return (await runCapture(file, config, { speed: 'max', quiet: true }, 'run')).alerts.filter((a) => a.kind === 'anomaly');
    };
    const alerts = await run(true);
    const pump = alerts.filter((a) => a.device_id === WARD_IDS.pump);
    const ct = alerts.filter((a) => a.device_id === WARD_IDS.ct);
    assert.equal(pump.length, 1, JSON.stringify(alerts.map((a) => [a.device_id, a.ts - T0, a.summary])));
    assert.equal(ct.length, 1);
    assert.equal(pump[0]!.since, T0 + 2 * H + 100); // the first tenth message after the change
    assert.match(pump[0]!.summary, /^new HL7 message type ADT\^A01\^ADT_A01 from PUMP-03; seen before: ORU\^R01\^ORU_R01(; [^(]*)? \(score [\d.]+, 1 of 3 windows over threshold; identity guard: its medical identity changed\)$/);
    assert.equal(pump[0]!.top_features.find((f) => f.feature === 'identity_changes')?.text, 'new HL7 message type ADT^A01^ADT_A01 from PUMP-03; seen before: ORU^R01^ORU_R01');
    assert.equal(ct[0]!.since, T0 + 2 * H + 600);
    assert.match(ct[0]!.summary, /^new DICOM AE title CT_ROGUE calling PACS01; seen before: CT01(; [^(]*)? \(score .*; identity guard: its medical identity changed\)$/);
    assert.equal(alerts.filter((a) => a.device_id === WARD_IDS.monitor).length, 0, 'the stable monitor raises nothing');
    // Without the identity guard the one window over the threshold never makes K of N: the guard is what alerts.
    const unguarded = await run(false);
    assert.equal(unguarded.filter((a) => a.device_id === WARD_IDS.pump || a.device_id === WARD_IDS.ct).length, 0);
  });
});
