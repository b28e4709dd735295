/**
 * Attack injections. Each attack acts from (or, for brute force, against) one device in a window [start, end], emits
 * only packets inside that window, and is labelled with its kind, device and a description. Benign traffic of every
 * device continues during the attack.
 *
 * What each one shows in a device's 10-second window features:
 * - port_scan: SYNs to many hosts/ports (tcp_syn, dst_ports, peers_internal, tcp_rejected, new_dst_ports).
 * - slow_scan: one SYN every 20–40 s to a new host/port (new_peers, new_dst_ports, tcp_rejected; low volume).
 * - syn_flood: hundreds of SYNs per second to one server port (tcp_syn, tcp_half_open, flows_started).
 * - udp_flood: hundreds of UDP datagrams per second to random ports of one host (pkts_out, bytes_out, dst_ports, icmp).
 * - exfiltration: a long TLS upload to an external address (bytes_out, peers_external, new_peers).
 * - c2_beacon: a short TLS exchange with an external address at a fixed period (peers_external, new_peers, iat).
 * - dns_tunnel: several TXT queries per second with long random names (dns_queries, dns_unique_names, entropy, length).
 * - arp_spoof: ARP replies claiming the gateway's IP with the device's MAC (arp_pkts, arp_spoof_replies).
 * - brute_force_telnet / brute_force_ssh: a new host opens login sessions to the device every few seconds
 *   (flows_accepted, new_peers on the victim; the attacker is a new device).
 * - lateral_movement: SMB (445) and RDP (3389) connections to internal hosts from a device that never used them
 *   (new_dst_ports, peers_internal, tcp_rejected).
 * - new_peer: the device speaks its usual protocol to an external address it never talked to (new_peers, peers_external).
 * - c2_beacon_30s / c2_beacon_2min / c2_beacon_10min: one short TLS connection every 30 s / 2 min / 10 min (± 20 %,
 *   uniform) to one never-seen external address, for an hour or two: a handful of packets per window at most, the
 *   signal is the new external peer and the period (new_peers, peers_external, flows_started, iat).
 * - slow_exfiltration: 25 MB uploaded over TLS to one never-seen external address in 30 min, ~14 kB/s steady, a new
 *   connection every 20–60 s (bytes_out and peers_external in every window, none of them a spike).
 * - lateral_single: ONE answered TCP connection to an internal host the device never talked to, on SMB, RDP, SSH,
 *   telnet, WinRM or VNC (new_peers, new_dst_ports, peers_internal in one window only).
 * - identity_spoof: the device's medical identity changes: a monitor or lab analyser sends HL7 ADT messages (a type it
 *   never sent) to the system it reports to, a modality queries its PACS calling from a new AE title — on the peer and
 *   port it always uses, a few packets per window (identity_changes; little else).
 *
 * The last six are labelled by what they injected: the label's start is the time of their first packet and its end
 * that of their last (the label of the others is the requested window).
 */
import { ConfigError } from '../errors.js';
import { openTcp, repeat, tlsHandshake, type SimContext } from './context.js';
import { arpFrame, icmpFrame, parseIpv4, udpFrame } from './frames.js';
import { DOMAIN, type Hospital, type Host } from './hospital.js';
import type { AttackKind, LabelAttack } from './labels.js';
import { Prng } from './prng.js';
import { TcpConnection } from './tcp.js';
import { appData, clientFinished, clientHello, serverFlight } from './protocols/tls.js';
import { ack, ackR01, adt, adtType, mllp, oruR01 } from './protocols/hl7.js';
import { associateAc, associateRq, cFindRq, cFindRsp, findIdentifier, pData, releaseRp, releaseRq, UID_CT_STORAGE, UID_STUDY_ROOT_FIND, type DicomImplementation } from './protocols/dicom.js';
import { hl7Sender, modalityAeTitle, pacsAeTitle, pacsOf } from './behaviours.js';
import { BACNET_PORT, iAm, OBJ_ANALOG_INPUT, readPropertyAck, readPropertyRq } from './protocols/bacnet.js';
import { mqttConnack, mqttConnect, mqttPublish, MQTT_DISCONNECT } from './protocols/mqtt.js';
import {
  ntlmAuthenticate,
  ntlmChallenge,
  ntlmNegotiate,
  rdpConnectionConfirm,
  rdpConnectionRequest,
  rfbServerInit,
  RFB_CLIENT_INIT,
  RFB_SECURITY_CHOICE,
  RFB_SECURITY_OK,
  RFB_SECURITY_TYPES,
  RFB_VERSION,
  smb2NegotiateRq,
  smb2NegotiateRsp,
  sshBanner,
  sshKexinit,
  winrmRequest,
  winrmResponse,
} from './protocols/remote-access.js';
import type { Archetype } from './labels.js';

const SEC = 1e6;

export interface AttackDef {
  /** Default duration in seconds. */
  duration_s: number;
  /** Archetypes the acting (or victim) device is picked from by default, in order of preference. */
  actors: Archetype[];
  describe: (device: string, extra: string) => string;
  /** Shortest duration (s) the kind accepts, when it has one. */
  min_duration_s?: number;
}

