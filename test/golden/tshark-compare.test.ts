/**
 * Proof against a reference decoder: for every public capture fixture, the per-packet fields wardwatch decodes are
 * compared with what `tshark -T fields` prints for the same file.
 *
 * tshark runs with IP defragmentation and TCP reassembly OFF (wardwatch decodes each frame on its own) and with
 * HL7 decoding on tcp/6661 (`-d tcp.port==6661,hl7`, see the fixtures' README).
 *
 * Deliberate differences, checked here rather than hidden:
 * - Tunnels (VXLAN, GRE): wardwatch decodes the OUTER headers only; tshark's first occurrence of each field is the
 *   outer one, so the first value is compared; application fields that tshark finds inside a tunnel are not
 *   compared (the flag `tunnel`).
 * - IPv4 + AH: wardwatch's `ip_proto` is the protocol behind AH, tshark's `ip.proto` is 51; `ah.next_header` is compared.
 * - IPv6: wardwatch's `ip_proto` is the protocol after the extension headers; compared with tshark's last
 *   `ipv6.nxt`-style value only through the transport fields (ports), not `ipv6.nxt` (the first header).
 * - Messages split over TCP segments (DICOM A-ASSOCIATE-RQ, HL7 ORU): wardwatch reads their header fields from
 *   the first segment; they are compared with tshark's values for the reassembled message (`SPLIT_MESSAGES`).
 * - DNS names: wardwatch lower-cases them (record contract); compared case-insensitively.
 * - QUIC: tshark decrypts QUIC Initials and shows their SNI; wardwatch does not decode QUIC (not compared).
 * - MQTT topic: tshark's `mqtt.topic` includes SUBSCRIBE filters; wardwatch keeps PUBLISH topics only.
 * - TLS inside RDP (tcp/3389) is dissected by tshark only with `-d tcp.port==3389,tls`, which is passed.
 * - HL7: wardwatch keeps all of MSH-9 (`ADT^A01`); compared with tshark's `hl7.message.type`^`hl7.event.type`.
 * - DICOM AE titles: tshark prints them with their space padding; compared trimmed.
 * - Link types wardwatch does not decode (PPI): only frame fields are compared, and the frame must carry
 *   decode_error UNSUPPORTED_LINKTYPE.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { DecodeError, Proto, formatIpv4, formatIpv6, formatMac, type DecodedPacket } from '../../src/records/packet.js';
import { decodeFile } from '../support/decode-file.js';
import { publicCapture, publicCapturesDir, requirePublicCaptures } from '../support/fixtures.js';

const run = promisify(execFile);

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'frame.len',
  'frame.cap_len',
  'eth.src',
  'eth.dst',
  'sll.src.eth',
  'vlan.id',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ah.next_header',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.len',
  'tcp.options.mss_val',
  'udp.srcport',
  'udp.dstport',
  'icmp.type',
  'icmpv6.type',
  'arp.opcode',
  'arp.src.proto_ipv4',
  'dns.qry.name',
  'dns.qry.type',
  'dns.flags.rcode',
  'dns.count.answers',
  'hl7.message.type',
  'hl7.event.type',
  'tls.handshake.extensions_server_name',
  'quic.version',
  'dhcp.option.hostname',
  'dhcp.option.vendor_class_id',
  'mqtt.msgtype',
  'mqtt.clientid',
  'mqtt.topic',
  'dicom.pdu.type',
  'dicom.assoc.ae.called',
  'dicom.assoc.ae.calling',
] as const;
type Field = (typeof FIELDS)[number];
type Row = Record<Field, string[]>;

/**
 * Messages that span TCP segments: wardwatch reads the header fields from the first segment (`frame`); tshark,
 * without reassembly, shows nothing there. For these, tshark is run a second time WITH reassembly and its values at
 * `reassembled` (the frame completing the message) are compared with ours at `frame`.
 */
