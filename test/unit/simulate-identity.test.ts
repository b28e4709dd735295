/**
 * Issue 23 item 3 on the simulator. A simulated ward through the analysis pipeline: every device's medical identity in
 * the inventory (`app_identity`) is exactly what the simulator sent — the expectation built from the simulator's own
 * definitions (src/simulate/behaviours.ts `hl7Sender`, `modalityAeTitle`, …, protocols/hl7.ts, dicom.ts, dhcp.ts), the
 * HL7 message counts from the capture's bytes read here — and holds nothing of the HL7 bodies (PID, OBR, OBX) nor of
 * the patients in the DICOM data sets. Then the `identity_spoof` attack: what it injects stays in its label, and the
 * windows carry exactly the identity changes it makes (a monitor's and an HL7 analyser's ADT messages, a modality's
 * new AE title), on no other device and at no other time; on an ASTM analyser its HL7 is a first identity, no change.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyAppIdentity, type AppIdentity, type InventoryEntry } from '../../src/records/device.js';
import { featureIndex, type FeatureWindow } from '../../src/records/features.js';
import {
  DEFAULT_DEVICES,
  IDENTITY_SPOOF_AE_TITLE,
  IDENTITY_SPOOF_HL7_EVENTS,
  IDENTITY_SPOOF_IMPLEMENTATION,
  MODALITY_WORKLIST_SOP,
  PACS_PUSH_SOP,
  READING_QUERY_SOP,
  hl7Sender,
  imagingModality,
  labSpeaksHl7,
  modalityAeTitle,
  pacsAeTitle,
  pacsOf,
  parseAttack,
  readingAeTitle,
  simulate,
  telemetryClientId,
  type LabelDevice,
  type SimulationLabels,
} from '../../src/simulate/index.js';
import { SIM_IMPLEMENTATION, UID_STUDY_ROOT_FIND } from '../../src/simulate/protocols/dicom.js';
import { DHCP_PARAMETER_REQUEST_LIST } from '../../src/simulate/protocols/dhcp.js';
import { ACK_R01, adtType, HL7_HOSPITAL_FACILITY, HL7_VERSION, ORU_R01 } from '../../src/simulate/protocols/hl7.js';
import { analyseFile, type AnalysedFile } from '../support/analyse-file.js';
import { tsharkAvailable, tsharkProblems } from '../support/tshark.js';

/** A TCP or UDP segment of the capture, read from the pcap's bytes here (not by wardwatch's reader or decoder). */
interface Segment {
  /** Seconds since the epoch. */
  t: number;
  srcMac: string;
  srcIp: string;
  dstIp: string;
  proto: number;
  sport: number;
  dport: number;
  payload: Buffer;
}

const mac = (b: Buffer, at: number): string => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip = (b: Buffer, at: number): string => [...b.subarray(at, at + 4)].join('.');