export const ATTACKS: Record<AttackKind, AttackDef> = {
  port_scan: { duration_s: 60, actors: ['nurse_pc', 'pump', 'monitor'], describe: (d, x) => `TCP SYN port scan from ${d} of ${x}` },
  slow_scan: { duration_s: 1800, actors: ['pump', 'monitor', 'nurse_pc'], describe: (d, x) => `Slow low-volume SYN scan from ${d}: one probe every 20–40 s to ${x}` },
  syn_flood: { duration_s: 30, actors: ['nurse_pc', 'telemetry', 'pump'], describe: (d, x) => `SYN flood from ${d} against ${x}` },
  udp_flood: { duration_s: 30, actors: ['telemetry', 'nurse_pc', 'bacnet'], describe: (d, x) => `UDP flood from ${d} against ${x}` },
  exfiltration: { duration_s: 60, actors: ['imaging', 'reading_ws', 'nurse_pc', 'monitor'], describe: (d, x) => `Data exfiltration from ${d}: TLS upload to external ${x}` },
  c2_beacon: { duration_s: 900, actors: ['pump', 'monitor', 'lab'], describe: (d, x) => `C2 beaconing from ${d} to external ${x}` },
  dns_tunnel: { duration_s: 120, actors: ['nurse_pc', 'lab', 'monitor'], describe: (d, x) => `DNS tunnelling from ${d}: TXT queries with long random names under ${x}` },
  arp_spoof: { duration_s: 120, actors: ['nurse_pc', 'telemetry', 'bacnet'], describe: (d, x) => `ARP spoofing of the gateway from ${d}: replies claiming ${x}` },
  brute_force_telnet: { duration_s: 120, actors: ['lab', 'bacnet'], describe: (d, x) => `Telnet login brute force against ${d} from new host ${x}` },
  brute_force_ssh: { duration_s: 120, actors: ['lab', 'bacnet'], describe: (d, x) => `SSH brute force against ${d} from new host ${x}` },
  lateral_movement: { duration_s: 90, actors: ['pump', 'monitor', 'imaging'], describe: (d, x) => `Lateral movement from ${d}: SMB/RDP connections to ${x}` },
  new_peer: { duration_s: 180, actors: ['monitor', 'pump', 'telemetry', 'imaging', 'lab', 'bacnet'], describe: (d, x) => `${d} speaks its usual protocol to never-seen peer ${x}` },
  c2_beacon_30s: { duration_s: 3600, min_duration_s: 90, actors: ['pump', 'monitor', 'lab'], describe: (d, x) => `C2 beaconing from ${d} to never-seen external ${x}` },
  c2_beacon_2min: { duration_s: 3600, min_duration_s: 360, actors: ['pump', 'monitor', 'lab'], describe: (d, x) => `C2 beaconing from ${d} to never-seen external ${x}` },
  c2_beacon_10min: { duration_s: 7200, min_duration_s: 1800, actors: ['pump', 'monitor', 'lab'], describe: (d, x) => `C2 beaconing from ${d} to never-seen external ${x}` },
  slow_exfiltration: {
    duration_s: 1800,
    min_duration_s: 600,
    actors: ['imaging', 'reading_ws', 'nurse_pc', 'monitor'],
    describe: (d, x) => `Slow data exfiltration from ${d}: ${x}`,
  },
  lateral_single: {
    duration_s: 30,
    min_duration_s: 10,
    actors: ['monitor', 'imaging', 'pump', 'nurse_pc'],
    describe: (d, x) => `Single lateral-movement connection from ${d} to never-contacted internal ${x}`,
  },
  identity_spoof: {
    duration_s: 120,
    min_duration_s: 30,
    actors: ['monitor', 'imaging', 'lab'],
    describe: (d, x) => `Medical identity spoofing from ${d}: ${x}`,
  },
};

/**
 * `identity_spoof` on an HL7 sender: the events of the ADT messages it injects, in order (the first an admission, every
 * later one an update of patient information): message types it never sent.
 */
export const IDENTITY_SPOOF_HL7_EVENTS = ['A01', 'A08'] as const;

/**
 * `identity_spoof` on a modality: the AE title its PACS queries call from — the default of DCMTK's findscu, as a query
 * tool run with its defaults sends it — and that tool's implementation (DCMTK 3.6.8).
 */
export const IDENTITY_SPOOF_AE_TITLE = 'FINDSCU';
export const IDENTITY_SPOOF_IMPLEMENTATION: DicomImplementation = { class_uid: '1.2.276.0.7230010.3.0.3.6.8', version: 'OFFIS_DCMTK_368' };

/** Beacon period (s) of each periodic C2 kind; each interval is the period × U(0.8, 1.2). */
export const BEACON_PERIOD_S: Partial<Record<AttackKind, number>> = { c2_beacon_30s: 30, c2_beacon_2min: 120, c2_beacon_10min: 600 };

/** Application bytes `slow_exfiltration` uploads over its window (TLS adds 22 bytes per 16 KiB record). */
export const SLOW_EXFIL_BYTES = 25_000_000;

/** Services `lateral_single` connects to; the port is drawn from the attack's stream. */
export const LATERAL_PORTS = [445, 3389, 22, 23, 5985, 5986, 5900] as const;

/** Kinds whose label spans the packets they injected (first to last) rather than the requested window. */
export const OBSERVED_SPAN_KINDS: ReadonlySet<AttackKind> = new Set<AttackKind>(['c2_beacon_30s', 'c2_beacon_2min', 'c2_beacon_10min', 'slow_exfiltration', 'lateral_single', 'identity_spoof']);

/** Aliases accepted on the command line. */
export const ATTACK_ALIASES: Record<string, AttackKind> = {
  scan: 'port_scan',
  brute_force: 'brute_force_telnet',
  telnet_brute_force: 'brute_force_telnet',
  ssh_brute_force: 'brute_force_ssh',
  exfil: 'exfiltration',
  c2: 'c2_beacon',
  beacon: 'c2_beacon',
  lateral: 'lateral_movement',
  arp: 'arp_spoof',
  slow_exfil: 'slow_exfiltration',
};

export interface PlannedAttack {
  id: string;
  kind: AttackKind;
  startUs: number;
  endUs: number;
  device: Host;
  archetype: Archetype;
  /** The device's 1-based number within its archetype (`monitor-02` is 2). */
  index: number;
}