const SPLIT_MESSAGES: Record<string, { frame: number; reassembled: number }> = {
  'tapirx_dicom_arq_2_get_testclient.pcap': { frame: 1, reassembled: 2 },
  'tapirx_dicom_arq_4_get_bogus_local.pcap': { frame: 1, reassembled: 2 },
  'tapirx_HL7-ORU.pcap': { frame: 4, reassembled: 5 },
};

async function tsharkRows(file: string, reassemble = false): Promise<Row[]> {
  const args = ['-r', file, '-n', '-o', `ip.defragment:${reassemble ? 'TRUE' : 'FALSE'}`];
  args.push('-o', `ipv6.defragment:${reassemble ? 'TRUE' : 'FALSE'}`);
  args.push('-o', `tcp.desegment_tcp_streams:${reassemble ? 'TRUE' : 'FALSE'}`);
  // HL7 on 6661 and TLS inside RDP on 3389 are only dissected when asked (see the fixtures' README).
  args.push('-d', 'tcp.port==6661,hl7', '-d', 'tcp.port==3389,tls', '-T', 'fields');
  args.push('-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=\u0001');
  for (const f of FIELDS) args.push('-e', f);
  const { stdout } = await run('tshark', args, { maxBuffer: 64 << 20 });
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const cols = line.split('\t');
      const row = {} as Row;
      FIELDS.forEach((f, i) => {
        const v = cols[i] ?? '';
        row[f] = v === '' ? [] : v.split('\u0001');
      });
      return row;
    });
}

function first(row: Row, f: Field): string | undefined {
  return row[f][0];
}

function ts(p: DecodedPacket): string {
  return `${p.ts_sec}.${String(p.ts_nsec).padStart(9, '0')}`;
}

function hexByte(v: string): number {
  return parseInt(v, 16) & 0xff;
}