/** The IPv4 TCP/UDP segments of a classic little-endian µs pcap of untagged Ethernet (what `simulate` writes by default). */
function readSegments(file: string): Segment[] {
  const f = readFileSync(file);
  assert.equal(f.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian µs pcap');
  const out: Segment[] = [];
  for (let off = 24; off + 16 <= f.length; ) {
    const t = f.readUInt32LE(off) + f.readUInt32LE(off + 4) / 1e6;
    const len = f.readUInt32LE(off + 8);
    const b = f.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    if (b.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (b[14]! & 0x0f) * 4;
    const end = 14 + b.readUInt16BE(16);
    const proto = b[23]!;
    const l4 = 14 + ihl;
    if (proto !== 6 && proto !== 17) continue;
    const head = proto === 6 ? (b[l4 + 12]! >> 4) * 4 : 8;
    out.push({ t, srcMac: mac(b, 6), srcIp: ip(b, 26), dstIp: ip(b, 30), proto, sport: b.readUInt16BE(l4), dport: b.readUInt16BE(l4 + 2), payload: b.subarray(l4 + head, end) });
  }
  return out;
}

/** An MLLP-framed HL7 message as sent (one per TCP segment in the simulator: all are far below the MSS). */
interface Hl7Sent {
  t: number;
  srcMac: string;
  sendingApp: string;
  type: string;
  segments: string[];
  /** The connection it travelled on: `srcIp:sport>dstIp:dport`. */
  conn: string;
}

function hl7Messages(segs: readonly Segment[]): Hl7Sent[] {
  const out: Hl7Sent[] = [];
  for (const s of segs) {
    if (s.proto !== 6 || (s.dport !== 2575 && s.sport !== 2575) || s.payload[0] !== 0x0b) continue;
    const end = s.payload.indexOf(0x1c);
    assert.ok(end > 0, `an MLLP message in one segment at ${s.t}`);
    const segments = s.payload.subarray(1, end).toString('latin1').split('\r').filter(Boolean);
    const msh = segments[0]!.split('|');
    assert.equal(msh[0], 'MSH');
    out.push({ t: s.t, srcMac: s.srcMac, sendingApp: msh[2]!, type: msh[8]!, segments, conn: `${s.srcIp}:${s.sport}>${s.dstIp}:${s.dport}` });
  }
  return out;
}

/** Per sender MAC: messages per MSH-9 type. */
function hl7Counts(msgs: readonly Hl7Sent[]): Map<string, Map<string, number>> {
  const by = new Map<string, Map<string, number>>();
  for (const m of msgs) {
    const c = by.get(m.srcMac) ?? new Map<string, number>();
    c.set(m.type, (c.get(m.type) ?? 0) + 1);
    by.set(m.srcMac, c);
  }
  return by;
}

/**
 * Values of the HL7 bodies that must never reach the inventory: every field and component of the segments after MSH
 * (patient id, name and birth date; order; observation ids, values, units, times) of 4 characters or more with a
 * non-digit (or 8 or more digits), and the synthetic patients of every TCP payload (the DICOM queries and images too).
 */
function phiTokens(msgs: readonly Hl7Sent[], segs: readonly Segment[]): Set<string> {
  const out = new Set<string>();
  for (const m of msgs) {
    for (const seg of m.segments.slice(1)) {
      if (seg.startsWith('MSA|')) continue; // the acknowledged control id: no patient data
      for (const field of seg.split('|').slice(1)) {
        for (const v of [field, ...field.split(/[\^~&]/)]) if ((v.length >= 4 && /\D/.test(v)) || v.length >= 8) out.add(v);
      }
    }
  }
  for (const s of segs) for (const x of s.payload.toString('latin1').matchAll(/SYNTHETIC\^TEST-PATIENT-\d{6}|SIM-\d{6}/g)) out.add(x[0]);
  return out;
}

/** An identity as comparable values: lists sorted (their order is the order first seen), message types with counts. */
function normal(a: AppIdentity): Record<string, unknown> {
  const sorted = (xs: readonly string[]): string[] => [...xs].sort();
  return {
    hl7_sending_applications: sorted(a.hl7_sending_applications),
    hl7_sending_facilities: sorted(a.hl7_sending_facilities),
    hl7_receiving_applications: sorted(a.hl7_receiving_applications),
    hl7_receiving_facilities: sorted(a.hl7_receiving_facilities),
    hl7_message_types: sorted(a.hl7_message_types.map((m) => `${m.type}=${m.count}`)),
    hl7_versions: sorted(a.hl7_versions),
    hl7_equipment_ids: sorted(a.hl7_equipment_ids.map((e) => `${e.id} (${e.field})`)),
    dicom_ae_titles: sorted(a.dicom_ae_titles),
    dicom_peer_ae_titles: sorted(a.dicom_peer_ae_titles),
    dicom_roles: sorted(a.dicom_roles),
    dicom_implementation_class_uids: sorted(a.dicom_implementation_class_uids),
    dicom_implementation_versions: sorted(a.dicom_implementation_versions),
    dicom_sop_classes: sorted(a.dicom_sop_classes.map((c) => c.uid)),
    mqtt_client_ids: sorted(a.mqtt_client_ids),
    dhcp_parameter_lists: sorted(a.dhcp_parameter_lists),
    dropped: a.dropped,
  };
}

type Expected = { -readonly [K in keyof AppIdentity]: AppIdentity[K] };

const empty = (): Expected => emptyAppIdentity();

/** The device's number within its archetype (`monitor-03` → 3), as the simulator names devices. */
const indexOf = (d: LabelDevice): number => Number(d.name.slice(d.name.lastIndexOf('-') + 1));

/**
 * What the inventory must hold for every labelled host, from the simulator's definitions; `counts` (per sender MAC,
 * messages per type, read from the capture) gives the HL7 message counts. Every device of the ward spoke (asserted).
 */
function expectedIdentities(labels: SimulationLabels, counts: Map<string, Map<string, number>>): Map<string, Expected> {
  const devices = labels.devices;
  const of = (a: LabelDevice['archetype']): LabelDevice[] => devices.filter((d) => d.archetype === a).sort((x, y) => indexOf(x) - indexOf(y));
  const server = (name: string): LabelDevice => devices.find((d) => d.archetype === 'server' && d.name === name)!;
  const pacsList = of('pacs');
  const pacsFor = (d: LabelDevice): LabelDevice => pacsList[pacsOf(indexOf(d), pacsList.length)]!;
  const sim = (e: Expected): void => {
    e.dicom_implementation_class_uids = [SIM_IMPLEMENTATION.class_uid];
    e.dicom_implementation_versions = [SIM_IMPLEMENTATION.version];
  };
  const sop = (uids: string[]): AppIdentity['dicom_sop_classes'] => uids.map((uid) => ({ uid, name: '' }));
  const out = new Map<string, Expected>();
  const get = (d: LabelDevice): Expected => out.get(d.device_id) ?? (out.set(d.device_id, empty()), out.get(d.device_id)!);
  const count = (d: LabelDevice, type: string): number => {
    const c = counts.get(d.mac);
    assert.ok(c && (c.get(type) ?? 0) > 0, `${d.name} sent ${type}`);
    assert.deepEqual([...c.keys()], [type], `${d.name} sent only ${type}`);
    return c.get(type)!;
  };

  for (const d of devices) {
    const e = get(d);
    // Every DHCP client (the PACS and the servers have static addresses).
    if (d.archetype !== 'server' && d.archetype !== 'pacs') e.dhcp_parameter_lists = [DHCP_PARAMETER_REQUEST_LIST.join(',')];
  }
  // HL7 senders: monitors to the interface engine, odd lab analysers to the LIS; each system acknowledges with its name.
  for (const [archetype, system] of [['monitor', server('hl7engine')], ['lab', server('lis')]] as const) {
    const senders = of(archetype).filter((d) => archetype === 'monitor' || labSpeaksHl7(indexOf(d)));
    assert.ok(senders.length > 0, archetype);
    let total = 0;
    for (const d of senders) {
      const id = hl7Sender(archetype, d.name);
      const n = count(d, ORU_R01);
      total += n;
      Object.assign(get(d), {
        hl7_sending_applications: [id.sending_application],
        hl7_sending_facilities: [id.sending_facility],
        hl7_receiving_applications: [id.receiving_application],
        hl7_receiving_facilities: [HL7_HOSPITAL_FACILITY],
        hl7_message_types: [{ type: ORU_R01, count: n }],
        hl7_versions: [HL7_VERSION],
      });
    }
    // The ACK (protocols/hl7.ts `ack`) names the system (MSH-3) and its facility (MSH-4), the sender as MSH-5, no MSH-6.
    const acks = count(system, ACK_R01);
    assert.equal(acks, total, `${system.name} acknowledged every message`);
    Object.assign(get(system), {
      hl7_sending_applications: [hl7Sender(archetype, senders[0]!.name).receiving_application],
      hl7_sending_facilities: [HL7_HOSPITAL_FACILITY],
      hl7_receiving_applications: senders.map((d) => hl7Sender(archetype, d.name).sending_application),
      hl7_message_types: [{ type: ACK_R01, count: acks }],
      hl7_versions: [HL7_VERSION],
    });
  }
  // DICOM: modalities query their worklist and store their images on their PACS; reading workstations query theirs,
  // which pushes the CT study back to them; AE titles only from RQs (the calling one, and the called one to its receiver).
  for (const d of of('imaging')) {
    const e = get(d);
    const p = pacsFor(d);
    Object.assign(e, { dicom_ae_titles: [modalityAeTitle(indexOf(d))], dicom_peer_ae_titles: [pacsAeTitle(p.name)], dicom_roles: ['SCU'], dicom_sop_classes: sop([MODALITY_WORKLIST_SOP, imagingModality(indexOf(d)).sop]) });
    sim(e);
  }
  for (const d of of('reading_ws')) {
    const e = get(d);
    const p = pacsFor(d);
    Object.assign(e, { dicom_ae_titles: [readingAeTitle(indexOf(d))], dicom_peer_ae_titles: [pacsAeTitle(p.name)], dicom_roles: ['SCU', 'SCP'], dicom_sop_classes: sop([READING_QUERY_SOP]) });
    sim(e);
  }
  for (const p of pacsList) {
    const e = get(p);
    const modalities = of('imaging').filter((d) => pacsFor(d) === p);
    const readers = of('reading_ws').filter((d) => pacsFor(d) === p);
    assert.ok(modalities.length + readers.length > 0, `${p.name} serves someone`);
    Object.assign(e, {
      dicom_ae_titles: [pacsAeTitle(p.name)],
      dicom_peer_ae_titles: [...modalities.map((d) => modalityAeTitle(indexOf(d))), ...readers.map((d) => readingAeTitle(indexOf(d)))],
      dicom_roles: readers.length > 0 ? ['SCP', 'SCU'] : ['SCP'],
      dicom_sop_classes: sop(readers.length > 0 ? [PACS_PUSH_SOP] : []),
    });
    sim(e);
  }
  for (const d of of('telemetry')) get(d).mqtt_client_ids = [telemetryClientId(d.name, d.mac)];
  return out;
}

const byId = (inv: readonly InventoryEntry[]): Map<string, InventoryEntry> => new Map(inv.map((e) => [e.device_id, e]));
const START = Date.parse('2026-01-05T09:00:00Z') / 1000;

describe('simulator: the inventory holds the medical identity each simulated device sent (issue 23)', function () {
  this.timeout(120_000);
  let dir = '';
  let labels: SimulationLabels;
  let analysed: AnalysedFile;
  let segs: Segment[];
  let msgs: Hl7Sent[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simid-'));
    const out = join(dir, 'ward.pcap');
    // The default ward with a second PACS (modalities and workstations are shared out between them), 40 min of a
    // working morning: every device speaks within it.
    await simulate({ seed: 2323, start: START, duration_s: 2400, devices: { ...DEFAULT_DEVICES, pacs: 2 }, attacks: [], out, dicom_image_bytes: 1024 });
    labels = JSON.parse(readFileSync(join(dir, 'ward.labels.json'), 'utf8')) as SimulationLabels;
    analysed = await analyseFile(out);
    segs = readSegments(out);
    msgs = hl7Messages(segs);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every device and server: exactly the HL7, DICOM, MQTT and DHCP identity the simulator defines, nothing else, nothing dropped', () => {
    const expected = expectedIdentities(labels, hl7Counts(msgs));
    const inv = byId(analysed.inventory);
    let hl7 = 0;
    let dicom = 0;
    let mqtt = 0;
    for (const d of labels.devices) {
      const e = inv.get(d.device_id);
      assert.ok(e, `${d.name} (${d.device_id}) is in the inventory`);
      const want = expected.get(d.device_id)!;
      assert.deepEqual(normal(e.app_identity), normal(want), `${d.name} (${d.archetype})`);
      for (const c of e.app_identity.dicom_sop_classes) assert.ok(c.name.length > 0, `${d.name}: ${c.uid} is named`);
      if (want.hl7_message_types.length > 0) hl7++;
      if (want.dicom_ae_titles.length > 0) dicom++;
      if (want.mqtt_client_ids.length > 0) mqtt++;
    }
    // The ward's 6 monitors, HL7 lab-01, the engine and the LIS; 3 modalities, 2 workstations, 2 PACS; 2 gateways.
    assert.deepEqual([hl7, dicom, mqtt], [9, 7, 2]);
    // Hosts the labels do not name (the router, outside addresses) say nothing of themselves.
    for (const e of analysed.inventory) if (!expected.has(e.device_id)) assert.deepEqual(normal(e.app_identity), normal(empty()), e.device_id);
  });

  it('no value of the HL7 bodies (patient, order, results) nor of the DICOM patients reaches the inventory', () => {
    const tokens = phiTokens(msgs, segs);
    // Not vacuous: the bodies carry synthetic patients, observation codes and names, results with units.
    for (const want of [/^SYNTHETIC$/, /^TEST-PATIENT-\d{6}$/, /^SIM-\d{6}$/, /^19000101$/, /^Heart rate$/, /^8867-4$/, /^mmol\/L$/]) {
      assert.ok([...tokens].some((t) => want.test(t)), `a body token like ${want}`);
    }
    const identity = JSON.stringify(analysed.inventory.map((e) => e.app_identity));
    const whole = JSON.stringify(analysed.inventory);
    for (const t of tokens) {
      assert.ok(!identity.includes(t), `app_identity holds ${JSON.stringify(t)}`);
      if (/[A-Za-z]/.test(t)) assert.ok(!whole.includes(t), `the inventory holds ${JSON.stringify(t)}`);
    }
  });
});

describe('simulator: identity_spoof changes a device\'s medical identity, and only that device\'s (issue 23)', function () {
  this.timeout(120_000);
  const IC = featureIndex('identity_changes');
  const OFFSETS = [5000, 5300, 5600, 5900];
  const ATTACKS = ['monitor-02', 'imaging-02', 'lab-01', 'lab-02'].map((d, i) => `identity_spoof@+${OFFSETS[i]}s${i === 3 ? '/60s' : ''}:${d}`);
  let dir = '';
  let pcap = '';
  let labels: SimulationLabels;
  let analysed: AnalysedFile;
  let segs: Segment[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-simspoof-'));
    pcap = join(dir, 'spoof.pcap');
    // 2 h: the attacks come more than an hour after the devices' first HL7/DICOM messages (the settle period; checked).
    await simulate({ seed: 2324, start: START, duration_s: 7200, devices: DEFAULT_DEVICES, attacks: ATTACKS.map(parseAttack), out: pcap, dicom_image_bytes: 1024 });
    labels = JSON.parse(readFileSync(join(dir, 'spoof.labels.json'), 'utf8')) as SimulationLabels;
    analysed = await analyseFile(pcap);
    segs = readSegments(pcap);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const named = (name: string): LabelDevice => labels.devices.find((d) => d.name === name)!;

  it('labels each attack with what it injected: its device, the system it spoke to, and every injected packet inside [start, end]', () => {
    assert.deepEqual(
      labels.attacks.map((a) => [a.kind, a.device_id, a.related_device_ids]),
      [
        ['identity_spoof', named('monitor-02').device_id, [named('hl7engine').device_id]],
        ['identity_spoof', named('imaging-02').device_id, [named('pacs-01').device_id]],
        ['identity_spoof', named('lab-01').device_id, [named('lis').device_id]],
        ['identity_spoof', named('lab-02').device_id, [named('lis').device_id]],
      ],
    );
    assert.match(labels.attacks[0]!.description, /ADT\^A01, ADT\^A08 as MONITOR-02 to hl7engine:2575/);
    assert.match(labels.attacks[1]!.description, new RegExp(`calling from AE title ${IDENTITY_SPOOF_AE_TITLE} \\(it calls from ${modalityAeTitle(2)}\\)`));
    // The injected connections: those carrying an ADT message or an RQ calling from the spoofed AE title.
    const conn = (s: Segment): string => [`${s.srcIp}:${s.sport}`, `${s.dstIp}:${s.dport}`].sort().join('|');
    const injected = new Set<string>();
    for (const s of segs) {
      if (s.proto !== 6) continue;
      const text = s.payload.toString('latin1');
      const adt = s.payload[0] === 0x0b && /^MSH\|[^\r]*\|ADT\^/.test(text.slice(1));
      if (adt || (s.payload[0] === 0x01 && text.includes(IDENTITY_SPOOF_AE_TITLE))) injected.add(conn(s));
    }
    labels.attacks.forEach((a, i) => {
      const offset = START + OFFSETS[i]!;
      const dev = labels.devices.find((d) => d.device_id === a.device_id)!;
      const mine = segs.filter((s) => injected.has(conn(s)) && (s.srcIp === dev.ip || s.dstIp === dev.ip));
      const connections = new Set(mine.map(conn)).size;
      assert.ok(connections >= (i === 3 ? 2 : 3), `${a.id}: a new connection every 20–40 s (${connections})`);
      assert.ok(a.start >= offset && a.end <= offset + (i === 3 ? 60 : 120), `${a.id} within its requested window`);
      for (const s of mine) assert.ok(s.t >= a.start - 1e-6 && s.t <= a.end + 1e-6, `${a.id}: ${s.t} in [${a.start}, ${a.end}]`);
      assert.ok(Math.min(...mine.map((s) => s.t)) - a.start < 0.01, `${a.id}: the label starts at its first packet`);
    });
  });

  it('the windows carry exactly its identity changes: new HL7 message types, a new calling AE title — none on the ASTM analyser, none elsewhere', () => {
    // The attacked HL7 senders and the modality had spoken for more than the settle period (1 h) before their attack.
    const first = (d: LabelDevice): number => Math.min(...segs.filter((s) => s.srcIp === d.ip && s.proto === 6 && (s.dport === 2575 || s.dport === 104) && s.payload.length > 0).map((s) => s.t));
    ['monitor-02', 'imaging-02', 'lab-01'].forEach((n, i) => assert.ok(first(named(n)) + 3600 < labels.attacks[i]!.start, `${n} settled before its attack`));
    const changed = analysed.windows.filter((w) => w.identity_changes !== undefined || (w.values[IC] ?? 0) > 0);
    for (const w of changed) assert.equal(w.values[IC], w.identity_changes?.length, `${w.device_id} ${w.window_start}: count = list`);
    const of = (name: string): FeatureWindow[] => changed.filter((w) => w.device_id === named(name).device_id);
    const inside = (ws: FeatureWindow[], i: number): void => {
      const a = labels.attacks[i]!;
      for (const w of ws) assert.ok(w.window_end >= a.start && w.window_start <= a.end, `${w.device_id} change at ${w.window_start} within ${a.id}`);
    };
    const hl7Changes = (name: string, archetype: 'monitor' | 'lab'): unknown[] => {
      const app = hl7Sender(archetype, name).sending_application;
      const types = IDENTITY_SPOOF_HL7_EVENTS.map((e) => adtType(e));
      return types.map((value, i) => ({ field: 'hl7_message_type', value, context: app, seen_before: [ORU_R01, ...types.slice(0, i)] }));
    };
    assert.deepEqual(of('monitor-02').flatMap((w) => w.identity_changes ?? []), hl7Changes('monitor-02', 'monitor'));
    inside(of('monitor-02'), 0);
    assert.deepEqual(of('imaging-02').flatMap((w) => w.identity_changes ?? []), [{ field: 'dicom_ae_title', value: IDENTITY_SPOOF_AE_TITLE, context: pacsAeTitle('pacs-01'), seen_before: [modalityAeTitle(2)] }]);
    inside(of('imaging-02'), 1);
    assert.deepEqual(of('lab-01').flatMap((w) => w.identity_changes ?? []), hl7Changes('lab-01', 'lab'));
    inside(of('lab-01'), 2);
    // lab-02 speaks ASTM: the ADT messages are its first HL7, learned as its identity (settle period), not a change.
    assert.deepEqual(of('lab-02'), []);
    const attacked = new Set(['monitor-02', 'imaging-02', 'lab-01'].map((n) => named(n).device_id));
    assert.deepEqual(changed.filter((w) => !attacked.has(w.device_id)).map((w) => w.device_id), [], 'no other device changes identity');
    assert.equal(changed.length, 5);
  });

  it('the inventory keeps what the attacks said: the ADT types with their counts, the query tool\'s AE title and implementation', () => {
    const inv = byId(analysed.inventory);
    const counts = hl7Counts(hl7Messages(segs));
    for (const name of ['monitor-02', 'lab-01', 'lab-02']) {
      const d = named(name);
      const types = inv.get(d.device_id)!.app_identity.hl7_message_types;
      for (const e of IDENTITY_SPOOF_HL7_EVENTS) {
        const n = counts.get(d.mac)?.get(adtType(e)) ?? 0;
        assert.ok(n > 0, `${name} sent ${adtType(e)}`);
        assert.deepEqual(types.find((t) => t.type === adtType(e)), { type: adtType(e), count: n }, name);
      }
    }
    const ct = inv.get(named('imaging-02').device_id)!.app_identity;
    assert.deepEqual(ct.dicom_ae_titles, [modalityAeTitle(2), IDENTITY_SPOOF_AE_TITLE]);
    assert.deepEqual(ct.dicom_implementation_class_uids, [SIM_IMPLEMENTATION.class_uid, IDENTITY_SPOOF_IMPLEMENTATION.class_uid]);
    assert.deepEqual(ct.dicom_implementation_versions, [SIM_IMPLEMENTATION.version, IDENTITY_SPOOF_IMPLEMENTATION.version]);
    assert.ok(ct.dicom_sop_classes.some((c) => c.uid === UID_STUDY_ROOT_FIND), 'the study query it proposed');
  });

  it('tshark reads the attacks\' HL7 and DICOM cleanly: no malformed packets, no error-level expert items', function () {
    if (!tsharkAvailable()) this.skip();
    const { errors, malformed } = tsharkProblems(pcap, ['-d', 'tcp.port==11112,dicom']);
    assert.equal(malformed, 0);
    assert.equal(errors, '');
  });
});