const SCAN_PORTS = [21, 22, 23, 25, 53, 80, 104, 110, 135, 139, 143, 443, 445, 1433, 1883, 2575, 3306, 3389, 5000, 5900, 8080, 8443, 11112];

/** First and last time (µs) at which an attack emitted a frame, for the kinds labelled by what they injected. */
class InjectedSpan {
  first = Infinity;
  last = -Infinity;

  /** Records a frame time (rounded as the engine rounds it). */
  mark(t: number): void {
    const us = Math.round(t);
    if (us < this.first) this.first = us;
    if (us > this.last) this.last = us;
  }
}

/** Lead (µs) of a connection's DNS/ARP lookups before its scheduled SYN (they take ≤ 32 ms), so the SYN keeps its time. */
const LOOKUP_LEAD = 50_000;

/**
 * An external address no host of this capture uses yet, drawn from the attack's stream in 198.51.100.128–254 and
 * 203.0.113.128–254 (the simulator's benign behaviours and older attack kinds use only fixed addresses below .128).
 */
function newExternalPeer(h: Hospital, rng: Prng): Host {
  for (let i = 0; i < 10_000; i++) {
    const ip = `${rng.pick(['198.51.100', '203.0.113'])}.${rng.int(128, 254)}`;
    if (!h.hasExternal(ip)) return h.external(ip);
  }
  throw new ConfigError('attacks', 'no unused external address left for the attacks (at most 254 attacks with an external peer)');
}

/** A host-like name under a `.example` zone, random label drawn from the attack's stream. */
function randomName(rng: Prng, zone: string): string {
  return `${rng.chars(rng.int(6, 12), 'abcdefghijklmnopqrstuvwxyz0123456789')}.${zone}`;
}

/** TLS 1.3 opening drawn from the attack's stream (not the device's): ClientHello, server flight, client Finished. */
function attackTls(c: TcpConnection, rng: Prng, sni: string, serverEncryptedBytes: number): void {
  const ch = clientHello(rng, sni);
  c.send(true, ch.bytes);
  c.t += rng.int(300, 2000);
  c.send(false, serverFlight(rng, ch.sessionId, serverEncryptedBytes));
  c.t += rng.int(200, 800);
  c.send(true, clientFinished(rng));
}

/**
 * Runs one attack: schedules its events. Returns a function that gives its label (device ids, window, description)
 * once the run is over: the kinds in `OBSERVED_SPAN_KINDS` know their first and last packet, and `lateral_single`
 * its target, only then.
 */
