/**
 * A device's application identity (records/device.ts `AppIdentity`) as the inventory learns it: bounded lists of
 * distinct texts, filled from the decoders' metadata. Learning is per packet of HL7, DICOM, MQTT or DHCP only, and
 * allocates nothing for a value the device already has: the decoders intern recurring texts, so a value is found by
 * `===` in a list of at most 32; a string is kept (and, for SOP classes, split out of the decoder's list) only when it
 * is new for the device.
 */
import type { AppIdentity, AppIdentityList, DicomSopClass, Hl7EquipmentId } from '../records/device.js';
import { APP_IDENTITY_LIMITS, emptyAppIdentity } from '../records/device.js';
import type { AppMeta } from '../records/packet.js';
import type { IdentityEvidence } from './device-class.js';
import { sopClassName } from './sop-classes.js';

/** DICOM PDU types read here. */
const A_ASSOCIATE_RQ = 1;
const A_ASSOCIATE_AC = 2;

export class AppIdentityState {
  readonly hl7_sending_applications: string[] = [];
  readonly hl7_sending_facilities: string[] = [];
  readonly hl7_receiving_applications: string[] = [];
  readonly hl7_receiving_facilities: string[] = [];
  readonly hl7_message_types: string[] = [];
  /** Messages per type, by index into `hl7_message_types`. */
  readonly hl7_message_counts: number[] = [];
  readonly hl7_versions: string[] = [];
  readonly hl7_equipment_ids: Hl7EquipmentId[] = [];
  readonly dicom_ae_titles: string[] = [];
  readonly dicom_peer_ae_titles: string[] = [];
  readonly dicom_roles: ('SCU' | 'SCP')[] = [];
  readonly dicom_implementation_class_uids: string[] = [];
  readonly dicom_implementation_versions: string[] = [];
  /** SOP class UIDs; the decoder's comma-separated list of the last RQ, to skip it when it comes again. */
  readonly dicom_sop_classes: string[] = [];
  private lastSopList = '';
  readonly mqtt_client_ids: string[] = [];
  readonly dhcp_parameter_lists: string[] = [];
  readonly dropped: Partial<Record<AppIdentityList, number>> = {};
  /** Moves on whenever a value is added to a list (not on counts): the class guess reads the lists. */
  changes = 0;

  /** HL7 metadata of a message the device sent. */
  learnHl7Sent(m: AppMeta): void {
    if (m.hl7_sending_app !== undefined && m.hl7_sending_app !== '') this.add('hl7_sending_applications', m.hl7_sending_app);
    if (m.hl7_sending_facility !== undefined) this.add('hl7_sending_facilities', m.hl7_sending_facility);
    if (m.hl7_receiving_app !== undefined) this.add('hl7_receiving_applications', m.hl7_receiving_app);
    if (m.hl7_receiving_facility !== undefined) this.add('hl7_receiving_facilities', m.hl7_receiving_facility);
    if (m.hl7_version !== undefined) this.add('hl7_versions', m.hl7_version);
    const type = m.hl7_msg_type;
    if (type !== undefined) {
      const i = this.hl7_message_types.indexOf(type);
      if (i >= 0) this.hl7_message_counts[i]!++;
      else if (this.add('hl7_message_types', type)) this.hl7_message_counts.push(1);
    }
    if (m.hl7_obx18 !== undefined) this.addEquipment(m.hl7_obx18, 'OBX-18');
    if (m.hl7_prt10 !== undefined) this.addEquipment(m.hl7_prt10, 'PRT-10');
    if (m.hl7_prt16 !== undefined) this.addEquipment(m.hl7_prt16, 'PRT-16');
  }

  /** DICOM A-ASSOCIATE-RQ/AC metadata; `sent`: the device sent the PDU (else it is the PDU's destination). */
  learnDicom(m: AppMeta, sent: boolean): void {
    const type = m.dicom_pdu_type;
    if (type !== A_ASSOCIATE_RQ && type !== A_ASSOCIATE_AC) return;
    const requestor = (type === A_ASSOCIATE_RQ) === sent;
    if (type === A_ASSOCIATE_RQ) {
      // AE titles from the RQ only: the requestor's own is the calling one, the acceptor's the called one. (An AC
      // echoes them, but "shall not be tested" (PS3.8 9.3.3) and implementations fill it inconsistently: the tapirxl
      // captures' ACs swap them.)
      const own = requestor ? m.dicom_calling_ae : m.dicom_called_ae;
      const peer = requestor ? m.dicom_called_ae : m.dicom_calling_ae;
      if (own !== undefined && own !== '') this.add('dicom_ae_titles', own);
      if (peer !== undefined && peer !== '') this.add('dicom_peer_ae_titles', peer);
    }
    this.add('dicom_roles', requestor ? 'SCU' : 'SCP');
    if (!sent) return;
    if (m.dicom_impl_class_uid !== undefined) this.add('dicom_implementation_class_uids', m.dicom_impl_class_uid);
    if (m.dicom_impl_version !== undefined) this.add('dicom_implementation_versions', m.dicom_impl_version);
    const list = m.dicom_sop_classes;
    if (type === A_ASSOCIATE_RQ && list !== undefined && list !== this.lastSopList) {
      // A new list (rare: once per kind of association): split it, keeping the UIDs new for the device.
      this.lastSopList = list;
      for (const uid of list.split(',')) if (!this.dicom_sop_classes.includes(uid)) this.add('dicom_sop_classes', uid);
    }
    if (type === A_ASSOCIATE_RQ && m.dicom_sop_classes_dropped !== undefined && m.dicom_sop_classes_dropped > 0)
      this.dropped.dicom_sop_classes = (this.dropped.dicom_sop_classes ?? 0) + m.dicom_sop_classes_dropped;
  }

