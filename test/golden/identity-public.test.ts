/**
 * Issue 23 on the public captures (used in place): the identity fields the decoders read — HL7 MSH-3..6/9/12,
 * OBX-18, PRT-10/16; DICOM implementation class UID, version name and proposed SOP classes — agree with tshark's
 * dissection of the same frames, and the inventory built from each capture holds the expected per-device identity.
 */
import assert from 'node:assert/strict';
import { sopClassName } from '../../src/flows/sop-classes.js';
import type { AppIdentity, InventoryEntry } from '../../src/records/device.js';
import type { AppMeta } from '../../src/records/packet.js';
import { analyseFile } from '../support/analyse-file.js';
import { decodeFile } from '../support/decode-file.js';
import { publicCapture, requirePublicCaptures } from '../support/fixtures.js';
import { requireTshark, tshark } from '../support/tshark.js';

const HL7_FILES = ['tapirx_HL7-ADT.pcap', 'tapirx_HL7-ADT-UDI-OBX.pcap', 'tapirx_HL7-ADT-UDI-PRT.pcap', 'tapirx_HL7-ORM.pcap', 'tapirx_HL7-ORU.pcap'];
const DICOM_FILES = [
  'tapirx_dicom_arq_1_find_testclient.pcap',
  'tapirx_dicom_arq_2_get_testclient.pcap',
  'tapirx_dicom_arq_3_find_bogus_local.pcap',
  'tapirx_dicom_arq_4_get_bogus_local.pcap',
  'tapirxl_ct_to_pacs_scenario.pcap',
  'tapirxl_synthetic_philips_demo.pcap',
];
/** Messages tshark reassembles from two TCP segments (frame completing it → our frame: the first segment). */
const SPLIT: Record<string, Record<number, number>> = {
  'tapirx_HL7-ORU.pcap': { 5: 4 },
  'tapirx_dicom_arq_2_get_testclient.pcap': { 2: 1 },
  'tapirx_dicom_arq_4_get_bogus_local.pcap': { 2: 1 },
};

/** tshark's per-frame values of the given fields (-T json, TCP reassembly on, HL7 on 6661). */
function tsharkJson(file: string, fields: string[]): { frame: number; layers: Record<string, string[]> }[] {
  const args = ['-r', publicCapture(file), '-d', 'tcp.port==6661,hl7', '-T', 'json', '-e', 'frame.number'];
  for (const f of fields) args.push('-e', f);
  const out = JSON.parse(tshark(args)) as { _source: { layers: Record<string, string[]> } }[];
  return out.map((p) => ({ frame: Number(p._source.layers['frame.number']![0]), layers: p._source.layers }));
}

/** What the HL7 fields should be, from tshark's segments split naively on '|' (MSH-n is element n-1 of MSH). */
function expectedHl7(segments: string[]): AppMeta {
  const segs = segments.map((s) => s.replace(/\r$/, '').split('|'));
  const msh = segs.find((s) => s[0] === 'MSH')!;
  const m: AppMeta = {};
  const put = (k: keyof AppMeta, v: string | undefined, keepEmpty = false): void => {
    if (v !== undefined && (v !== '' || keepEmpty)) (m as Record<string, string>)[k] = v.slice(0, 64);
  };
  put('hl7_sending_app', msh[2], true);
  put('hl7_sending_facility', msh[3]);
  put('hl7_receiving_app', msh[4]);
  put('hl7_receiving_facility', msh[5]);
  put('hl7_msg_type', msh[8]);
  put('hl7_version', msh[11]);
  put('hl7_obx18', segs.filter((s) => s[0] === 'OBX').map((s) => s[18]).find((v) => v !== undefined && v !== ''));
  put('hl7_prt10', segs.filter((s) => s[0] === 'PRT').map((s) => s[10]).find((v) => v !== undefined && v !== ''));
  put('hl7_prt16', segs.filter((s) => s[0] === 'PRT').map((s) => s[16]).find((v) => v !== undefined && v !== ''));
  return m;
}