/** Compares one packet; pushes "field: ours vs tshark" strings into `out`. */
function comparePacket(file: string, frameNo: number, p: DecodedPacket, row: Row, out: string[]): void {
  const diff = (what: string, ours: unknown, theirs: unknown): void => {
    if (String(ours) !== String(theirs)) out.push(`${file}#${frameNo} ${what}: ours=${String(ours)} tshark=${String(theirs)}`);
  };
  diff('time', ts(p), first(row, 'frame.time_epoch'));
  diff('frame.len', p.orig_len, first(row, 'frame.len'));
  diff('frame.cap_len', p.cap_len, first(row, 'frame.cap_len'));
  if (p.decode_error === DecodeError.UNSUPPORTED_LINKTYPE) return;

  const ethSrc = first(row, 'eth.src') ?? first(row, 'sll.src.eth');
  if (p.eth_src >= 0 || ethSrc !== undefined) diff('eth.src', formatMac(p.eth_src), ethSrc ?? '');
  const ethDst = first(row, 'eth.dst');
  if (p.eth_dst >= 0 || ethDst !== undefined) diff('eth.dst', formatMac(p.eth_dst), ethDst ?? '');
  const vlans = row['vlan.id'];
  diff('vlan.outer', p.vlan_outer, vlans[0] ?? -1);
  diff('vlan.inner', p.vlan_inner, vlans[1] ?? -1);

  const ipCount = row['ip.src'].length + row['ipv6.src'].length;
  const icmpError = p.proto === Proto.ICMP || p.proto === Proto.ICMPV6;
  const tunnel = ipCount > 1 && !icmpError;

  if (p.ip_version === 4) {
    diff('ip.src', formatIpv4(p.ip_src), first(row, 'ip.src'));
    diff('ip.dst', formatIpv4(p.ip_dst), first(row, 'ip.dst'));
    const ah = first(row, 'ah.next_header');
    diff('ip.proto', p.ip_proto, ah ?? first(row, 'ip.proto'));
  } else if (p.ip_version === 6) {
    diff('ipv6.src', formatIpv6(p.ip6_src), first(row, 'ipv6.src'));
    diff('ipv6.dst', formatIpv6(p.ip6_dst), first(row, 'ipv6.dst'));
  } else {
    diff('ip present', 'no', ipCount > 0 ? 'yes' : 'no');
  }

  // Which transport tshark reached (outermost; ICMP errors quote an inner header, so ICMP goes first).
  const theirs =
    row['icmp.type'].length > 0 ? 'icmp' : row['icmpv6.type'].length > 0 ? 'icmpv6' : row['arp.opcode'].length > 0 ? 'arp' : row['tcp.srcport'].length > 0 ? 'tcp' : row['udp.srcport'].length > 0 ? 'udp' : 'none';
  const ours = ({ [Proto.TCP]: 'tcp', [Proto.UDP]: 'udp', [Proto.ICMP]: 'icmp', [Proto.ICMPV6]: 'icmpv6', [Proto.ARP]: 'arp' } as Record<number, string>)[p.proto] ?? 'none';
  if (!tunnel) diff('transport', ours, theirs);

  if (p.proto === Proto.TCP && p.decode_error === DecodeError.NONE) {
    diff('tcp.srcport', p.src_port, first(row, 'tcp.srcport'));
    diff('tcp.dstport', p.dst_port, first(row, 'tcp.dstport'));
    diff('tcp.flags', p.tcp_flags, hexByte(first(row, 'tcp.flags') ?? '-1'));
    diff('tcp.window', p.tcp_window, first(row, 'tcp.window_size_value'));
    diff('tcp.len', p.payload_len, first(row, 'tcp.len'));
    diff('tcp.mss', p.tcp_mss, first(row, 'tcp.options.mss_val') ?? -1);
  } else if (p.proto === Proto.UDP) {
    diff('udp.srcport', p.src_port, first(row, 'udp.srcport'));
    diff('udp.dstport', p.dst_port, first(row, 'udp.dstport'));
  } else if (p.proto === Proto.ICMP) {
    diff('icmp.type', p.src_port, first(row, 'icmp.type'));
  } else if (p.proto === Proto.ICMPV6) {
    diff('icmpv6.type', p.src_port, first(row, 'icmpv6.type'));
  } else if (p.proto === Proto.ARP) {
    diff('arp.opcode', p.arp_op, first(row, 'arp.opcode'));
    diff('arp.spa', formatIpv4(p.arp_spa), first(row, 'arp.src.proto_ipv4'));
  } else if (p.proto === Proto.NONE && p.ip_version !== 0 && !p.ip_fragment) {
    out.push(`${file}#${frameNo} no transport decoded (decode_error ${p.decode_error})`);
  }

  if (tunnel || icmpError) return;
  compareApp(file, frameNo, p, row, diff);
}

type Diff = (what: string, ours: unknown, theirs: unknown) => void;

function compareApp(file: string, frameNo: number, p: DecodedPacket, row: Row, diff: Diff): void {
  const m = p.app_meta ?? {};
  // DNS: wardwatch lower-cases names (record contract); tshark prints them as sent.
  const qname = first(row, 'dns.qry.name');
  const tsharkName = qname === '<Root>' ? '' : qname?.toLowerCase();
  diff('dns.qry.name', m.dns_qname, tsharkName);
  if (qname !== undefined) {
    diff('dns.qry.type', m.dns_qtype, first(row, 'dns.qry.type'));
    // tshark shows the RCODE of responses only.
    diff('dns.rcode', m.dns_response === true ? m.dns_rcode : undefined, first(row, 'dns.flags.rcode'));
    diff('dns.answers', m.dns_answers, first(row, 'dns.count.answers'));
  }
  // TLS SNI; tshark also decrypts QUIC Initials (not decoded by wardwatch), so QUIC frames are left out.
  if (row['quic.version'].length === 0) diff('tls.sni', m.tls_sni, first(row, 'tls.handshake.extensions_server_name'));
  diff('dhcp.hostname', m.dhcp_hostname, first(row, 'dhcp.option.hostname'));
  diff('dhcp.vendor_class', m.dhcp_vendor_class, first(row, 'dhcp.option.vendor_class_id'));
  // MQTT: tshark's mqtt.topic also holds SUBSCRIBE filters; wardwatch keeps the PUBLISH topic only.
  const mqttType = first(row, 'mqtt.msgtype');
  diff('mqtt.msgtype', m.mqtt_msg_type, mqttType);
  diff('mqtt.clientid', m.mqtt_client_id, first(row, 'mqtt.clientid'));
  diff('mqtt.topic', m.mqtt_topic, mqttType === '3' ? first(row, 'mqtt.topic') : undefined);

  const split = SPLIT_MESSAGES[file];
  if (split?.frame === frameNo) return; // compared against the reassembled message instead
  compareMessageFields(p, row, diff);
}