export function injectAttack(ctx: SimContext, a: PlannedAttack): () => LabelAttack {
  const rng = new Prng(ctx.seed, `attack:${a.id}:${a.kind}`);
  const h = ctx.hospital;
  const d = a.device;
  const eng = ctx.engine;
  // No new exchange starts in the last `margin` of the window, so every packet of the last one still falls inside it.
  const margin = a.kind.startsWith('brute_force') ? 15 * SEC : 3 * SEC;
  const inWindow = (t: number): boolean => t >= a.startUs && t < a.endUs - margin;
  const related: string[] = [];
  let extra = '';
  const span = new InjectedSpan();
  const internalTargets = (): Host[] => [...h.byIp.values()].filter((x) => x !== d && x !== h.gateway && x.up && x.label?.archetype !== 'intruder');
  const probe = (target: Host, port: number, t: number): number => {
    const t1 = h.arp(d, target, t, 600 * SEC);
    const c = new TcpConnection(eng, rng, d, target, d.ephemeralPort(), port, rng.int(150, 600), ctx.vlan).at(t1);
    if (target.listening.has(port)) c.synScanOpen();
    else c.reject();
    return c.t;
  };

  switch (a.kind) {
    case 'port_scan': {
      extra = 'internal hosts, 23 common ports';
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        const targets = internalTargets();
        const target = rng.pick(targets);
        let t = now;
        for (const port of SCAN_PORTS) t = probe(target, port, t + rng.int(500, 3000));
        return now + rng.int(2, 4) * SEC;
      });
      break;
    }
    case 'slow_scan': {
      extra = 'internal hosts and common ports';
      repeat(ctx, a.startUs + rng.int(1, 10) * SEC, (now) => {
        if (!inWindow(now)) return undefined;
        probe(rng.pick(internalTargets()), rng.pick(SCAN_PORTS), now);
        return now + rng.int(20, 40) * SEC;
      });
      break;
    }
    case 'syn_flood': {
      const victim = h.servers.ehr;
      extra = `${victim.name} (${victim.label?.ip ?? ''}) port 443`;
      related.push(victim.label?.device_id ?? '');
      let answered = 0;
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        const t0 = h.arp(d, victim, now, 600 * SEC);
        for (let i = 0; i < 300; i++) {
          const c = new TcpConnection(eng, rng, d, victim, rng.int(1024, 65535), 443, rng.int(150, 600), ctx.vlan).at(t0 + i * 3300 + rng.int(0, 500));
          // The victim answers until its SYN backlog (128) is full.
          if (answered < 128) {
            answered++;
            c.connect();
          } else c.synOnly();
        }
        return now + SEC;
      });
      break;
    }
    case 'udp_flood': {
      const victim = ctx.pacs[0] ?? h.servers.ehr;
      extra = `${victim.name} (${victim.label?.ip ?? ''}), random UDP ports`;
      related.push(victim.label?.device_id ?? '');
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        const t0 = h.arp(d, victim, now, 600 * SEC);
        for (let i = 0; i < 300; i++) {
          const t = t0 + i * 3300 + rng.int(0, 500);
          const sport = rng.int(40000, 40999);
          // Random ports in 40000–40999, a range no well-known service (nor a tshark port-table dissector) claims.
          const dport = rng.int(40000, 40999);
          const frame = udpFrame(ctx.vlan, d, victim, sport, dport, Buffer.alloc(rng.int(18, 80)));
          eng.emit(t, frame);
          // The victim answers one in 20 with ICMP port unreachable (rate limited), quoting the IP header + 8 bytes.
          if (i % 20 === 0) {
            const ipOff = ctx.vlan >= 0 ? 18 : 14;
            eng.emit(t + rng.int(50, 300), icmpFrame(ctx.vlan, victim, d, 3, 3, 0, frame.subarray(ipOff, ipOff + 28)));
          }
        }
        return now + SEC;
      });
      break;
    }
    case 'exfiltration': {
      const ext = h.external('198.51.100.77');
      const name = 'sync.exfil-sim.example';
      h.zone.set(name, ext.ip);
      extra = `${ext.name.slice(4)} (${name}:443)`;
      let conn: TcpConnection | undefined;
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) {
          conn?.at(now).close(true);
          conn = undefined;
          return undefined;
        }
        if (!conn) {
          conn = openTcp(ctx, d, ext, 443, h.resolve(d, name, now));
          tlsHandshake(conn, d, name);
        }
        conn.at(now).exchange(appData(rng, rng.int(20_000, 28_000)), appData(rng, rng.int(30, 60)), rng.int(20000, 50000));
        return now + rng.jitter(SEC, 0.1);
      });
      // Close it at the end of the window.
      eng.at(a.endUs - 2 * SEC, (now) => {
        conn?.at(now).close(true);
        conn = undefined;
      });
      break;
    }
    case 'c2_beacon': {
      const ext = h.external('198.51.100.23');
      const name = 'cdn-telemetry.c2-sim.example';
      h.zone.set(name, ext.ip);
      const period = 30;
      extra = `${ext.name.slice(4)} (${name}:443) every ${period} s`;
      repeat(ctx, a.startUs + rng.int(0, 5) * SEC, (now) => {
        if (!inWindow(now)) return undefined;
        const c = openTcp(ctx, d, ext, 443, h.resolve(d, name, now, 60));
        tlsHandshake(c, d, name);
        c.exchange(appData(rng, rng.int(280, 320)), appData(rng, rng.int(120, 180)), rng.int(20000, 40000)).close(true);
        return now + period * SEC + rng.int(-100, 100) * 1000;
      });
      break;
    }
    case 'dns_tunnel': {
      const zone = 't.tunnel-sim.example';
      extra = zone;
      const b32 = 'abcdefghijklmnopqrstuvwxyz234567';
      let n = 0;
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        const qname = `${rng.chars(rng.int(50, 63), b32)}.${rng.chars(rng.int(20, 40), b32)}.${(n++).toString(36)}.${zone}`;
        h.resolveTxt(d, qname, rng.chars(rng.int(100, 200), b32), now);
        return now + rng.int(150, 350) * 1000;
      });
      break;
    }
    case 'arp_spoof': {
      const gw = h.gateway;
      extra = `${gw.label?.ip ?? '10.20.0.1'} (the gateway)`;
      const victims = internalTargets()
        .filter((x) => x.label?.archetype === 'server' || x.label?.archetype === 'pacs')
        .slice(0, 6);
      for (const v of victims) {
        related.push(v.label?.device_id ?? '');
        // Unicast frames to the victims without an ARP resolution of them: record the conversation (no traffic change).
        d.peers.add(v.ip);
        v.peers.add(d.ip);
      }
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        victims.forEach((v, i) => eng.emit(now + i * rng.int(500, 3000), arpFrame(ctx.vlan, 2, d.mac, gw.ip, v.mac, v.ip, v.mac)));
        return now + rng.jitter(2 * SEC, 0.1);
      });
      break;
    }
    case 'brute_force_telnet':
    case 'brute_force_ssh': {
      const ssh = a.kind === 'brute_force_ssh';
      const port = ssh ? 22 : 23;
      d.listening.add(port);
      const intruder = h.addIntruder(`intruder-${a.id}`, parseIpv4(`10.20.99.${10 + Number(a.id.slice(1))}`));
      related.push(intruder.label?.device_id ?? '');
      extra = `${intruder.name} (${intruder.label?.mac ?? ''}, ${intruder.label?.ip ?? ''}) on ${ssh ? 'SSH' : 'telnet'} port ${port}`;
      eng.at(a.startUs, (now) => {
        const t = h.dhcp(intruder, now, 'kali', 'dhcpcd-9.4.1:Linux-6.1:aarch64');
        repeat(ctx, t + rng.int(1, 3) * SEC, (n) => {
          if (!inWindow(n)) return undefined;
          const c = new TcpConnection(eng, rng, intruder, d, intruder.ephemeralPort(), port, rng.int(150, 600), ctx.vlan);
          c.at(h.arp(intruder, d, n, 600 * SEC)).connect();
          if (ssh) {
            c.t += rng.int(1000, 5000);
            c.send(false, sshBanner('dropbear_2019.78'));
            c.send(true, sshBanner('libssh2_1.10.0'));
            c.send(false, sshKexinit(rng));
            c.send(true, sshKexinit(rng));
            c.t += rng.int(20000, 200000);
            c.close(false);
          } else {
            c.t += rng.int(5000, 20000);
            c.send(false, Buffer.from('\r\nlogin: ', 'ascii'));
            for (let k = 0; k < 3; k++) {
              c.send(true, Buffer.from(`${rng.pick(['admin', 'root', 'service', 'user', 'tech'])}\r\n`, 'ascii'));
              c.send(false, Buffer.from('Password: ', 'ascii'));
              c.send(true, Buffer.from(`${rng.chars(rng.int(4, 10), 'abcdefghijklmnopqrstuvwxyz0123456789')}\r\n`, 'ascii'));
              c.t += rng.int(1, 3) * SEC;
              c.send(false, Buffer.from(k < 2 ? '\r\nLogin incorrect\r\nlogin: ' : '\r\nLogin incorrect\r\n', 'ascii'));
            }
            c.close(false);
          }
          return c.t + rng.int(200, 1500) * 1000;
        });
      });
      break;
    }
    case 'lateral_movement': {
      // Workstations first (they answer SMB and RDP), then servers and the PACS.
      const order = ['nurse_pc', 'reading_ws', 'pacs', 'server'];
      const pickTargets = (): Host[] =>
        internalTargets()
          .filter((x) => order.includes(x.label?.archetype ?? ''))
          .sort((x, y) => order.indexOf(x.label?.archetype ?? '') - order.indexOf(y.label?.archetype ?? ''))
          .slice(0, 8);
      extra = 'up to 8 internal workstations and servers (445, 3389)';
      let i = 0;
      let targets: Host[] = [];
      repeat(ctx, a.startUs, (now) => {
        if (i === 0) targets = pickTargets();
        if (!inWindow(now) || i >= 2 * targets.length) return undefined;
        const target = targets[i % targets.length]!;
        const port = i < targets.length ? 445 : 3389;
        i++;
        const t = h.arp(d, target, now, 600 * SEC);
        if (!target.listening.has(port)) {
          new TcpConnection(eng, rng, d, target, d.ephemeralPort(), port, rng.int(150, 600), ctx.vlan).at(t).reject();
        } else {
          const c = openTcp(ctx, d, target, port, t);
          if (port === 445) c.exchange(smb2NegotiateRq(rng), smb2NegotiateRsp(rng, c.t), rng.int(500, 3000));
          else c.exchange(rdpConnectionRequest('administrator'), rdpConnectionConfirm(), rng.int(500, 3000));
          c.t += rng.int(100, 500) * 1000;
          c.close(true);
        }
        return now + Math.max(1, ((a.endUs - a.startUs) / SEC - 5) / (2 * targets.length + 1)) * SEC;
      });
      break;
    }
    case 'new_peer': {
      const ext = h.external('203.0.113.66');
      extra = `${ext.name.slice(4)}`;
      let seq = 1;
      repeat(ctx, a.startUs, (now) => {
        if (!inWindow(now)) return undefined;
        if (a.archetype === 'bacnet') {
          // A building controller answering (and sending) BACnet/IP to an outside address.
          const t = h.arp(d, ext, now, 600 * SEC);
          eng.emit(t, udpFrame(ctx.vlan, d, ext, BACNET_PORT, BACNET_PORT, iAm(4000 + seq, 5)));
          eng.emit(t + rng.int(20000, 40000), udpFrame(ctx.vlan, ext, d, BACNET_PORT, BACNET_PORT, readPropertyRq(seq & 0xff, OBJ_ANALOG_INPUT, 1)));
          eng.emit(t + rng.int(41000, 45000), udpFrame(ctx.vlan, d, ext, BACNET_PORT, BACNET_PORT, readPropertyAck(seq & 0xff, OBJ_ANALOG_INPUT, 1, 21.5)));
          seq++;
          return now + rng.jitter(20 * SEC, 0.2);
        }
        let c: TcpConnection;
        switch (a.archetype) {
          case 'monitor':
          case 'lab': {
            // HL7 results to an outside "interface engine" (an ASTM lab analyser is modelled as HL7 here too).
            c = openTcp(ctx, d, ext, 2575, now);
            const ctl = `${d.name.toUpperCase()}-X${seq++}`;
            const oru = oruR01({
              sendingApp: d.name.toUpperCase(),
              sendingFacility: a.archetype === 'lab' ? 'LAB' : 'WARD',
              receivingApp: 'HL7ENGINE',
              controlId: ctl,
              tUs: c.t,
              patient: rng.int(1, 999_999),
              observations: [{ id: '8867-4^Heart rate^LN', value: String(rng.int(60, 90)), units: '/min' }],
              service: 'VITALS^Vital signs',
            });
            c.exchange(mllp(oru), mllp(ackR01('HL7ENGINE', d.name.toUpperCase(), ctl, c.t, `ACK-${ctl}`)), rng.int(20000, 40000));
            break;
          }
          case 'telemetry':
            c = openTcp(ctx, d, ext, 1883, now);
            c.exchange(mqttConnect(`${d.name}-x`, 60), mqttConnack(), rng.int(20000, 40000));
            c.send(true, mqttPublish(`ward/bed${rng.int(1, 40)}/vitals`, JSON.stringify({ hr: rng.int(60, 90) })));
            c.send(true, MQTT_DISCONNECT);
            break;
          case 'imaging':
          case 'pacs':
          case 'reading_ws': {
            const ae = d.name.toUpperCase().replace(/-/g, '');
            c = openTcp(ctx, d, ext, 104, now);
            c.exchange(associateRq('ARCHIVE', ae, [UID_CT_STORAGE]), associateAc('ARCHIVE', ae, 1), rng.int(20000, 40000));
            c.exchange(releaseRq(), releaseRp(), rng.int(20000, 40000));
            break;
          }
          default: {
            // Pumps and nurse-station PCs: TLS, with the SNI of their usual server.
            c = openTcp(ctx, d, ext, 443, now);
            tlsHandshake(c, d, a.archetype === 'pump' ? `pumpserver.${DOMAIN}` : `ehr.${DOMAIN}`);
            c.exchange(appData(rng, rng.int(180, 260)), appData(rng, rng.int(40, 90)), rng.int(20000, 40000));
          }
        }
        c.close(true);
        return now + rng.jitter(20 * SEC, 0.2);
      });
      break;
    }
    case 'c2_beacon_30s':
    case 'c2_beacon_2min':
    case 'c2_beacon_10min': {
      const periodUs = (BEACON_PERIOD_S[a.kind] ?? 30) * SEC;
      const ext = newExternalPeer(h, rng);
      const name = randomName(rng, 'cdn-c2-sim.example');
      h.zone.set(name, ext.ip);
      const rtt = rng.int(15000, 40000);
      extra = `${ext.name.slice(4)} (${name}:443), one TLS connection every ${periodUs / SEC} s ± 20 %`;
      // The SYN of beacon k is at t_k exactly; t_1 in the first 5 s, t_{k+1} = t_k + period × U(0.8, 1.2); a beacon
      // takes well under a second, so none starts in the window's last `margin`.
      const beacon = (tSyn: number) => (now: number): void => {
        // DNS (TTL 300 s, as C2 domains often have) and the gateway's ARP entry, just before the SYN.
        const ready = h.arp(d, ext, h.resolve(d, name, now, 300), 600 * SEC);
        if (ready > now) span.mark(now);
        const c = new TcpConnection(eng, rng, d, ext, d.ephemeralPort(), 443, rtt, ctx.vlan).at(Math.max(tSyn, ready));
        span.mark(c.t);
        c.connect();
        // A resumed session: small server flight; then a check-in of a few hundred bytes and the tasking answer.
        attackTls(c, rng, name, rng.int(80, 160));
        c.exchange(appData(rng, rng.int(200, 400)), appData(rng, rng.int(100, 300)), rng.int(20000, 60000)).close(true);
        span.mark(c.t);
        const next = tSyn + Math.round(rng.jitter(periodUs, 0.2));
        if (next < a.endUs - margin) eng.at(next - LOOKUP_LEAD, beacon(next));
      };
      const first = a.startUs + LOOKUP_LEAD + rng.int(0, 5 * SEC);
      eng.at(first - LOOKUP_LEAD, beacon(first));
      break;
    }
    case 'slow_exfiltration': {
      // A throttled upload, as rclone --bwlimit or a staged exfiltration tool does: 16 KiB TLS records at a steady
      // pace (25 MB over the window, ~14 kB/s over 30 min), in HTTPS chunk uploads of 20–60 s each on a new connection
      // (each answered by a short status), to one never-seen cloud-storage-like address.
      const ext = newExternalPeer(h, rng);
      const name = randomName(rng, 'storage-sim.example');
      h.zone.set(name, ext.ip);
      const rtt = rng.int(15000, 40000);
      const recordBytes = 16384;
      const records = Math.ceil(SLOW_EXFIL_BYTES / recordBytes);
      const t0 = a.startUs + LOOKUP_LEAD + rng.int(0, 5 * SEC);
      const step = (a.endUs - margin - t0) / records;
      // Record i at t0 + (i + 0.5 ± 0.3) × step: steady, jittered, in order, the last one before end − margin.
      const recordTime = (i: number): number => Math.round(t0 + (i + 0.2 + 0.6 * rng.float()) * step);
      extra = `${(SLOW_EXFIL_BYTES / 1e6).toFixed(0)} MB over TLS to ${ext.name.slice(4)} (${name}:443), ~${(SLOW_EXFIL_BYTES / ((a.endUs - a.startUs) / SEC) / 1000).toFixed(1)} kB/s, a new connection every 20–60 s`;
      let conn: TcpConnection | undefined;
      let until = 0;
      let sent = 0;
      let i = 0;
      const upload = (tRecord: number) => (now: number): void => {
        if (!conn) {
          const ready = h.arp(d, ext, h.resolve(d, name, now, 300), 600 * SEC);
          if (ready > now) span.mark(now);
          conn = new TcpConnection(eng, rng, d, ext, d.ephemeralPort(), 443, rtt, ctx.vlan).at(Math.max(tRecord, ready));
          span.mark(conn.t);
          conn.connect();
          attackTls(conn, rng, name, rng.int(2200, 3600));
          until = tRecord + rng.int(20, 60) * SEC;
        }
        const n = Math.min(recordBytes, SLOW_EXFIL_BYTES - sent);
        conn.at(tRecord).send(true, appData(rng, n));
        sent += n;
        i++;
        const next = sent < SLOW_EXFIL_BYTES ? recordTime(i) : Infinity;
        if (next >= until) {
          // End of the chunk: the server's status answer, then the client closes.
          conn.t += rng.int(5000, 30000);
          conn.send(false, appData(rng, rng.int(150, 400)));
          conn.close(true);
          span.mark(conn.t);
          conn = undefined;
        } else span.mark(conn.t);
        if (next !== Infinity) eng.at(conn ? next : next - LOOKUP_LEAD, upload(next));
      };
      const first = recordTime(0);
      eng.at(first - LOOKUP_LEAD, upload(first));
      break;
    }
    case 'identity_spoof': {
      // A compromised device (or a rogue tool on it) speaks to the system it always speaks to, on the usual port, as
      // something it never was: an HL7 sender injects ADT messages, a modality harvests its PACS's study list with a
      // query tool. One new TCP connection every 20–40 s, everything drawn from the attack's stream.
      const every = (): number => rng.int(20, 40) * SEC;
      if (a.archetype === 'imaging') {
        const pacs = ctx.pacs[pacsOf(a.index, ctx.pacs.length)];
        if (!pacs) throw new ConfigError('attacks', `identity_spoof on ${d.name}: a modality's queries go to its PACS, and there is none; add one (--devices pacs=1)`);
        const pacsAe = pacsAeTitle(pacs.name);
        related.push(pacs.label?.device_id ?? '');
        extra = `DICOM study queries (C-FIND) to ${pacs.name} (${pacsAe}) calling from AE title ${IDENTITY_SPOOF_AE_TITLE} (it calls from ${modalityAeTitle(a.index)})`;
        repeat(ctx, a.startUs + rng.int(0, 5 * SEC), (now) => {
          if (!inWindow(now)) return undefined;
          const t = h.arp(d, pacs, now, 600 * SEC);
          if (t > now) span.mark(now);
          const c = new TcpConnection(eng, rng, d, pacs, d.ephemeralPort(), 104, rng.int(150, 600), ctx.vlan).at(t);
          span.mark(c.t);
          c.connect();
          c.exchange(associateRq(pacsAe, IDENTITY_SPOOF_AE_TITLE, [UID_STUDY_ROOT_FIND], IDENTITY_SPOOF_IMPLEMENTATION), associateAc(pacsAe, IDENTITY_SPOOF_AE_TITLE, 1), rng.int(1000, 5000));
          // Every study of the day (universal matching), then a few matches with their patients.
          for (const p of pData(1, true, cFindRq(1, UID_STUDY_ROOT_FIND))) c.send(true, p);
          for (const p of pData(1, false, findIdentifier(0, '', 'STUDY'))) c.send(true, p);
          c.t += rng.int(20000, 200000);
          for (let m = rng.int(2, 6); m > 0; m--) {
            for (const p of pData(1, true, cFindRsp(1, UID_STUDY_ROOT_FIND, true))) c.send(false, p);
            for (const p of pData(1, false, findIdentifier(rng.int(1, 999_999), `1.2.826.0.1.3680043.10.1234.9.${rng.int(1, 1e6)}`, 'STUDY'))) c.send(false, p);
          }
          for (const p of pData(1, true, cFindRsp(1, UID_STUDY_ROOT_FIND, false))) c.send(false, p);
          c.t += rng.int(500, 3000);
          c.exchange(releaseRq(), releaseRp(), rng.int(200, 1000));
          c.close(true);
          span.mark(c.t);
          return now + every();
        });
      } else {
        // A monitor reports to the interface engine, a lab analyser to the LIS (an ASTM one too: its first HL7).
        const id = hl7Sender(a.archetype === 'lab' ? 'lab' : 'monitor', d.name);
        const server = a.archetype === 'lab' ? h.servers.lis : h.servers.hl7Engine;
        related.push(server.label?.device_id ?? '');
        const types = IDENTITY_SPOOF_HL7_EVENTS.map((e) => adtType(e).split('^').slice(0, 2).join('^')).join(', ');
        extra = `HL7 ${types} as ${id.sending_application} to ${server.name}:2575 (${id.receiving_application}), message types it never sent`;
        let n = 0;
        repeat(ctx, a.startUs + rng.int(0, 5 * SEC), (now) => {
          if (!inWindow(now)) return undefined;
          const event = IDENTITY_SPOOF_HL7_EVENTS[Math.min(n, IDENTITY_SPOOF_HL7_EVENTS.length - 1)]!;
          n++;
          const t = h.arp(d, server, now, 600 * SEC);
          if (t > now) span.mark(now);
          const c = new TcpConnection(eng, rng, d, server, d.ephemeralPort(), 2575, rng.int(150, 600), ctx.vlan).at(t);
          span.mark(c.t);
          c.connect();
          const ctl = `${id.sending_application}-Z${rng.int(1, 99_999)}`;
          const msg = adt({
            sendingApp: id.sending_application,
            sendingFacility: id.sending_facility,
            receivingApp: id.receiving_application,
            controlId: ctl,
            tUs: c.t,
            event,
            patient: rng.int(1, 999_999),
            location: `${id.sending_facility}^${rng.int(1, 40)}^1`,
          });
          c.exchange(mllp(msg), mllp(ack(id.receiving_application, id.sending_application, `ACK^${event}^ACK`, ctl, c.t, `ACK-${ctl}`)), rng.int(2000, 8000));
          c.t += rng.int(100, 500) * 1000;
          c.close(true);
          span.mark(c.t);
          return now + every();
        });
      }
      break;
    }
    case 'lateral_single': {
      const port = rng.pick(LATERAL_PORTS);
      extra = `host on port ${port}`;
      eng.at(a.startUs + rng.int(0, 5 * SEC), (now) => {
        const target = lateralTarget(h, d, port, rng);
        related.push(target.label?.device_id ?? '');
        extra = `${target.name} (${target.label?.ip ?? ''}) on port ${port} (${LATERAL_SERVICE[port]})`;
        const t = h.arp(d, target, now, 600 * SEC);
        if (t > now) span.mark(now);
        const c = new TcpConnection(eng, rng, d, target, d.ephemeralPort(), port, rng.int(150, 600), ctx.vlan).at(t);
        span.mark(c.t);
        c.connect();
        lateralExchange(c, rng, port, target);
        span.mark(c.t);
      });
      break;
    }
  }

  return () => {
    const observed = OBSERVED_SPAN_KINDS.has(a.kind) && span.first <= span.last;
    return {
      id: a.id,
      kind: a.kind,
      device_id: d.label?.device_id ?? '',
      related_device_ids: related.filter((x) => x.length > 0),
      start: (observed ? span.first : a.startUs) / 1e6,
      end: (observed ? span.last : a.endUs) / 1e6,
      description: ATTACKS[a.kind].describe(`${d.name} (${d.label?.ip ?? ''})`, extra),
    };
  };
}

