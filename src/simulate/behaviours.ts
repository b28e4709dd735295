/**
 * Benign behaviour of each device archetype: what the device does after boot (DHCP, NTP, DNS), its periodic traffic
 * with per-device phase and jitter, its occasional events, and the day/night rhythm (`dayFactor`) for the activities
 * that follow the hospital's working hours (imaging studies, workstation use, lab runs). Infusion pumps, monitors and
 * telemetry report around the clock.
 */
import { openTcp, repeat, tlsHandshake, type SimContext } from './context.js';
import { BROADCAST_MAC, parseIpv4, udpFrame, type Station } from './frames.js';
import { ARCHETYPES, dayFactor, DOMAIN, type Host } from './hospital.js';
import type { Archetype } from './labels.js';
import type { TcpConnection } from './tcp.js';
import { appData } from './protocols/tls.js';
import { ackR01, hl7Time, mllp, oruR01, type Observation } from './protocols/hl7.js';
import {
  associateAc,
  associateRq,
  cFindRq,
  cFindRsp,
  cStoreRq,
  cStoreRsp,
  findIdentifier,
  imageDataset,
  pData,
  releaseRp,
  releaseRq,
  UID_CT_STORAGE,
  UID_DX_STORAGE,
  UID_MR_STORAGE,
  UID_MWL_FIND,
  UID_STUDY_ROOT_FIND,
} from './protocols/dicom.js';
import { mqttConnack, mqttConnect, mqttPublish } from './protocols/mqtt.js';
import { BACNET_PORT, iAm, OBJ_ANALOG_INPUT, readPropertyAck, readPropertyRq, whoIs } from './protocols/bacnet.js';
import { ACK as ASTM_ACK, astmFrame, astmResultRecords, ENQ, EOT } from './protocols/astm.js';

const MIN = 60e6;
const SEC = 1e6;

/*
 * What the simulated devices say of themselves in their medical protocols: the names and identifiers wardwatch keeps
 * as a device's medical identity (InventoryEntry.app_identity). The behaviours below (and the attacks) build their
 * messages from these definitions; tests derive what the inventory must hold from them.
 */

/** The HL7 names of a device that sends results: MSH-3 and MSH-4 its own, MSH-5 the system it reports to. */
export interface Hl7Sender {
  sending_application: string;
  sending_facility: string;
  receiving_application: string;
}

/**
 * A monitor reports vitals to the interface engine, an HL7 lab analyser results to the LIS; MSH-3 is the device's
 * name in capitals. The receiving system acknowledges with its own name (MSH-3 of the ACK = MSH-5 here).
 */
export function hl7Sender(archetype: 'monitor' | 'lab', name: string): Hl7Sender {
  const app = name.toUpperCase();
  return archetype === 'monitor'
    ? { sending_application: app, sending_facility: 'WARD', receiving_application: 'HL7ENGINE' }
    : { sending_application: app, sending_facility: 'LAB', receiving_application: 'LIS' };
}

/** Lab analyser `index` (1-based) sends HL7 over MLLP when odd, ASTM E1381/E1394 when even. */
export function labSpeaksHl7(index: number): boolean {
  return index % 2 === 1;
}