  learnMqttClientId(id: string): void {
    if (id !== '') this.add('mqtt_client_ids', id);
  }

  learnDhcpParameters(list: string): void {
    this.add('dhcp_parameter_lists', list);
  }

  /** The record (copies). */
  toRecord(): AppIdentity {
    return {
      hl7_sending_applications: [...this.hl7_sending_applications],
      hl7_sending_facilities: [...this.hl7_sending_facilities],
      hl7_receiving_applications: [...this.hl7_receiving_applications],
      hl7_receiving_facilities: [...this.hl7_receiving_facilities],
      hl7_message_types: this.hl7_message_types.map((type, i) => ({ type, count: this.hl7_message_counts[i]! })),
      hl7_versions: [...this.hl7_versions],
      hl7_equipment_ids: this.hl7_equipment_ids.map((e) => ({ ...e })),
      dicom_ae_titles: [...this.dicom_ae_titles],
      dicom_peer_ae_titles: [...this.dicom_peer_ae_titles],
      dicom_roles: [...this.dicom_roles],
      dicom_implementation_class_uids: [...this.dicom_implementation_class_uids],
      dicom_implementation_versions: [...this.dicom_implementation_versions],
      dicom_sop_classes: this.dicom_sop_classes.map((uid): DicomSopClass => ({ uid, name: sopClassName(uid) })),
      mqtt_client_ids: [...this.mqtt_client_ids],
      dhcp_parameter_lists: [...this.dhcp_parameter_lists],
      dropped: { ...this.dropped },
    };
  }

  /** From a saved record (values beyond the current caps are not restored, and counted as dropped). */
  static fromRecord(r: AppIdentity): AppIdentityState {
    const s = new AppIdentityState();
    const lists: readonly Exclude<AppIdentityList, 'hl7_message_types' | 'hl7_equipment_ids' | 'dicom_sop_classes' | 'dicom_roles'>[] = [
      'hl7_sending_applications',
      'hl7_sending_facilities',
      'hl7_receiving_applications',
      'hl7_receiving_facilities',
      'hl7_versions',
      'dicom_ae_titles',
      'dicom_peer_ae_titles',
      'dicom_implementation_class_uids',
      'dicom_implementation_versions',
      'mqtt_client_ids',
      'dhcp_parameter_lists',
    ];
    Object.assign(s.dropped, r.dropped);
    for (const l of lists) for (const v of r[l]) s.add(l, v);
    for (const v of r.dicom_roles) s.add('dicom_roles', v);
    for (const t of r.hl7_message_types) if (s.add('hl7_message_types', t.type)) s.hl7_message_counts.push(t.count);
    for (const e of r.hl7_equipment_ids) s.addEquipment(e.id, e.field);
    for (const c of r.dicom_sop_classes) s.add('dicom_sop_classes', c.uid);
    return s;
  }

  /** Adds `v` to list `l` unless there (true when added; a value refused by a full list is counted). */
  private add<L extends Exclude<AppIdentityList, 'hl7_equipment_ids'>>(l: L, v: this[L][number]): boolean {
    const list = this[l] as unknown as (typeof v)[];
    for (let i = 0; i < list.length; i++) if (list[i] === v) return false;
    if (list.length >= APP_IDENTITY_LIMITS[l]) {
      this.dropped[l] = (this.dropped[l] ?? 0) + 1;
      return false;
    }
    list.push(v);
    this.changes++;
    return true;
  }

  private addEquipment(id: string, field: Hl7EquipmentId['field']): void {
    const list = this.hl7_equipment_ids;
    for (let i = 0; i < list.length; i++) if (list[i]!.id === id && list[i]!.field === field) return;
    if (list.length >= APP_IDENTITY_LIMITS.hl7_equipment_ids) {
      this.dropped.hl7_equipment_ids = (this.dropped.hl7_equipment_ids ?? 0) + 1;
      return;
    }
    list.push({ id, field });
    this.changes++;
  }

  /** What the class guess reads (device-class.ts `IdentityEvidence`). */
  classEvidence(): IdentityEvidence {
    return {
      equipment: this.hl7_equipment_ids,
      equipment_dropped: this.dropped.hl7_equipment_ids ?? 0,
      sop_classes: this.dicom_sop_classes.map((uid) => ({ uid, name: sopClassName(uid) })),
      dicom_roles: this.dicom_roles,
    };
  }
}

export { emptyAppIdentity };