/** HL7 and DICOM fields (shared by the per-frame and the reassembled comparison). */
function compareMessageFields(p: DecodedPacket, row: Row, diff: Diff): void {
  const m = p.app_meta ?? {};
  const hl7Type = first(row, 'hl7.message.type');
  const hl7 = hl7Type === undefined ? undefined : [hl7Type, first(row, 'hl7.event.type')].filter((x) => x !== undefined).join('^');
  const ourHl7 = m.hl7_msg_type?.split('^').slice(0, hl7 === undefined || hl7.includes('^') ? 2 : 1).join('^');
  diff('hl7.msg_type', ourHl7, hl7);
  const pdu = first(row, 'dicom.pdu.type');
  diff('dicom.pdu.type', m.dicom_pdu_type, pdu === undefined ? undefined : parseInt(pdu, 16));
  diff('dicom.called', m.dicom_called_ae, first(row, 'dicom.assoc.ae.called')?.trim());
  diff('dicom.calling', m.dicom_calling_ae, first(row, 'dicom.assoc.ae.calling')?.trim());
}

describe('decoder vs tshark on the public captures', function () {
  this.timeout(120000);
  before(function () {
    requirePublicCaptures(this);
  });

  it('every frame of every fixture matches tshark field by field', async () => {
    const files = readdirSync(publicCapturesDir).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
    assert.ok(files.length >= 20, `expected the public capture set, found ${files.length} files`);
    const mismatches: string[] = [];
    let compared = 0;
    // Two tshark processes at a time (the machine has 2 cores).
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const path = publicCapture(file);
        const [rows, ours] = await Promise.all([tsharkRows(path), decodeFile(path)]);
        if (rows.length !== ours.packets.length) {
          mismatches.push(`${file}: ${ours.packets.length} packets, tshark ${rows.length}`);
          continue;
        }
        ours.packets.forEach((p, i) => {
          const row = rows[i];
          if (row !== undefined) comparePacket(file, i + 1, p, row, mismatches);
        });
        const split = SPLIT_MESSAGES[file];
        if (split !== undefined) {
          const whole = (await tsharkRows(path, true))[split.reassembled - 1];
          const ourFirst = ours.packets[split.frame - 1];
          assert.ok(whole !== undefined && ourFirst !== undefined, `${file}: split message frames missing`);
          assert.ok(ourFirst.app_meta !== undefined, `${file}#${split.frame}: no metadata from the first segment`);
          compareMessageFields(ourFirst, whole, (what, a, b) => {
            if (String(a) !== String(b)) mismatches.push(`${file}#${split.frame} (reassembled) ${what}: ours=${String(a)} tshark=${String(b)}`);
          });
        }
        compared += rows.length;
      }
    };
    await Promise.all([worker(), worker()]);
    assert.ok(compared > 2000, `compared only ${compared} packets`);
    assert.deepEqual(mismatches.slice(0, 60), [], `${mismatches.length} mismatches`);
  });
});