/** Imaging device `index` (1-based) is a CT, MR or DX in turn: its modality, image SOP class and study rhythm. */
export function imagingModality(index: number): { modality: 'CT' | 'MR' | 'DX'; sop: string; mean: number; images: readonly [number, number]; scale: number } {
  const kinds = [
    { modality: 'CT' as const, sop: UID_CT_STORAGE, mean: 25, images: [20, 60] as const, scale: 1 },
    { modality: 'MR' as const, sop: UID_MR_STORAGE, mean: 45, images: [15, 40] as const, scale: 1 },
    { modality: 'DX' as const, sop: UID_DX_STORAGE, mean: 12, images: [1, 4] as const, scale: 4 },
  ];
  return kinds[(index - 1) % kinds.length]!;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** DICOM AE titles: a modality's (`CT01`), a reading workstation's (`READWS01`), a PACS's (its name without dashes). */
export function modalityAeTitle(index: number): string {
  return `${imagingModality(index).modality}${two(index)}`;
}
export function readingAeTitle(index: number): string {
  return `READWS${two(index)}`;
}
export function pacsAeTitle(pacsName: string): string {
  return pacsName.toUpperCase().replace(/-/g, '');
}

/** Which PACS (0-based, of `pacsCount`) modality or reading workstation `index` works with. */
export function pacsOf(index: number, pacsCount: number): number {
  return (index - 1) % Math.max(1, pacsCount);
}

/**
 * SOP classes proposed in A-ASSOCIATE-RQs: a modality its worklist query (then its image class, `imagingModality`), a
 * reading workstation its study query, the PACS the CT images it pushes to the workstations.
 */
export const MODALITY_WORKLIST_SOP = UID_MWL_FIND;
export const READING_QUERY_SOP = UID_STUDY_ROOT_FIND;
export const PACS_PUSH_SOP = UID_CT_STORAGE;

/** A telemetry gateway's MQTT client id: its name and the last three bytes of its MAC (`telemetry-01-a1b2c3`). */
export function telemetryClientId(name: string, mac: string): string {
  return `${name}-${mac.replace(/:/g, '').slice(6)}`;
}

/**
 * Quiet devices (option `quiet_devices`): the same protocols and sessions as their archetype, at the intervals below
 * instead of the usual ones (in the comments), so that they have traffic in ≤ 10 % of 10-second windows — an infusion
 * pump or monitor that reports every few minutes, a controller the BMS trends every 5 minutes, a rarely used
 * workstation or modality. NTP (every 1024 s, Windows hourly), DHCP renewal and DNS stay as for every device.
 */
export const QUIET = {
  /** Pump status record on its TLS session (15 s ± 10 %). */
  pump_status_s: 300,
  /** Monitor ORU^R01 (30 s ± 5 %). */
  monitor_oru_s: 300,
  /** Telemetry PUBLISH (5 s ± 2 %); MQTT keep-alive 900 s instead of 60 s, so the idle session is legal. */
  telemetry_publish_s: 300,
  telemetry_keepalive_s: 900,
  /** BMS ReadProperty poll (60 s ± 1 %). */
  bacnet_poll_s: 300,
  /** Mean minutes between lab results ÷ dayFactor (4). */
  lab_result_min: 30,
  /** Mean minutes between a nurse PC's EHR sessions ÷ dayFactor (1.5). */
  nurse_ehr_min: 30,
  /** Mean minutes between a reading workstation's studies and EHR sessions ÷ dayFactor (10 and 5). */
  reading_study_min: 60,
  reading_ehr_min: 45,
  /** Factor on a modality's mean minutes between studies (CT 25, MR 45, DX 12). */
  imaging_study_factor: 6,
} as const;

/** Interval scaled by the day/night rhythm (longer at night). */
function daily(mean: number, now: number): number {
  return mean / Math.max(0.1, dayFactor(now));
}

/** Boots a device: DHCP at start-up (+ renewal at T1), periodic NTP, then the archetype's own behaviour. */
export function startDevice(ctx: SimContext, d: Host, archetype: Archetype, index: number, quiet = false): void {
  const spec = ARCHETYPES[archetype];
  const h = ctx.hospital;
  const boot = ctx.startUs + d.rng.int(0, 90) * SEC + d.rng.int(0, 999_999);
  ctx.engine.at(boot, (now) => {
    const t = archetype === 'pacs' ? now : h.dhcp(d, now, d.name.toUpperCase(), spec.vendorClass);
    const ready = h.ntp(d, t + d.rng.int(100, 2000) * 1000);
    // Renew the 6-hour lease at T1 (the PACS has a static address).
    if (archetype !== 'pacs') repeat(ctx, ready + 3 * 3600 * SEC, (n) => (h.dhcp(d, n, d.name.toUpperCase(), spec.vendorClass, true), n + 3 * 3600 * SEC));
    const ntpPoll = archetype === 'nurse_pc' || archetype === 'reading_ws' || archetype === 'imaging' ? 3600 : 1024;
    repeat(ctx, ready + d.rng.jitter(ntpPoll, 0.1) * SEC, (n) => (h.ntp(d, n), n + d.rng.jitter(ntpPoll, 0.05) * SEC));
    const begin = ready + d.rng.int(200, 3000) * 1000;
    switch (archetype) {
      case 'pump':
        return pump(ctx, d, begin, quiet ? QUIET.pump_status_s : 15);
      case 'monitor':
        return monitor(ctx, d, begin, quiet ? QUIET.monitor_oru_s : 30);
      case 'imaging':
        return imaging(ctx, d, begin, index, quiet ? QUIET.imaging_study_factor : 1);
      case 'pacs':
        return;
      case 'reading_ws':
        return readingWorkstation(ctx, d, begin, index, quiet ? QUIET.reading_study_min : 10, quiet ? QUIET.reading_ehr_min : 5);
      case 'nurse_pc':
        return nursePc(ctx, d, begin, quiet ? QUIET.nurse_ehr_min : 1.5);
      case 'telemetry':
        return telemetry(ctx, d, begin, index, quiet ? QUIET.telemetry_publish_s : 5, quiet ? QUIET.telemetry_keepalive_s : 60);
      case 'lab':
        return lab(ctx, d, begin, index, quiet ? QUIET.lab_result_min : 4);
      case 'bacnet':
        return bacnetController(ctx, d, begin, index, quiet ? QUIET.bacnet_poll_s : 60);
    }
  });
}

/** A persistent session that reopens itself every `lifetimeUs` (± 20 %). */
class PersistentSession {
  conn: TcpConnection | undefined;
  private until = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly d: Host,
    private readonly server: Host,
    private readonly port: number,
    private readonly lifetimeUs: number,
    private readonly onOpen: (c: TcpConnection) => void,
    private readonly dnsName: string,
  ) {}

  /** The open connection at `now` (reopened when expired), clock moved to `now`. */
  at(now: number): TcpConnection {
    let t = now;
    if (this.conn && now >= this.until) {
      this.conn.at(now).close(true);
      t = this.conn.t + this.d.rng.int(2000, 20000);
      this.conn = undefined;
    }
    if (!this.conn) {
      t = this.ctx.hospital.resolve(this.d, this.dnsName, t);
      this.conn = openTcp(this.ctx, this.d, this.server, this.port, t);
      this.onOpen(this.conn);
      this.until = now + this.d.rng.jitter(this.lifetimeUs, 0.2);
      return this.conn;
    }
    // Keep the ARP entry of a long-lived peer fresh (re-resolved every 20 min of use).
    const t2 = this.ctx.hospital.arp(this.d, this.server, now, 20 * MIN);
    return this.conn.at(t2);
  }
}