const LATERAL_SERVICE: Record<number, string> = { 445: 'SMB', 3389: 'RDP', 22: 'SSH', 23: 'telnet', 5985: 'WinRM', 5986: 'WinRM over HTTPS', 5900: 'VNC' };

/** Servers every device talks to from boot (DHCP, DNS, NTP): never a lateral target. */
function infrastructure(h: Hospital): Set<Host> {
  return new Set([h.servers.dhcp, h.servers.dns, h.servers.ntp]);
}

/**
 * The host `lateral_single` connects to: an internal host (server or device, up) the device has never exchanged a
 * frame with. One that already serves the port if there is one; else a plausible one, which then opens the service:
 * a Windows host (initial TTL 128) for SMB, RDP and WinRM, a Linux/embedded one (TTL 64) for SSH and telnet, any for
 * VNC. Hosts are ordered by address before the seeded draw.
 */
function lateralTarget(h: Hospital, d: Host, port: number, rng: Prng): Host {
  const infra = infrastructure(h);
  const fresh = [...h.byIp.values()]
    .filter((x) => x !== d && x !== h.gateway && x.up && !x.external && x.label !== undefined && x.label.archetype !== 'intruder' && !infra.has(x) && !d.peers.has(x.ip) && !x.peers.has(d.ip))
    .sort((x, y) => x.ip - y.ip);
  const serving = fresh.filter((x) => x.listening.has(port));
  if (serving.length > 0) return rng.pick(serving);
  const wantTtl = port === 22 || port === 23 ? 64 : port === 5900 ? 0 : 128;
  const plausible = wantTtl === 0 ? fresh : fresh.filter((x) => x.ttl === wantTtl);
  const pool = plausible.length > 0 ? plausible : fresh;
  if (pool.length === 0) throw new ConfigError('attacks', `lateral_single from ${d.name}: no internal host it never talked to; add devices`);
  const target = rng.pick(pool);
  target.listening.add(port);
  return target;
}