const HL7_KEYS = ['hl7_sending_app', 'hl7_sending_facility', 'hl7_receiving_app', 'hl7_receiving_facility', 'hl7_msg_type', 'hl7_version', 'hl7_obx18', 'hl7_prt10', 'hl7_prt16'] as const;

function entry(inv: readonly InventoryEntry[], ip: string): InventoryEntry {
  const e = inv.find((x) => x.ips.includes(ip));
  assert.ok(e, `a device with ${ip}: ${inv.map((x) => x.ips.join(',')).join(' | ')}`);
  return e;
}

function device(inv: readonly InventoryEntry[], ip: string): AppIdentity {
  return entry(inv, ip).app_identity;
}

describe('medical-device identity on the public captures (issue 23)', function () {
  this.timeout(120_000);
  before(function () {
    requirePublicCaptures(this);
    requireTshark(this);
  });

  it('HL7: MSH-3..6, 9, 12, OBX-18, PRT-10, PRT-16 as tshark dissects them, frame by frame', async () => {
    let messages = 0;
    for (const f of HL7_FILES) {
      const ours = (await decodeFile(publicCapture(f))).packets;
      for (const { frame, layers } of tsharkJson(f, ['hl7.segment'])) {
        const segs = layers['hl7.segment'];
        if (segs === undefined) continue;
        messages++;
        const at = SPLIT[f]?.[frame] ?? frame;
        const got = ours[at - 1]?.app_meta ?? {};
        const want = expectedHl7(segs);
        const pick = (m: AppMeta): Record<string, unknown> => Object.fromEntries(HL7_KEYS.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
        assert.deepEqual(pick(got), pick(want), `${f} frame ${at}`);
      }
    }
    assert.equal(messages, 10, 'five sessions of a message and its ACK');
  });

  it('DICOM: implementation class UID and version name, and the proposed SOP classes (named as tshark names them)', async () => {
    let pdus = 0;
    for (const f of DICOM_FILES) {
      const ours = (await decodeFile(publicCapture(f))).packets;
      for (const { frame, layers } of tsharkJson(f, ['dicom.pdu.type', 'dicom.userinfo.uid', 'dicom.userinfo.version', 'dicom.pctx.abss.syntax'])) {
        const type = layers['dicom.pdu.type']?.[0];
        if (type !== '0x01' && type !== '0x02') continue;
        pdus++;
        const split = SPLIT[f]?.[frame];
        const got = ours[(split ?? frame) - 1]?.app_meta ?? {};
        const syntaxes = (layers['dicom.pctx.abss.syntax'] ?? []).map((s) => /^(.*) \(([\d.]+)\)$/.exec(s)!);
        const uids = [...new Set(syntaxes.map((x) => x[2]!))];
        for (const x of syntaxes) {
          const name = sopClassName(x[2]!);
          if (name !== '') assert.equal(name, x[1], `our name of ${x[2]}`);
        }
        const kept = got.dicom_sop_classes?.split(',') ?? [];
        if (split === undefined) {
          assert.equal(got.dicom_impl_class_uid, layers['dicom.userinfo.uid']?.[0], `${f} frame ${frame}`);
          assert.equal(got.dicom_impl_version, layers['dicom.userinfo.version']?.[0], `${f} frame ${frame}`);
          assert.deepEqual(kept, uids.slice(0, 32), `${f} frame ${frame}`);
          assert.equal(got.dicom_sop_classes_dropped, uids.length > 32 ? uids.length - 32 : undefined);
        } else {
          // The 16509-byte RQ: its first segment (16332 bytes) holds all 123 presentation contexts (32 kept, 91
          // counted) but not the user information item at its end (known inaccuracy: no TCP reassembly).
          assert.equal(uids.length, 123);
          assert.deepEqual(kept, uids.slice(0, 32), `${f} frame ${frame}`);
          assert.equal(got.dicom_sop_classes_dropped, 91);
          assert.equal(got.dicom_impl_class_uid, undefined);
          assert.equal(got.dicom_impl_version, undefined);
        }
      }
    }
    assert.equal(pdus, 8, 'four RQs of tapirx, an RQ and an AC in each tapirxl capture');
  });

  it('HL7 inventory: each side’s application, facility, message types, version; the equipment in OBX-18 or PRT-16', async () => {
    const cases: [string, string, AppIdentity['hl7_equipment_ids']][] = [
      ['tapirx_HL7-ADT.pcap', 'ADT^A01', []],
      ['tapirx_HL7-ADT-UDI-OBX.pcap', 'ADT^A01', [{ id: 'Hospira Plum A+', field: 'OBX-18' }]],
      ['tapirx_HL7-ADT-UDI-PRT.pcap', 'ADT^A01', [{ id: 'Hospira Plum A+', field: 'PRT-16' }]],
      ['tapirx_HL7-ORM.pcap', 'ORM^O01', []],
      ['tapirx_HL7-ORU.pcap', 'ORU^R01', []],
    ];
    for (const [f, type, equipment] of cases) {
      const inv = (await analyseFile(publicCapture(f))).inventory;
      const client = device(inv, '10.0.0.155');
      const server = device(inv, '10.0.0.126');
      const [app, fac, rapp, rfac] = f.includes('ADT') ? ['SENDING_APPLICATION', 'SENDING_FACILITY', 'RECEIVING_APPLICATION', 'RECEIVING_FACILITY'] : ['SendingApp', 'SendingFac', 'ReceivingApp', 'ReceivingFac'];
      assert.deepEqual(
        [client.hl7_sending_applications, client.hl7_sending_facilities, client.hl7_receiving_applications, client.hl7_receiving_facilities, client.hl7_message_types, client.hl7_versions],
        [[app], [fac], [rapp], [rfac], [{ type, count: 1 }], ['2.3']],
        f,
      );
      assert.deepEqual(client.hl7_equipment_ids, equipment, f);
      assert.deepEqual([server.hl7_sending_applications, server.hl7_receiving_applications, server.hl7_message_types, server.hl7_equipment_ids], [[rapp], [app], [{ type: 'ACK', count: 1 }], []], f);
      assert.deepEqual(client.dropped, {});
      // Item 2: the Plum named in OBX-18 or PRT-16 makes the sender an infusion pump, and the evidence says so.
      const c = entry(inv, '10.0.0.155');
      if (equipment.length > 0) {
        assert.deepEqual([c.device_class, c.class_confidence, c.class_evidence], ['infusion_pump', 0.9, `HL7 equipment id "Hospira Plum A+" (${equipment[0]!.field}): infusion-pump family`], f);
      } else {
        assert.notEqual(c.class_evidence.startsWith('HL7 equipment id'), true, f);
      }
    }
  });

  it('CT to PACS: the CT is BRIGHTSPEED01, SCU of CT Image Storage; the PACS CENTRICITY001, SCP; each with its implementation', async () => {
    const inv = (await analyseFile(publicCapture('tapirxl_ct_to_pacs_scenario.pcap'))).inventory;
    const ct = device(inv, '10.40.2.20');
    const pacs = device(inv, '10.40.2.10');
    assert.deepEqual(
      [ct.dicom_ae_titles, ct.dicom_peer_ae_titles, ct.dicom_roles, ct.dicom_implementation_class_uids, ct.dicom_implementation_versions, ct.dicom_sop_classes],
      [['BRIGHTSPEED01'], ['CENTRICITY001'], ['SCU'], ['1.2.840.113619.2.5'], ['AW1234'], [{ uid: '1.2.840.10008.5.1.4.1.1.2', name: 'CT Image Storage' }]],
    );
    assert.deepEqual(
      [pacs.dicom_ae_titles, pacs.dicom_peer_ae_titles, pacs.dicom_roles, pacs.dicom_implementation_class_uids, pacs.dicom_implementation_versions, pacs.dicom_sop_classes],
      [['CENTRICITY001'], ['BRIGHTSPEED01'], ['SCP'], ['1.2.840.113619.7.5.1'], ['CENTRICITY5.0'], []],
    );
    // Item 2: a Broadcom NIC says nothing of the CT; its CT Image Storage SCU role does.
    const c = entry(inv, '10.40.2.20');
    assert.deepEqual([c.vendor, c.device_class, c.class_confidence, c.class_evidence], ['Broadcom', 'imaging', 0.75, 'DICOM SCU of CT Image Storage, never SCP']);
    assert.deepEqual([entry(inv, '10.40.2.10').device_class, entry(inv, '10.40.2.10').class_evidence], ['pacs', 'DICOM, answers on 104/11112']);
  });

  it('Philips demo: the Brilliance CT (DICOM CT9999999, DHCP fingerprint) and the monitor’s DHCP fingerprint', async () => {
    const inv = (await analyseFile(publicCapture('tapirxl_synthetic_philips_demo.pcap'))).inventory;
    const ct = device(inv, '10.10.10.30');
    assert.deepEqual([ct.dicom_ae_titles, ct.dicom_roles, ct.dicom_implementation_versions], [['CT9999999'], ['SCU'], ['PMS_ELEVA_416']]);
    assert.deepEqual(ct.dicom_sop_classes.map((c) => c.name), ['CT Image Storage']);
    assert.deepEqual(ct.dhcp_parameter_lists, ['1,3,6,15,28,51,58,59']);
    assert.deepEqual(device(inv, '10.10.10.21').dhcp_parameter_lists, ['1,3,6,15,28,51,58,59']);
    assert.deepEqual(device(inv, '10.10.10.40').dhcp_parameter_lists, ['1,15,3,6,44,46,47,31,33,121,249,43']);
  });

  it('DICOM on loopback (an internal subnet for the test): the test client’s AE title, role, implementation and FIND classes', async () => {
    const opts = { devices: { subnets: [{ cidr: '127.0.0.0/8', key: 'ip' as const }], require_evidence: false } };
    const inv = (await analyseFile(publicCapture('tapirx_dicom_arq_1_find_testclient.pcap'), opts)).inventory;
    const id = device(inv, '127.0.0.1');
    assert.deepEqual([id.dicom_ae_titles, id.dicom_peer_ae_titles, id.dicom_roles, id.dicom_implementation_versions], [['testclient'], ['testserver'], ['SCU'], ['GODICOM_1_1']]);
    assert.deepEqual(id.dicom_sop_classes.map((c) => c.name), [
      'Patient Root Query/Retrieve Information Model - FIND',
      'Study Root Query/Retrieve Information Model - FIND',
      'Patient/Study Only Query/Retrieve Information Model - FIND (Retired)',
      'Modality Worklist Information Model - FIND',
    ]);
    const big = device((await analyseFile(publicCapture('tapirx_dicom_arq_2_get_testclient.pcap'), opts)).inventory, '127.0.0.1');
    assert.equal(big.dicom_sop_classes.length, 32);
    assert.equal(big.dropped.dicom_sop_classes, 91, 'the classes beyond 32 are counted');
    assert.deepEqual(big.dicom_implementation_class_uids, [], 'user information is in the second TCP segment (no reassembly)');
  });

  it('MQTT: the client id of the CONNECT from the internal client', async () => {
    const inv = (await analyseFile(publicCapture('ndpi_mqtt.pcap'))).inventory;
    assert.deepEqual(device(inv, '10.10.10.1').mqtt_client_ids, ['cbaabcbabacbbbbbaaaaab']);
  });
});