/** `statusS`: seconds between status records (15; quiet 300). */
function pump(ctx: SimContext, d: Host, begin: number, statusS: number): void {
  const srv = ctx.hospital.servers.pumpServer;
  const name = `${srv.name}.${DOMAIN}`;
  const rng = d.rng;
  const session = new PersistentSession(ctx, d, srv, 443, 20 * MIN, (c) => tlsHandshake(c, d, name), name);
  repeat(ctx, begin, (now) => {
    session.at(now).exchange(appData(rng, rng.int(180, 260)), appData(rng, rng.int(40, 90)), rng.int(1000, 4000));
    return now + rng.jitter(statusS * SEC, 0.1);
  });
  // Drug-library fetch: a separate TLS session every few hours, tens of KB down.
  repeat(ctx, begin + rng.exp(3 * 60 * MIN), (now) => {
    const t = ctx.hospital.resolve(d, name, now);
    const c = openTcp(ctx, d, srv, 443, t);
    tlsHandshake(c, d, name);
    c.exchange(appData(rng, rng.int(300, 500)), appData(rng, rng.int(40_000, 120_000)), rng.int(5000, 20000)).close(true);
    return now + rng.jitter(4 * 60 * MIN, 0.5);
  });
}

function vitals(d: Host, base: { hr: number; spo2: number; rr: number; sys: number }): Observation[] {
  const r = d.rng;
  return [
    { id: '8867-4^Heart rate^LN', value: String(Math.round(r.normal(base.hr, 3))), units: '/min' },
    { id: '59408-5^SpO2^LN', value: String(Math.min(100, Math.round(r.normal(base.spo2, 1)))), units: '%' },
    { id: '9279-1^Resp rate^LN', value: String(Math.round(r.normal(base.rr, 1.5))), units: '/min' },
    { id: '8480-6^Systolic BP^LN', value: String(Math.round(r.normal(base.sys, 5))), units: 'mm[Hg]' },
  ];
}