/** The short exchange of `lateral_single` on an open connection, then the close: a few data packets each way. */
function lateralExchange(c: TcpConnection, rng: Prng, port: number, target: Host): void {
  const think = (): number => rng.int(500, 3000);
  switch (port) {
    case 445:
      c.exchange(smb2NegotiateRq(rng), smb2NegotiateRsp(rng, c.t), think());
      c.t += rng.int(50, 300) * 1000;
      c.close(true);
      return;
    case 3389:
      c.exchange(rdpConnectionRequest(rng.pick(['administrator', 'svc_backup', 'clinadmin'])), rdpConnectionConfirm(), think());
      c.t += rng.int(50, 300) * 1000;
      c.close(true);
      return;
    case 22:
      c.t += rng.int(1000, 5000);
      c.send(false, sshBanner('OpenSSH_8.9p1'));
      c.send(true, sshBanner('OpenSSH_for_Windows_8.1'));
      c.send(false, sshKexinit(rng));
      c.send(true, sshKexinit(rng));
      c.t += rng.int(50, 300) * 1000;
      c.close(true);
      return;
    case 23: {
      // A login that works with a default password, one command, logout.
      c.t += rng.int(5000, 20000);
      c.send(false, Buffer.from('\r\nlogin: ', 'ascii'));
      c.send(true, Buffer.from(`${rng.pick(['admin', 'service', 'root'])}\r\n`, 'ascii'));
      c.send(false, Buffer.from('Password: ', 'ascii'));
      c.t += rng.int(300, 1500) * 1000;
      c.send(true, Buffer.from(`${rng.pick(['admin', 'service', '1234'])}\r\n`, 'ascii'));
      c.send(false, Buffer.from('\r\n# ', 'ascii'));
      c.t += rng.int(300, 1500) * 1000;
      c.exchange(Buffer.from('uname -a\r\n', 'ascii'), Buffer.from('Linux ctl 4.14.98 #1 SMP armv7l GNU/Linux\r\n# ', 'ascii'), think());
      c.send(true, Buffer.from('exit\r\n', 'ascii'));
      c.close(false);
      return;
    }
    case 5985: {
      // Negotiate (NTLM) in two legs, then one SPNEGO-encrypted WS-Management request and its answer.
      const computer = target.name.toUpperCase().replace(/-/g, '');
      c.exchange(winrmRequest(target.name, ntlmNegotiate()), winrmResponse(ntlmChallenge(rng, 'HOSPITAL', computer)), think());
      const auth = ntlmAuthenticate(rng, 'HOSPITAL', rng.pick(['administrator', 'svc_backup', 'clinadmin']), 'WS-ADMIN', computer, c.t);
      c.exchange(winrmRequest(target.name, auth, rng.bytes(rng.int(900, 1600))), winrmResponse(undefined, rng.bytes(rng.int(600, 1400))), rng.int(20000, 80000));
      c.close(true);
      return;
    }
    case 5986: {
      attackTls(c, rng, `${target.name}.${DOMAIN}`, rng.int(1500, 2500));
      c.exchange(appData(rng, rng.int(1200, 2000)), appData(rng, rng.int(800, 1500)), rng.int(20000, 80000));
      c.close(true);
      return;
    }
    default: {
      // 5900, VNC (RFB 3.8): the server speaks first; VNC authentication, then ClientInit / ServerInit.
      c.t += rng.int(1000, 5000);
      c.send(false, RFB_VERSION);
      c.send(true, RFB_VERSION);
      c.send(false, RFB_SECURITY_TYPES);
      c.send(true, RFB_SECURITY_CHOICE);
      c.send(false, rng.bytes(16));
      c.t += rng.int(100, 800) * 1000;
      c.send(true, rng.bytes(16));
      c.send(false, RFB_SECURITY_OK);
      c.send(true, RFB_CLIENT_INIT);
      c.send(false, rfbServerInit(1920, 1080, target.name.toUpperCase()));
      c.t += rng.int(200, 1500) * 1000;
      c.close(true);
    }
  }
}
