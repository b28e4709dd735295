/**
 * Medical-device identity (issue 23): the decoders read only MSH-3..6/9/12, OBX-18, PRT-10/16 of HL7, the A-ASSOCIATE
 * items of DICOM and DHCP option 55; the inventory keeps them per device, bounded, saved and restored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { AppIdentityState } from '../../src/flows/app-identity.js';
import { DeviceInventory } from '../../src/flows/device-inventory.js';
import { sopClassName } from '../../src/flows/sop-classes.js';
import { guessDeviceClass, protocolBit, type IdentityEvidence } from '../../src/flows/device-class.js';
import { APP_IDENTITY_LIMITS, DEVICE_SCHEMA_VERSION, appIdentityTexts, emptyAppIdentity } from '../../src/records/device.js';
import { AppProto, LinkType, TcpFlag, newDecodedPacket, type AppMeta, type CapturedFrame, type DecodedPacket } from '../../src/records/packet.js';
import { inventoryCsv } from '../../src/cli/inventory.js';
import { inventoryPoint } from '../../src/sinks/influx/points.js';
import { associateAc, associateRq, UID_CT_STORAGE, UID_MWL_FIND } from '../../src/simulate/protocols/dicom.js';
import * as B from '../support/packet-builder.js';
import { IDENTITY, PHI_TOKENS, mllp, phiMessage } from '../support/hl7-phi.js';
import { analyseFile } from '../support/analyse-file.js';
import { repoRoot } from '../support/fixtures.js';
import { tcp as tcpPacket } from '../support/packets.js';
import { readMeta, recordViews, writeMeta, RECORD_SLOTS } from '../../src/pipeline/packet-batch.js';
import { decodeInventory, encodeInventory } from '../../src/transport/codec.js';
import { phiCapture } from '../support/hl7-phi.js';

const MAC_A = 0x020000000001;
const MAC_B = 0x020000000002;

function decode(data: Buffer): DecodedPacket {
  const d = new PacketDecoder();
  const p = newDecodedPacket();
  const f: CapturedFrame = { ts_sec: 1, ts_nsec: 0, cap_len: data.length, orig_len: data.length, linktype: LinkType.ETHERNET, interface_id: 0, data };
  d.decode(f, p);
  return p;
}

function tcpFrame(sport: number, dport: number, payload: Buffer): Buffer {
  return B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: B.tcp({ sport, dport, flags: TcpFlag.ACK | TcpFlag.PSH, payload }) }));
}

function assertNoPhi(text: string, where: string): void {
  for (const t of PHI_TOKENS) assert.ok(!text.includes(t), `${where} holds patient data: ${t}`);
}

describe('HL7 identity fields: MSH-3..6, 9, 12, OBX-18, PRT-10, PRT-16 and nothing else', () => {
  it('the test message puts the kept values exactly in those fields and PHI everywhere else', () => {
    const segs = phiMessage().split('\r');
    const field = (seg: string, n: number): string | undefined => segs.find((s) => s.startsWith(`${seg}|`))?.split('|')[n];
    assert.equal(field('MSH', 2), IDENTITY.sendingApp); // MSH-1 is the separator: split index n = MSH-(n+1)
    assert.equal(field('OBX', 18), IDENTITY.obx18);
    assert.equal(field('PRT', 10), IDENTITY.prt10);
    assert.equal(field('PRT', 16), IDENTITY.prt16);
    for (const t of PHI_TOKENS) assert.ok(phiMessage().includes(t), `the message carries ${t}`);
  });

  it('a message with PID, NK1, OBR, OBX values, PRT-5 and NTE yields the identity fields only', () => {
    const p = decode(tcpFrame(49321, 2575, mllp(phiMessage())));
    assert.equal(p.app, AppProto.HL7);
    const want: AppMeta = {
      hl7_sending_app: IDENTITY.sendingApp,
      hl7_sending_facility: IDENTITY.sendingFacility,
      hl7_receiving_app: IDENTITY.receivingApp,
      hl7_receiving_facility: IDENTITY.receivingFacility,
      hl7_msg_type: 'ORU^R01^ORU_R01',
      hl7_version: IDENTITY.version,
      hl7_obx18: IDENTITY.obx18,
      hl7_prt10: IDENTITY.prt10,
      hl7_prt16: IDENTITY.prt16,
    };
    assert.deepEqual(p.app_meta, want);
    assertNoPhi(JSON.stringify(p), 'the decoded packet');
  });

  it('segments separated by LF; OBX without field 18, with an empty or unprintable one: the next OBX gives it', () => {
    // Field n of a segment is element n of its split on '|' (element 0 the segment name).
    const obx = (setId: number, f18: string | undefined): string => ['OBX', String(setId), 'NM', 'HR', '', '72', ...Array<string>(12).fill(''), ...(f18 === undefined ? [] : [f18, 'F19'])].join('|');
    const msg = ['MSH|^~\\&|MON||||||ORU^R01|1|P|2.5', obx(1, undefined), obx(2, ''), obx(3, '\u0007BELL'), obx(4, 'EQ-4'), obx(5, 'EQ-5')].join('\n');
    assert.equal(msg.split('\n')[4]!.split('|')[18], 'EQ-4');
    const p = decode(tcpFrame(5000, 6000, mllp(msg)));
    assert.deepEqual(p.app_meta, { hl7_sending_app: 'MON', hl7_msg_type: 'ORU^R01', hl7_version: '2.5', hl7_obx18: 'EQ-4' });
  });

  it('the scan stops at the end block: a second message in the same segment lends the first none of its fields', () => {
    const obx18 = ['OBX', '1', ...Array<string>(16).fill(''), 'EQ-2'].join('|');
    const first = mllp('MSH|^~\\&|MON||||||ORU^R01|1|P|2.5\r\nOBX|1|NM|HR||72\r\n');
    const second = mllp(`MSH|^~\\&|MON||||||ORU^R01|2|P|2.5\r${obx18}\r`);
    const p = decode(tcpFrame(5000, 6000, Buffer.concat([first, second])));
    assert.deepEqual(p.app_meta, { hl7_sending_app: 'MON', hl7_msg_type: 'ORU^R01', hl7_version: '2.5' });
    assert.equal(decode(tcpFrame(5000, 6000, second)).app_meta?.hl7_obx18, 'EQ-2');
  });

  it('an identity field is cut to 64 characters; a field named like a segment inside another segment is not a segment', () => {
    const long = 'E'.repeat(100);
    const obx = ['OBX', '1', ...Array<string>(16).fill(''), long].join('|');
    assert.equal(obx.split('|')[18], long);
    const msg = `MSH|^~\\&|MON||||||ORU^R01|1|P|2.5\rPID|1|x|OBX|a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|NOT-EQUIPMENT\r${obx}\r`;
    const p = decode(tcpFrame(5000, 6000, mllp(msg)));
    assert.equal(p.app_meta?.hl7_obx18, 'E'.repeat(64));
  });

  it('MSH fields beyond the captured bytes are absent; a message cut inside MSH still gives MSH-3 and MSH-9', () => {
    const full = mllp(phiMessage());
    const cut = full.subarray(0, full.indexOf('|P|') + 1);
    const p = decode(tcpFrame(5000, 6000, cut));
    assert.equal(p.app_meta?.hl7_sending_app, IDENTITY.sendingApp);
    assert.equal(p.app_meta?.hl7_msg_type, 'ORU^R01^ORU_R01');
    assert.equal(p.app_meta?.hl7_version, undefined);
    assert.equal(p.app_meta?.hl7_obx18, undefined);
  });
});

describe('DICOM A-ASSOCIATE identity: SOP classes, implementation class UID and version name', () => {
  it('an RQ gives the proposed abstract syntaxes (distinct), the implementation UID and version; an AC the acceptor’s', () => {
    const rq = decode(tcpFrame(50000, 104, associateRq('PACS01', 'CT01', [UID_MWL_FIND, UID_CT_STORAGE, UID_CT_STORAGE])));
    assert.deepEqual(rq.app_meta, {
      dicom_pdu_type: 1,
      dicom_called_ae: 'PACS01',
      dicom_calling_ae: 'CT01',
      dicom_impl_class_uid: '1.2.826.0.1.3680043.10.1234.1',
      dicom_impl_version: 'WARDWATCH_SIM',
      dicom_sop_classes: `${UID_MWL_FIND},${UID_CT_STORAGE}`,
    });
    const ac = decode(tcpFrame(104, 50000, associateAc('PACS01', 'CT01', 2)));
    assert.equal(ac.app_meta?.dicom_sop_classes, undefined, 'an AC proposes nothing');
    assert.equal(ac.app_meta?.dicom_impl_version, 'WARDWATCH_SIM');
  });

  it('at most 32 SOP classes per RQ, the others counted; an RQ cut by the segment keeps what it holds', () => {
    const uids = Array.from({ length: 40 }, (_, i) => `1.2.840.10008.5.1.4.1.1.${i + 1}`);
    const rq = associateRq('PACS01', 'CT01', uids);
    const p = decode(tcpFrame(50000, 104, rq));
    assert.equal(p.app_meta?.dicom_sop_classes?.split(',').length, 32);
    assert.equal(p.app_meta?.dicom_sop_classes_dropped, 8);
    const cut = decode(tcpFrame(50000, 104, rq.subarray(0, 400)));
    const kept = cut.app_meta?.dicom_sop_classes?.split(',') ?? [];
    assert.ok(kept.length > 0 && kept.length < 32, `${kept.length}`);
    assert.deepEqual(kept, uids.slice(0, kept.length));
    assert.equal(cut.app_meta?.dicom_impl_class_uid, undefined, 'the user information item was past the cut');
  });

  it('names the common SOP classes (PS3.6), empty for others', () => {
    assert.equal(sopClassName(UID_CT_STORAGE), 'CT Image Storage');
    assert.equal(sopClassName('1.2.3.4'), '');
    assert.equal(sopClassName('constructor'), '');
  });
});

describe('DHCP option 55 fingerprint', () => {
  it('the parameter request list as comma-separated codes', () => {
    const base = B.dhcp({ msgType: 1, hostname: 'PUMP-7' });
    const withPrl = Buffer.concat([base.subarray(0, base.length - 1), Buffer.from([55, 5, 1, 3, 6, 15, 252, 255])]);
    const frame = B.eth(0xffffffffffff, MAC_A, 0x0800, B.ipv4({ src: '0.0.0.0', dst: '255.255.255.255', proto: 17, payload: B.udp(68, 67, withPrl) }));
    assert.equal(decode(frame).app_meta?.dhcp_param_request, '1,3,6,15,252');
  });
});

describe('the new metadata and the grown entry cross the process boundaries', () => {
  it('the threaded pipeline’s ring carries every identity field of AppMeta', () => {
    const mask = 31;
    const b = recordViews(new SharedArrayBuffer(32 * RECORD_SLOTS * 8));
    const meta: AppMeta = {
      dhcp_param_request: '1,3,6,15,252',
      hl7_sending_app: IDENTITY.sendingApp,
      hl7_sending_facility: IDENTITY.sendingFacility,
      hl7_receiving_app: IDENTITY.receivingApp,
      hl7_receiving_facility: IDENTITY.receivingFacility,
      hl7_msg_type: 'ORU^R01',
      hl7_version: '2.6',
      hl7_obx18: IDENTITY.obx18,
      hl7_prt10: IDENTITY.prt10,
      hl7_prt16: IDENTITY.prt16,
      dicom_impl_class_uid: '1.2.3.4',
      dicom_impl_version: 'V1',
      dicom_sop_classes: `${UID_MWL_FIND},${UID_CT_STORAGE}`,
      dicom_sop_classes_dropped: 91,
    };
    assert.ok(writeMeta(b, mask, 31, meta) > 0);
    assert.deepEqual(readMeta(b, mask, 31), meta);
  });

  it('the inventory topic’s codec round-trips an entry with its identity (schema 3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-identity-codec-'));
    try {
      const pcap = join(dir, 'phi.pcap');
      writeFileSync(pcap, phiCapture(1_767_603_600, 4));
      const entries = (await analyseFile(pcap)).inventory;
      for (const e of entries) {
        const m = encodeInventory(e);
        assert.deepEqual(decodeInventory(m.value, m.format), e);
      }
      assert.ok(entries.some((e) => e.app_identity.hl7_equipment_ids.length === 3));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AppIdentityState: bounded per device', () => {
  it('keeps distinct values up to each cap and counts the observations it could not keep', () => {
    const s = new AppIdentityState();
    for (let i = 0; i < 20; i++) s.learnHl7Sent({ hl7_msg_type: `T${i}`, hl7_sending_app: 'APP' });
    s.learnHl7Sent({ hl7_msg_type: 'T0' });
    s.learnHl7Sent({ hl7_msg_type: 'T19' });
    const r = s.toRecord();
    assert.equal(r.hl7_message_types.length, APP_IDENTITY_LIMITS.hl7_message_types);
    assert.deepEqual(r.hl7_message_types[0], { type: 'T0', count: 2 });
    assert.equal(r.dropped.hl7_message_types, 20 - 16 + 1);
    assert.deepEqual(r.hl7_sending_applications, ['APP']);
    for (let i = 0; i < 12; i++) s.learnHl7Sent({ hl7_obx18: `EQ${i}`, hl7_prt16: 'UDI' });
    const e = s.toRecord().hl7_equipment_ids;
    assert.equal(e.length, APP_IDENTITY_LIMITS.hl7_equipment_ids);
    assert.deepEqual(e[0], { id: 'EQ0', field: 'OBX-18' });
    assert.deepEqual(e[1], { id: 'UDI', field: 'PRT-16' });
    assert.equal(s.toRecord().dropped.hl7_equipment_ids, 5);
  });

  it('DICOM: AE titles from RQs only (requestor: calling; destination: called), roles from RQ and AC', () => {
    const rq: AppMeta = { dicom_pdu_type: 1, dicom_called_ae: 'PACS', dicom_calling_ae: 'CT', dicom_sop_classes: `${UID_CT_STORAGE}`, dicom_impl_version: 'CTV' };
    // The tapirxl captures' ACs swap the titles: they must not teach the CT the PACS's title.
    const ac: AppMeta = { dicom_pdu_type: 2, dicom_called_ae: 'CT', dicom_calling_ae: 'PACS', dicom_impl_version: 'PACSV' };
    const ct = new AppIdentityState();
    const pacs = new AppIdentityState();
    ct.learnDicom(rq, true);
    pacs.learnDicom(rq, false);
    pacs.learnDicom(ac, true);
    ct.learnDicom(ac, false);
    const c = ct.toRecord();
    const p = pacs.toRecord();
    assert.deepEqual([c.dicom_ae_titles, c.dicom_peer_ae_titles, c.dicom_roles, c.dicom_implementation_versions], [['CT'], ['PACS'], ['SCU'], ['CTV']]);
    assert.deepEqual(c.dicom_sop_classes, [{ uid: UID_CT_STORAGE, name: 'CT Image Storage' }]);
    assert.deepEqual([p.dicom_ae_titles, p.dicom_peer_ae_titles, p.dicom_roles, p.dicom_implementation_versions, p.dicom_sop_classes], [['PACS'], ['CT'], ['SCP'], ['PACSV'], []]);
  });
});

describe('inventory: app_identity in the entry, the saved file, CSV and the ww_inventory point', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ww-identity-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a PHI-laden HL7 session: the pump’s entry names its application, message types and equipment, no patient byte', async () => {
    const pcap = join(dir, 'phi.pcap');
    writeFileSync(pcap, phiCapture(1_767_603_600, 8));
    const r = await analyseFile(pcap);
    const pump = r.inventory.find((e) => e.ips.includes('10.20.10.13'));
    const engine = r.inventory.find((e) => e.ips.includes('10.20.1.20'));
    assert.ok(pump && engine);
    assert.deepEqual(pump.app_identity.hl7_sending_applications, [IDENTITY.sendingApp]);
    assert.deepEqual(pump.app_identity.hl7_sending_facilities, [IDENTITY.sendingFacility]);
    assert.deepEqual(pump.app_identity.hl7_receiving_applications, [IDENTITY.receivingApp]);
    assert.deepEqual(pump.app_identity.hl7_receiving_facilities, [IDENTITY.receivingFacility]);
    assert.deepEqual(pump.app_identity.hl7_message_types, [
      { type: 'ORU^R01^ORU_R01', count: 6 },
      { type: 'ADT^A08^ADT_A01', count: 2 },
    ]);
    assert.deepEqual(pump.app_identity.hl7_versions, ['2.6']);
    assert.deepEqual(pump.app_identity.hl7_equipment_ids, [
      { id: IDENTITY.obx18, field: 'OBX-18' },
      { id: IDENTITY.prt10, field: 'PRT-10' },
      { id: IDENTITY.prt16, field: 'PRT-16' },
    ]);
    assert.deepEqual(engine.app_identity.hl7_message_types, [{ type: 'ACK^R01^ACK', count: 8 }]);
    assert.deepEqual(engine.app_identity.hl7_equipment_ids, []);
    assertNoPhi(JSON.stringify(r.inventory), 'the inventory');
    assertNoPhi(JSON.stringify(r.flows), 'the flow records');
    assertNoPhi(JSON.stringify(r.windows), 'the feature windows');
    assertNoPhi(inventoryCsv(r.inventory), 'the CSV export');
    assertNoPhi(JSON.stringify(r.inventory.map((e) => inventoryPoint(e, 0, 's', ''))), 'the ww_inventory points');
    const csv = inventoryCsv([pump]);
    assert.ok(csv.split('\r\n')[0]!.includes(',hl7_equipment_ids,'), 'CSV header');
    assert.ok(csv.includes(`,${IDENTITY.obx18} (OBX-18); ${IDENTITY.prt10} (PRT-10); ${IDENTITY.prt16} (PRT-16),`), csv);
    const point = inventoryPoint(pump, 0, 's', '');
    assert.equal(point.fields?.['hl7_message_types'], 'ORU^R01^ORU_R01=6; ADT^A08^ADT_A01=2');
    assert.equal(point.fields?.['hl7_apps'], IDENTITY.sendingApp);
    assert.equal(point.fields?.['dicom_ae_titles'], '');
  });

  it('is saved and restored (schema 3); a version 2 file loads with an empty identity', async () => {
    const pcap = join(dir, 'phi2.pcap');
    writeFileSync(pcap, phiCapture(1_767_603_600, 4));
    const inv = new DeviceInventory();
    const { windowsFromCapture } = await import('../../src/compose/embedded.js');
    const r = await windowsFromCapture(pcap, { inventory: inv });
    const file = join(dir, 'inventory.json');
    inv.save(file);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { schema_version: number; devices: Record<string, unknown>[] };
    assert.equal(saved.schema_version, DEVICE_SCHEMA_VERSION);
    assert.equal(DEVICE_SCHEMA_VERSION, 3);
    const back = DeviceInventory.load(file).entries();
    assert.deepEqual(back.map((e) => e.app_identity), r.inventory.map((e) => e.app_identity));
    const v2 = { ...saved, schema_version: 2, devices: saved.devices.map((d) => ({ ...d, schema_version: 2, app_identity: undefined })) };
    writeFileSync(file, JSON.stringify(v2));
    assert.ok(DeviceInventory.load(file).entries().every((e) => JSON.stringify(e.app_identity) === JSON.stringify(emptyAppIdentity())));
  });

  it('flat texts: lists joined with "; ", dropped as list=n', () => {
    const a = emptyAppIdentity();
    a.dicom_sop_classes.push({ uid: '1.2.3', name: '' }, { uid: UID_CT_STORAGE, name: 'CT Image Storage' });
    a.dropped.dicom_sop_classes = 91;
    const t = appIdentityTexts(a);
    assert.equal(t.dicom_sop_classes, '1.2.3; CT Image Storage');
    assert.equal(t.dropped, 'dicom_sop_classes=91');
    assert.equal(t.hl7_message_types, '');
  });
});

describe('class guess from the identity (issue 23 item 2), the evidence named', () => {
  it('the detector’s snapshot (DeviceInventory.identity) is taken again when the identity changes', () => {
    const inv = new DeviceInventory({ require_evidence: false });
    const flow = { flow: -1, started: false, from_orig: true, rejected: false, overflow: 0, handshake: false, answered: false };
    const hl7 = (ts: number, meta: AppMeta): void => {
      const p = tcpPacket(ts, { mac: '02:00:00:00:10:13', ip: '10.20.10.13', port: 49321 }, { mac: '02:00:00:00:01:20', ip: '10.20.1.20', port: 2575 }, TcpFlag.PSH | TcpFlag.ACK, 200);
      p.app = AppProto.HL7;
      p.app_meta = meta;
      inv.learn(p, inv.resolve(p), flow);
    };
    hl7(100, { hl7_msg_type: 'ORU^R01', hl7_sending_app: 'PUMPGW' });
    const h = inv.handleOf('mac:02:00:00:00:10:13');
    assert.equal(inv.identity(h)?.device_class, 'patient_monitor', 'an HL7 client');
    hl7(110, { hl7_msg_type: 'ORU^R01', hl7_sending_app: 'PUMPGW', hl7_obx18: 'Sigma Spectrum 35700' });
    assert.equal(inv.identity(h)?.device_class, 'infusion_pump');
    assert.equal(inv.entry(h)?.class_evidence, 'HL7 equipment id "Sigma Spectrum 35700" (OBX-18): infusion-pump family');
  });

  const none: IdentityEvidence = { equipment: [], equipment_dropped: 0, sop_classes: [], dicom_roles: [] };
  const base = { vendor: '', protocols: protocolBit('hl7'), listening_ports: [], gateway: false };

  it('an equipment id of an infusion-pump family → infusion_pump, whatever the vendor; not for a relay of many', () => {
    const one = guessDeviceClass({ ...base, identity: { ...none, equipment: [{ id: 'PUMP-03^ALARIS8015^ACME', field: 'OBX-18' }, { id: '00643169007222', field: 'PRT-16' }] } });
    assert.deepEqual(one, { device_class: 'infusion_pump', confidence: 0.9, evidence: 'HL7 equipment id "PUMP-03^ALARIS8015^ACME" (OBX-18): infusion-pump family' });
    for (const id of ['Hospira Plum A+', 'Sigma Spectrum', 'Agilia VP', 'Medfusion 4000', 'CADD-Solis']) {
      assert.equal(guessDeviceClass({ ...base, identity: { ...none, equipment: [{ id, field: 'OBX-18' }] } }).device_class, 'infusion_pump', id);
    }
    // Without an identity the same device is an HL7 client (patient monitor, 0.4), as before.
    assert.deepEqual(guessDeviceClass(base), { device_class: 'patient_monitor', confidence: 0.4, evidence: 'HL7 client' });
    assert.equal(guessDeviceClass({ ...base, identity: { ...none, equipment: [{ id: 'VENT-7^SERVO-U', field: 'OBX-18' }] } }).device_class, 'patient_monitor');
    const relay = ['Alaris 1', 'Alaris 2', 'Alaris 3'].map((id) => ({ id, field: 'OBX-18' }));
    assert.equal(guessDeviceClass({ ...base, identity: { ...none, equipment: relay } }).device_class, 'patient_monitor', 'a pump server relaying three pumps');
    assert.equal(guessDeviceClass({ ...base, identity: { ...none, equipment: relay.slice(0, 1), equipment_dropped: 4 } }).device_class, 'patient_monitor');
    assert.equal(guessDeviceClass({ ...base, gateway: true, identity: { ...none, equipment: relay.slice(0, 1) } }).device_class, 'network', 'a gateway stays one');
  });

  it('an image Storage SCU that never acts as SCP → imaging, before the "answers on 104" rule; a PACS stays pacs', () => {
    const dicom = { vendor: 'Broadcom', protocols: protocolBit('dicom'), listening_ports: [104], gateway: false };
    const ct = { ...none, dicom_roles: ['SCU'], sop_classes: [{ uid: UID_CT_STORAGE, name: 'CT Image Storage' }] };
    assert.deepEqual(guessDeviceClass({ ...dicom, identity: ct }), { device_class: 'imaging', confidence: 0.75, evidence: 'DICOM SCU of CT Image Storage, never SCP' });
    assert.deepEqual(guessDeviceClass(dicom), { device_class: 'pacs', confidence: 0.7, evidence: 'DICOM, answers on 104/11112' });
    assert.equal(guessDeviceClass({ ...dicom, identity: { ...ct, dicom_roles: ['SCP', 'SCU'] } }).device_class, 'pacs', 'a PACS forwarding images');
    const findOnly = { ...ct, sop_classes: [{ uid: UID_MWL_FIND, name: 'Modality Worklist Information Model - FIND' }] };
    assert.equal(guessDeviceClass({ ...dicom, identity: findOnly }).device_class, 'pacs', 'a worklist query is no image');
    // An imaging vendor's device keeps its rule (and confidence): the demo's classes do not change.
    assert.deepEqual(guessDeviceClass({ ...dicom, vendor: 'Siemens Healthineers', identity: ct }), { device_class: 'imaging', confidence: 0.8, evidence: 'DICOM, imaging vendor "Siemens Healthineers"' });
  });

  it('the inventory: the PHI session’s pump is an infusion pump by its equipment id; the detector’s snapshot follows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-identity-class-'));
    try {
      const pcap = join(dir, 'phi.pcap');
      writeFileSync(pcap, phiCapture(1_767_603_600, 4));
      const inv = new DeviceInventory();
      const { windowsFromCapture } = await import('../../src/compose/embedded.js');
      const r = await windowsFromCapture(pcap, { inventory: inv });
      const pump = r.inventory.find((e) => e.ips.includes('10.20.10.13'))!;
      assert.equal(pump.vendor, '', 'a locally administered MAC: no vendor to go by');
      assert.deepEqual([pump.device_class, pump.class_source, pump.class_confidence], ['infusion_pump', 'guess', 0.9]);
      assert.match(pump.class_evidence, /^HL7 equipment id "PUMP-03\^ALARIS8015\^ACME" \(OBX-18\): infusion-pump family$/);
      assert.equal(inv.identity(inv.handleOf(pump.device_id))?.device_class, 'infusion_pump');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the simulator’s shipped captures: identity present, its fake patients absent', () => {
  const PATIENT = ['TEST-PATIENT', 'SYNTHETIC^', 'SIMHOSP^MR'];

  it('hl7-monitor: each monitor’s application, facility, engine and version; the engine’s ACKs', async () => {
    const r = await analyseFile(join(repoRoot, 'captures', 'golden', 'hl7-monitor.pcap'));
    const raw = readFileSync(join(repoRoot, 'captures', 'golden', 'hl7-monitor.pcap'), 'latin1');
    for (const t of PATIENT) assert.ok(raw.includes(t), `the capture carries ${t}`);
    const m1 = r.inventory.find((e) => e.dhcp_hostname === 'MONITOR-01')!.app_identity;
    assert.deepEqual(
      [m1.hl7_sending_applications, m1.hl7_sending_facilities, m1.hl7_receiving_applications, m1.hl7_receiving_facilities, m1.hl7_message_types, m1.hl7_versions],
      [['MONITOR-01'], ['WARD'], ['HL7ENGINE'], ['WARDWATCH-SIM-HOSP'], [{ type: 'ORU^R01^ORU_R01', count: 8 }], ['2.5']],
    );
    assert.deepEqual(m1.dhcp_parameter_lists, ['1,3,6,15,42,51']);
    const engine = r.inventory.find((e) => e.app_identity.hl7_sending_applications.includes('HL7ENGINE'))!.app_identity;
    assert.deepEqual([engine.hl7_receiving_applications, engine.hl7_message_types], [['MONITOR-01', 'MONITOR-02'], [{ type: 'ACK^R01^ACK', count: 15 }]]);
    const out = JSON.stringify([r.inventory, r.flows, r.windows]);
    for (const t of PATIENT) assert.ok(!out.includes(t), `${t} in an output`);
  });

  it('dicom-ct: the CT is CT01, SCU of worklist and CT Image Storage; the PACS PACS01, SCP', async () => {
    const r = await analyseFile(join(repoRoot, 'captures', 'golden', 'dicom-ct.pcap'));
    assert.ok(readFileSync(join(repoRoot, 'captures', 'golden', 'dicom-ct.pcap'), 'latin1').includes('TEST-PATIENT'), 'the data sets carry the fake patient');
    const ct = r.inventory.find((e) => e.dhcp_hostname === 'IMAGING-01')!;
    const pacs = r.inventory.find((e) => e.app_identity.dicom_ae_titles.includes('PACS01'))!;
    assert.deepEqual(
      [ct.app_identity.dicom_ae_titles, ct.app_identity.dicom_peer_ae_titles, ct.app_identity.dicom_roles, ct.app_identity.dicom_implementation_versions],
      [['CT01'], ['PACS01'], ['SCU'], ['WARDWATCH_SIM']],
    );
    assert.deepEqual(ct.app_identity.dicom_sop_classes, [
      { uid: UID_MWL_FIND, name: 'Modality Worklist Information Model - FIND' },
      { uid: UID_CT_STORAGE, name: 'CT Image Storage' },
    ]);
    assert.deepEqual([pacs.app_identity.dicom_roles, pacs.app_identity.dicom_peer_ae_titles, pacs.device_class], [['SCP'], ['CT01'], 'pacs']);
    const out = JSON.stringify([r.inventory, r.flows, r.windows]);
    assert.ok(!out.includes('TEST-PATIENT'), 'the fake patient in an output');
  });

  it('mqtt-gateway: the telemetry gateway’s client id', async () => {
    const r = await analyseFile(join(repoRoot, 'captures', 'golden', 'mqtt-gateway.pcap'));
    assert.deepEqual(r.inventory.find((e) => e.dhcp_hostname === 'TELEMETRY-01')?.app_identity.mqtt_client_ids, ['telemetry-01-077483']);
  });
});