/** `oruS`: seconds between ORU^R01 messages (30; quiet 300). */
function monitor(ctx: SimContext, d: Host, begin: number, oruS: number): void {
  const eng = ctx.hospital.servers.hl7Engine;
  const name = `${eng.name}.${DOMAIN}`;
  const rng = d.rng;
  const base = { hr: d.config.int(60, 95), spo2: d.config.int(94, 99), rr: d.config.int(12, 20), sys: d.config.int(105, 140) };
  const patient = rng.int(1, 999_999);
  const id = hl7Sender('monitor', d.name);
  const app = id.sending_application;
  let seq = rng.int(1, 50_000);
  const session = new PersistentSession(ctx, d, eng, 2575, 60 * MIN, () => undefined, name);
  repeat(ctx, begin, (now) => {
    const c = session.at(now);
    const ctl = `${app}-${seq++}`;
    const oru = oruR01({ sendingApp: app, sendingFacility: id.sending_facility, receivingApp: id.receiving_application, controlId: ctl, tUs: c.t, patient, observations: vitals(d, base), service: 'VITALS^Vital signs' });
    c.exchange(mllp(oru), mllp(ackR01(id.receiving_application, app, ctl, c.t, `ACK-${ctl}`)), rng.int(2000, 8000));
    return now + rng.jitter(oruS * SEC, 0.05);
  });
}

/** One DICOM association: A-ASSOCIATE-RQ/AC, `body`, A-RELEASE-RQ/RP, TCP close. */
function association(c: TcpConnection, called: string, calling: string, syntaxes: string[], rng: Host['rng'], body: () => void): void {
  c.exchange(associateRq(called, calling, syntaxes), associateAc(called, calling, syntaxes.length), rng.int(1000, 5000));
  body();
  c.t += rng.int(500, 3000);
  c.exchange(releaseRq(), releaseRp(), rng.int(200, 1000));
  c.close(true);
}

/** C-STORE of `count` images over an open association from the connection's client side (`fromClient`). */
function storeImages(c: TcpConnection, fromClient: boolean, d: Host, count: number, sopClass: string, modality: string, bytes: number, patient: number, msgBase: number): void {
  const rng = d.rng;
  const root = `1.2.826.0.1.3680043.10.1234.${rng.int(1, 99999)}`;
  const study = `${root}.1.${rng.int(1, 1e6)}`;
  const series = `${study}.${rng.int(1, 99)}`;
  for (let i = 0; i < count; i++) {
    const sop = `${series}.${i + 1}`;
    const msgId = (msgBase + i) & 0xffff;
    for (const p of pData(1, true, cStoreRq(msgId, sopClass, sop))) c.send(fromClient, p);
    const ds = imageDataset({ sopClass, sopInstance: sop, studyUid: study, seriesUid: series, modality, patient, pixels: rng.opaque(rng.int(Math.floor(bytes * 0.8), bytes)) });
    for (const p of pData(1, false, ds)) c.send(fromClient, p);
    c.t += rng.int(1000, 5000);
    for (const p of pData(1, true, cStoreRsp(msgId, sopClass, sop))) c.send(!fromClient, p);
    c.t += rng.int(200, 2000);
  }
}

