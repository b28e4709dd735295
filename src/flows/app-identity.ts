/**
 * A device's application identity (records/device.ts `AppIdentity`) as the inventory learns it: bounded lists of
 * distinct texts, filled from the decoders' metadata. Learning is per packet of HL7, DICOM, MQTT or DHCP only, and
 * allocates nothing for a value the device already has: the decoders intern recurring texts, so a value is found by
 * `===` in a list of at most 32; a string is kept (and, for SOP classes, split out of the decoder's list) only when it
 * is new for the device.
 *
 * Identity changes (feature `identity_changes`, records/features.ts `IdentityChange`): per watched field — HL7 message
 * type, sending application, equipment id, and the DICOM AE title the device calls from — a settle clock starts at
 * the device's first value of that field (`identity_settle_ms`); a value added to the list after it is a change, noted
 * with the values the device had before and taken by the feature stage at its window's close. Only what the device
 * says of itself counts: the called AE title of an RQ sent to it is learned but never a change (the caller chose it),
 * and neither is anything an HL7 acknowledgement carries (its MSH-3/4 often echo the acknowledged message's MSH-5/6,
 * its type the acknowledged one's). A value refused by a full list is not a change (the device has shown a varying
 * identity: an interface engine, a gateway).
 */
import type { AppIdentity, AppIdentityList, DicomSopClass, Hl7EquipmentId, IdentityChanges } from '../records/device.js';
import { APP_IDENTITY_LIMITS, emptyAppIdentity } from '../records/device.js';
import type { IdentityChange, IdentityField } from '../records/features.js';
import { IDENTITY_CHANGES_MAX, IDENTITY_SEEN_BEFORE_MAX } from '../records/features.js';
import type { AppMeta } from '../records/packet.js';
import type { IdentityEvidence } from './device-class.js';
import { sopClassName } from './sop-classes.js';

/** DICOM PDU types read here. */
const A_ASSOCIATE_RQ = 1;
const A_ASSOCIATE_AC = 2;

/** Settle clocks, by watched field. */
const F_TYPE = 0;
const F_APP = 1;
const F_EQUIPMENT = 2;
const F_AE = 3;
const FIELD_NAMES: readonly IdentityField[] = ['hl7_message_type', 'hl7_sending_application', 'hl7_equipment_id', 'dicom_ae_title'];

