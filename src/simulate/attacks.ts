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
 */
import { openTcp, repeat, tlsHandshake, type SimContext } from './context.js';
import { arpFrame, icmpFrame, parseIpv4, udpFrame } from './frames.js';
import { DOMAIN, type Host } from './hospital.js';
import type { AttackKind, LabelAttack } from './labels.js';
import { Prng } from './prng.js';
import { TcpConnection } from './tcp.js';
import { appData } from './protocols/tls.js';
import { ackR01, mllp, oruR01 } from './protocols/hl7.js';
import { associateAc, associateRq, releaseRp, releaseRq, UID_CT_STORAGE } from './protocols/dicom.js';
import { BACNET_PORT, iAm, OBJ_ANALOG_INPUT, readPropertyAck, readPropertyRq } from './protocols/bacnet.js';
import { mqttConnack, mqttConnect, mqttPublish, MQTT_DISCONNECT } from './protocols/mqtt.js';
import { rdpConnectionConfirm, rdpConnectionRequest, smb2NegotiateRq, smb2NegotiateRsp, sshBanner, sshKexinit } from './protocols/remote-access.js';
import type { Archetype } from './labels.js';

const SEC = 1e6;

export interface AttackDef {
  /** Default duration in seconds. */
  duration_s: number;
  /** Archetypes the acting (or victim) device is picked from by default, in order of preference. */
  actors: Archetype[];
  describe: (device: string, extra: string) => string;
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
};

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
};

export interface PlannedAttack {
  id: string;
  kind: AttackKind;
  startUs: number;
  endUs: number;
  device: Host;
  archetype: Archetype;
}

const SCAN_PORTS = [21, 22, 23, 25, 53, 80, 104, 110, 135, 139, 143, 443, 445, 1433, 1883, 2575, 3306, 3389, 5000, 5900, 8080, 8443, 11112];

/** Runs one attack; returns its label (device ids, window, description). */
export function injectAttack(ctx: SimContext, a: PlannedAttack): LabelAttack {
  const rng = new Prng(ctx.seed, `attack:${a.id}:${a.kind}`);
  const h = ctx.hospital;
  const d = a.device;
  const eng = ctx.engine;
  // No new exchange starts in the last `margin` of the window, so every packet of the last one still falls inside it.
  const margin = a.kind.startsWith('brute_force') ? 15 * SEC : 3 * SEC;
  const inWindow = (t: number): boolean => t >= a.startUs && t < a.endUs - margin;
  const related: string[] = [];
  let extra = '';
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
      for (const v of victims) related.push(v.label?.device_id ?? '');
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
  }

  return {
    id: a.id,
    kind: a.kind,
    device_id: d.label?.device_id ?? '',
    related_device_ids: related.filter((x) => x.length > 0),
    start: a.startUs / 1e6,
    end: a.endUs / 1e6,
    description: ATTACKS[a.kind].describe(`${d.name} (${d.label?.ip ?? ''})`, extra),
  };
}