/** `studyFactor`: factor on the modality's mean interval between studies (1; quiet 6). */
function imaging(ctx: SimContext, d: Host, begin: number, index: number, studyFactor: number): void {
  const k = imagingModality(index);
  const pacs = ctx.pacs[pacsOf(index, ctx.pacs.length)];
  if (!pacs) return;
  const rng = d.rng;
  const ae = modalityAeTitle(index);
  const pacsAe = pacsAeTitle(pacs.name);
  // The first study comes 1–10 minutes after boot (the modality was switched on for a patient), then by the rhythm.
  repeat(ctx, begin + rng.int(60, 600) * SEC, (now) => {
    const patient = rng.int(1, 999_999);
    // Modality worklist query first (C-FIND), then the study's C-STORE burst.
    const t = ctx.hospital.resolve(d, `${pacs.name}.${DOMAIN}`, now, 3600);
    const q = openTcp(ctx, d, pacs, 104, t);
    association(q, pacsAe, ae, [MODALITY_WORKLIST_SOP], rng, () => {
      for (const p of pData(1, true, cFindRq(1, MODALITY_WORKLIST_SOP))) q.send(true, p);
      for (const p of pData(1, false, findIdentifier(0, '', 'PATIENT'))) q.send(true, p);
      q.t += rng.int(5000, 30000);
      const matches = rng.int(1, 3);
      for (let m = 0; m < matches; m++) {
        for (const p of pData(1, true, cFindRsp(1, MODALITY_WORKLIST_SOP, true))) q.send(false, p);
        for (const p of pData(1, false, findIdentifier(rng.int(1, 999_999), '', 'PATIENT'))) q.send(false, p);
      }
      for (const p of pData(1, true, cFindRsp(1, MODALITY_WORKLIST_SOP, false))) q.send(false, p);
    });
    const s = openTcp(ctx, d, pacs, 104, q.t + rng.int(30, 300) * SEC / 10);
    association(s, pacsAe, ae, [k.sop], rng, () => {
      storeImages(s, true, d, rng.int(k.images[0], k.images[1]), k.sop, k.modality, ctx.dicomImageBytes * k.scale, patient, rng.int(1, 30000));
    });
    return now + rng.exp(daily(k.mean * studyFactor * MIN, now)) + 2 * MIN;
  });
}

function ehrSession(ctx: SimContext, d: Host, t: number, requests: number): number {
  const rng = d.rng;
  const ehr = ctx.hospital.servers.ehr;
  const name = `${ehr.name}.${DOMAIN}`;
  t = ctx.hospital.resolve(d, name, t);
  const c = openTcp(ctx, d, ehr, 443, t);
  tlsHandshake(c, d, name);
  for (let i = 0; i < requests; i++) {
    c.exchange(appData(rng, rng.int(400, 900)), appData(rng, rng.int(1000, 12000)), rng.int(5000, 60000));
    c.t += rng.int(1, 20) * SEC / 10;
  }
  c.close(true);
  return c.t;
}

/** `studyMin`, `ehrMin`: mean minutes between studies and between EHR sessions ÷ dayFactor (10 and 5; quiet 60 and 45). */
function readingWorkstation(ctx: SimContext, d: Host, begin: number, index: number, studyMin: number, ehrMin: number): void {
  const pacs = ctx.pacs[pacsOf(index, ctx.pacs.length)];
  if (!pacs) return;
  const rng = d.rng;
  const ae = readingAeTitle(index);
  const pacsAe = pacsAeTitle(pacs.name);
  repeat(ctx, begin + rng.int(60, 600) * SEC, (now) => {
    // Study-root C-FIND to the PACS on 11112, then the PACS pushes the chosen study back (C-STORE to the ws on 104).
    const patient = rng.int(1, 999_999);
    const q = openTcp(ctx, d, pacs, 11112, ctx.hospital.resolve(d, `${pacs.name}.${DOMAIN}`, now, 3600));
    association(q, pacsAe, ae, [READING_QUERY_SOP], rng, () => {
      for (const p of pData(1, true, cFindRq(7, READING_QUERY_SOP))) q.send(true, p);
      for (const p of pData(1, false, findIdentifier(patient, '', 'STUDY'))) q.send(true, p);
      q.t += rng.int(20000, 200000);
      for (let m = rng.int(1, 4); m > 0; m--) {
        for (const p of pData(1, true, cFindRsp(7, READING_QUERY_SOP, true))) q.send(false, p);
        for (const p of pData(1, false, findIdentifier(patient, `1.2.826.0.1.3680043.10.1234.9.${rng.int(1, 1e6)}`, 'STUDY'))) q.send(false, p);
      }
      for (const p of pData(1, true, cFindRsp(7, READING_QUERY_SOP, false))) q.send(false, p);
    });
    const push = openTcp(ctx, pacs, d, 104, q.t + rng.int(200, 2000) * 1000);
    association(push, ae, pacsAe, [PACS_PUSH_SOP], rng, () => {
      storeImages(push, true, pacs, rng.int(5, 20), PACS_PUSH_SOP, 'CT', ctx.dicomImageBytes, patient, rng.int(1, 30000));
    });
    return now + rng.exp(daily(studyMin * MIN, now)) + MIN;
  });
  repeat(ctx, begin + rng.exp(daily(ehrMin * MIN, begin)), (now) => ehrSession(ctx, d, now, rng.int(1, 3)) + rng.exp(daily(ehrMin * MIN, now)));
}