/** An HL7 acknowledgement (MSH-9 `ACK` or `ACK^…`). */
function isAck(type: string | undefined): boolean {
  return type !== undefined && type.startsWith('ACK') && (type.length === 3 || type.charCodeAt(3) === 0x5e /* ^ */);
}

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
  /**
   * Per watched field (F_TYPE, F_APP, F_EQUIPMENT, F_AE): packet time (s) from which a new value is a change; NaN
   * until the field's first value (its clock starts then), -Infinity for a field restored from a saved inventory.
   */
  private readonly settledFrom = [NaN, NaN, NaN, NaN];
  /** Identity changes not taken yet (`takeChanges`): all counted, the first IDENTITY_CHANGES_MAX kept. */
  private pendingCount = 0;
  private pending: IdentityChange[] = [];

  /** `settleS`: seconds after a watched field's first value before a new value of it is a change (`identity_settle_ms`). */
  constructor(private readonly settleS = 3600) {}

  /** HL7 metadata of a message the device sent, at packet time `ts` (seconds). */
  learnHl7Sent(m: AppMeta, ts = 0): void {
    // An acknowledgement's names and type are dictated by the message it answers: learned, never a change.
    const watch = !isAck(m.hl7_msg_type);
    const app = m.hl7_sending_app;
    if (app !== undefined && app !== '') {
      const added = this.add('hl7_sending_applications', app);
      if (watch) this.watch(F_APP, ts, added, app, '', this.hl7_sending_applications);
    }
    if (m.hl7_sending_facility !== undefined) this.add('hl7_sending_facilities', m.hl7_sending_facility);
    if (m.hl7_receiving_app !== undefined) this.add('hl7_receiving_applications', m.hl7_receiving_app);
    if (m.hl7_receiving_facility !== undefined) this.add('hl7_receiving_facilities', m.hl7_receiving_facility);
    if (m.hl7_version !== undefined) this.add('hl7_versions', m.hl7_version);
    const type = m.hl7_msg_type;
    if (type !== undefined) {
      const i = this.hl7_message_types.indexOf(type);
      let added = false;
      if (i >= 0) this.hl7_message_counts[i]!++;
      else if ((added = this.add('hl7_message_types', type))) this.hl7_message_counts.push(1);
      if (watch) this.watch(F_TYPE, ts, added, type, app ?? '', this.hl7_message_types);
    }
    if (m.hl7_obx18 !== undefined) this.addEquipment(m.hl7_obx18, 'OBX-18', watch, ts, app ?? '');
    if (m.hl7_prt10 !== undefined) this.addEquipment(m.hl7_prt10, 'PRT-10', watch, ts, app ?? '');
    if (m.hl7_prt16 !== undefined) this.addEquipment(m.hl7_prt16, 'PRT-16', watch, ts, app ?? '');
  }

  /**
   * A watched field's observation at `ts`: starts its settle clock at its first value; `added` (the value is new to the
   * device) after the clock is a change, noted with the field's earlier values (`list` ends with the new value).
   */
  private watch(f: number, ts: number, added: boolean, value: string, context: string, list: readonly string[] | null): void {
    const from = this.settledFrom[f]!;
    if (from !== from) {
      // NaN: the field's first value starts its clock.
      this.settledFrom[f] = ts + this.settleS;
      return;
    }
    if (!added || ts < from) return;
    this.pendingCount++;
    if (this.pending.length >= IDENTITY_CHANGES_MAX) return;
    const before =
      list !== null
        ? list.slice(0, Math.min(list.length - 1, IDENTITY_SEEN_BEFORE_MAX))
        : this.hl7_equipment_ids.slice(0, Math.min(this.hl7_equipment_ids.length - 1, IDENTITY_SEEN_BEFORE_MAX)).map((e) => `${e.id} (${e.field})`);
    this.pending.push({ field: FIELD_NAMES[f]!, value, context, seen_before: before });
  }

  /** The identity changes noted since the last call (undefined when none). */
  takeChanges(): IdentityChanges | undefined {
    if (this.pendingCount === 0) return undefined;
    const out = { count: this.pendingCount, changes: this.pending };
    this.pendingCount = 0;
    this.pending = [];
    return out;
  }

  /** DICOM A-ASSOCIATE-RQ/AC metadata at packet time `ts` (seconds); `sent`: the device sent the PDU (else it is the PDU's destination). */
  learnDicom(m: AppMeta, sent: boolean, ts = 0): void {
    const type = m.dicom_pdu_type;
    if (type !== A_ASSOCIATE_RQ && type !== A_ASSOCIATE_AC) return;
    const requestor = (type === A_ASSOCIATE_RQ) === sent;
    if (type === A_ASSOCIATE_RQ) {
      // AE titles from the RQ only: the requestor's own is the calling one, the acceptor's the called one. (An AC
      // echoes them, but "shall not be tested" (PS3.8 9.3.3) and implementations fill it inconsistently: the tapirxl
      // captures' ACs swap them.)
      const own = requestor ? m.dicom_calling_ae : m.dicom_called_ae;
      const peer = requestor ? m.dicom_called_ae : m.dicom_calling_ae;
      if (own !== undefined && own !== '') {
        const added = this.add('dicom_ae_titles', own);
        // Only the AE title it calls from is what it says of itself (the called one is the caller's choice).
        if (requestor) this.watch(F_AE, ts, added, own, peer ?? '', this.dicom_ae_titles);
      }
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
  static fromRecord(r: AppIdentity, settleS?: number): AppIdentityState {
    const s = new AppIdentityState(settleS);
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
    // What a saved inventory holds was learned before: those fields are settled (a new value is a change at once).
    if (r.hl7_message_types.length > 0) s.settledFrom[F_TYPE] = -Infinity;
    if (r.hl7_sending_applications.length > 0) s.settledFrom[F_APP] = -Infinity;
    if (r.hl7_equipment_ids.length > 0) s.settledFrom[F_EQUIPMENT] = -Infinity;
    if (r.dicom_ae_titles.length > 0) s.settledFrom[F_AE] = -Infinity;
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

  private addEquipment(id: string, field: Hl7EquipmentId['field'], watch = false, ts = 0, context = ''): void {
    const list = this.hl7_equipment_ids;
    let added = true;
    for (let i = 0; i < list.length; i++) if (list[i]!.id === id && list[i]!.field === field) added = false;
    if (added && list.length >= APP_IDENTITY_LIMITS.hl7_equipment_ids) {
      this.dropped.hl7_equipment_ids = (this.dropped.hl7_equipment_ids ?? 0) + 1;
      added = false;
    } else if (added) {
      list.push({ id, field });
      this.changes++;
    }
    if (watch) this.watch(F_EQUIPMENT, ts, added, added ? `${id} (${field})` : '', context, null);
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