/** `ehrMin`: mean minutes between EHR sessions ÷ dayFactor (1.5; quiet 30). */
function nursePc(ctx: SimContext, d: Host, begin: number, ehrMin: number): void {
  const rng = d.rng;
  repeat(ctx, begin + rng.exp(daily(MIN, begin)), (now) => ehrSession(ctx, d, now, rng.int(1, 4)) + rng.exp(daily(ehrMin * MIN, now)));
  // Occasional external software update (via the router).
  repeat(ctx, begin + rng.exp(4 * 60 * MIN), (now) => {
    const name = 'update.vendor-sim.example';
    const t = ctx.hospital.resolve(d, name, now);
    const ext = ctx.hospital.external('203.0.113.10');
    const c = openTcp(ctx, d, ext, 443, t);
    tlsHandshake(c, d, name);
    c.exchange(appData(rng, rng.int(500, 900)), appData(rng, rng.int(100_000, 400_000)), rng.int(20000, 80000)).close(true);
    return now + rng.jitter(4 * 60 * MIN, 0.5);
  });
}

/** `publishS`: seconds between PUBLISHes (5; quiet 300); `keepAliveS`: MQTT keep-alive in CONNECT (60; quiet 900). */
function telemetry(ctx: SimContext, d: Host, begin: number, index: number, publishS: number, keepAliveS: number): void {
  const broker = ctx.hospital.servers.mqttBroker;
  const rng = d.rng;
  const clientId = d.label ? telemetryClientId(d.name, d.label.mac) : `${d.name}-${index}`;
  const cfg = d.config;
  const beds = Array.from({ length: cfg.int(2, 4) }, (_, i) => ({ bed: 10 * index + i + 1, hr: cfg.int(60, 100), spo2: cfg.int(93, 99) }));
  const session = new PersistentSession(
    ctx,
    d,
    broker,
    1883,
    120 * MIN,
    (c) => c.exchange(mqttConnect(clientId, keepAliveS), mqttConnack(), rng.int(500, 3000)),
    `${broker.name}.${DOMAIN}`,
  );
  repeat(ctx, begin, (now) => {
    const c = session.at(now);
    const msgs = beds.map((b) =>
      mqttPublish(
        `ward${index}/bed${b.bed}/vitals`,
        JSON.stringify({ hr: Math.round(rng.normal(b.hr, 2)), spo2: Math.min(100, Math.round(rng.normal(b.spo2, 0.8))), ts: Math.floor(now / 1000) }),
      ),
    );
    c.send(true, Buffer.concat(msgs));
    return now + rng.jitter(publishS * SEC, 0.02);
  });
}

const LAB_TESTS = [
  { code: 'GLU', loinc: '2345-7^Glucose^LN', units: 'mg/dL', mean: 100, sd: 15 },
  { code: 'NA', loinc: '2951-2^Sodium^LN', units: 'mmol/L', mean: 140, sd: 3 },
  { code: 'K', loinc: '2823-3^Potassium^LN', units: 'mmol/L', mean: 4.2, sd: 0.4 },
  { code: 'CREA', loinc: '2160-0^Creatinine^LN', units: 'mg/dL', mean: 0.9, sd: 0.2 },
];

/** `resultMin`: mean minutes between results ÷ dayFactor (4; quiet 30). */
function lab(ctx: SimContext, d: Host, begin: number, index: number, resultMin: number): void {
  const lis = ctx.hospital.servers.lis;
  const rng = d.rng;
  const useAstm = !labSpeaksHl7(index);
  const id = hl7Sender('lab', d.name);
  const app = id.sending_application;
  let seq = rng.int(1, 50_000);
  const session = new PersistentSession(ctx, d, lis, useAstm ? 5000 : 2575, 240 * MIN, () => undefined, `${lis.name}.${DOMAIN}`);
  repeat(ctx, begin + rng.exp(daily(resultMin * MIN, begin)), (now) => {
    const c = session.at(now);
    const patient = rng.int(1, 999_999);
    const results = LAB_TESTS.map((t) => ({ ...t, value: rng.normal(t.mean, t.sd).toFixed(t.mean < 10 ? 1 : 0) }));
    if (useAstm) {
      c.exchange(ENQ, ASTM_ACK, rng.int(500, 3000));
      const records = astmResultRecords(app, patient, results.map((r) => ({ code: r.code, value: r.value, units: r.units })), hl7Time(c.t));
      records.forEach((rec, i) => c.exchange(astmFrame(i + 1, rec), ASTM_ACK, rng.int(500, 3000)));
      c.send(true, EOT);
    } else {
      const ctl = `${app}-${seq++}`;
      const oru = oruR01({
        sendingApp: app,
        sendingFacility: id.sending_facility,
        receivingApp: id.receiving_application,
        controlId: ctl,
        tUs: c.t,
        patient,
        observations: results.map((r) => ({ id: r.loinc, value: r.value, units: r.units })),
        service: 'CHEM^Chemistry panel',
      });
      c.exchange(mllp(oru), mllp(ackR01(id.receiving_application, app, ctl, c.t, `ACK-${ctl}`)), rng.int(2000, 10000));
    }
    return now + rng.exp(daily(resultMin * MIN, now)) + 20 * SEC;
  });
}

/** `pollS`: seconds between the BMS server's polls of the controller (60; quiet 300). */
function bacnetController(ctx: SimContext, d: Host, begin: number, index: number, pollS: number): void {
  const bms = ctx.hospital.servers.bms;
  const rng = d.rng;
  const vendorId = 5;
  const instance = 1000 + index;
  const bcast: Station = { mac: BROADCAST_MAC, ip: parseIpv4('10.20.255.255'), ttl: 64, ipId: 0 };
  const announce = (t: number): void => {
    ctx.engine.emit(t, udpFrame(ctx.vlan, d, bcast, BACNET_PORT, BACNET_PORT, iAm(instance, vendorId)));
  };
  announce(begin);
  const cfg = d.config;
  const points = Array.from({ length: cfg.int(2, 5) }, (_, i) => ({ instance: i + 1, value: cfg.int(180, 260) / 10 }));
  let invoke = rng.int(0, 255);
  // The BMS server polls each controller's present values every minute (a quiet one every pollS).
  repeat(ctx, begin + rng.int(1, 59) * SEC, (now) => {
    let t = ctx.hospital.arp(bms, d, now, 20 * MIN);
    for (const p of points) {
      invoke = (invoke + 1) & 0xff;
      ctx.engine.emit(t, udpFrame(ctx.vlan, bms, d, BACNET_PORT, BACNET_PORT, readPropertyRq(invoke, OBJ_ANALOG_INPUT, p.instance)));
      t += rng.int(2000, 10000);
      p.value += rng.normal(0, 0.1);
      ctx.engine.emit(t, udpFrame(ctx.vlan, d, bms, BACNET_PORT, BACNET_PORT, readPropertyAck(invoke, OBJ_ANALOG_INPUT, p.instance, Math.round(p.value * 10) / 10)));
      t += rng.int(1000, 5000);
    }
    return now + rng.jitter(pollS * SEC, 0.01);
  });
}

/** The BMS server broadcasts Who-Is every 30 minutes; every controller that is up answers with a broadcast I-Am. */
export function bmsDiscovery(ctx: SimContext, controllers: Host[]): void {
  const bms = ctx.hospital.servers.bms;
  const bcast: Station = { mac: BROADCAST_MAC, ip: parseIpv4('10.20.255.255'), ttl: 64, ipId: 0 };
  repeat(ctx, ctx.startUs + 30 * MIN, (now) => {
    ctx.engine.emit(now, udpFrame(ctx.vlan, bms, bcast, BACNET_PORT, BACNET_PORT, whoIs()));
    controllers.forEach((c, i) => {
      if (!c.up) return;
      ctx.engine.emit(now + c.rng.int(2000, 200000), udpFrame(ctx.vlan, c, bcast, BACNET_PORT, BACNET_PORT, iAm(1001 + i, 5)));
    });
    return now + 30 * MIN;
  });
}
