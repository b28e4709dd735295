import assert from 'node:assert/strict';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { AppProto, DecodeError, LinkType, Proto, TcpFlag, formatIpv4, formatIpv6, newDecodedPacket, type CapturedFrame, type DecodedPacket } from '../../src/records/packet.js';
import * as B from '../support/packet-builder.js';

const MAC_A = 0x0200000000aa;
const MAC_B = 0x0200000000bb;

function frame(data: Buffer, linktype: number = LinkType.ETHERNET, offset = 0): CapturedFrame {
  // Put the frame at an offset inside a larger buffer, as the file reader does.
  const buf = Buffer.alloc(offset + data.length + 16, 0xee);
  data.copy(buf, offset);
  return { ts_sec: 1700000000, ts_nsec: 123456789, cap_len: data.length, orig_len: data.length, linktype, interface_id: 0, data: buf, data_offset: offset };
}

function decode(data: Buffer, linktype: number = LinkType.ETHERNET): { p: DecodedPacket; d: PacketDecoder; ok: boolean } {
  const d = new PacketDecoder();
  const p = newDecodedPacket();
  const ok = d.decode(frame(data, linktype, 37), p);
  return { p, d, ok };
}

function tcpFrame(t: B.TcpOptions, vlans: number[] = []): Buffer {
  return B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: B.tcp(t) }), vlans);
}

function udpFrame(sport: number, dport: number, payload: Buffer): Buffer {
  return B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: B.udp(sport, dport, payload) }));
}

describe('decode: link and network layers', () => {
  it('Ethernet + IPv4 + TCP SYN with MSS', () => {
    const { p, ok } = decode(tcpFrame({ sport: 49152, dport: 443, flags: TcpFlag.SYN, seq: 0xfffffff0, window: 29200, mss: 1460 }));
    assert.ok(ok);
    assert.equal(p.eth_src, MAC_A);
    assert.equal(p.eth_dst, MAC_B);
    assert.equal(p.ethertype, 0x0800);
    assert.equal(p.ip_version, 4);
    assert.equal(formatIpv4(p.ip_src), '10.0.0.1');
    assert.equal(formatIpv4(p.ip_dst), '10.0.0.2');
    assert.equal(p.ip_ttl, 64);
    assert.equal(p.ip_len, 20 + 24);
    assert.equal(p.proto, Proto.TCP);
    assert.equal(p.src_port, 49152);
    assert.equal(p.dst_port, 443);
    assert.equal(p.tcp_flags, TcpFlag.SYN);
    assert.equal(p.tcp_seq, 0xfffffff0);
    assert.equal(p.tcp_window, 29200);
    assert.equal(p.tcp_mss, 1460);
    assert.equal(p.payload_len, 0);
    assert.equal(p.ts_nsec, 123456789);
  });

  it('802.1Q and QinQ (0x88a8 outer) tags', () => {
    const one = decode(tcpFrame({ sport: 1, dport: 2, flags: TcpFlag.ACK }, [100])).p;
    assert.equal(one.vlan_outer, 100);
    assert.equal(one.vlan_inner, -1);
    const two = decode(B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 17, payload: B.udp(1, 2, Buffer.alloc(4)) }), [200, 300], 0x88a8)).p;
    assert.equal(two.vlan_outer, 200);
    assert.equal(two.vlan_inner, 300);
    assert.equal(two.proto, Proto.UDP);
    assert.equal(formatIpv4(two.ip_dst), '5.6.7.8');
  });

  it('ARP request', () => {
    const { p, ok } = decode(B.eth(0xffffffffffff, MAC_A, 0x0806, B.arp(1, MAC_A, '192.168.1.10', 0, '192.168.1.1')));
    assert.ok(ok);
    assert.equal(p.proto, Proto.ARP);
    assert.equal(p.arp_op, 1);
    assert.equal(p.arp_sha, MAC_A);
    assert.equal(formatIpv4(p.arp_spa), '192.168.1.10');
    assert.equal(formatIpv4(p.arp_tpa), '192.168.1.1');
  });

  it('IPv6 with Hop-by-Hop and Destination Options walked to ICMPv6', () => {
    const src: [number, number, number, number] = [0x20010db8, 0, 0, 1];
    const dst: [number, number, number, number] = [0xff020000, 0, 0, 0x16];
    const payload = Buffer.concat([B.ipv6Ext8(60), B.ipv6Ext8(58), B.icmp(143, 0, Buffer.alloc(20))]);
    const { p, ok } = decode(B.eth(MAC_B, MAC_A, 0x86dd, B.ipv6(src, dst, 0, payload, 1)));
    assert.ok(ok);
    assert.equal(p.ip_version, 6);
    assert.equal(formatIpv6(p.ip6_src), '2001:db8::1');
    assert.equal(formatIpv6(p.ip6_dst), 'ff02::16');
    assert.equal(p.ip_proto, 58);
    assert.equal(p.proto, Proto.ICMPV6);
    assert.equal(p.src_port, 143);
    assert.equal(p.ip_ttl, 1);
  });

  it('IPv6 fragments: first carries UDP, later ones no transport', () => {
    const src: [number, number, number, number] = [0x20010db8, 0, 0, 1];
    const first = decode(B.eth(MAC_B, MAC_A, 0x86dd, B.ipv6(src, src, 44, Buffer.concat([B.ipv6Fragment(17, 0, true), B.udp(53, 5353, Buffer.alloc(100))])))).p;
    assert.equal(first.ip_fragment, true);
    assert.equal(first.proto, Proto.UDP);
    assert.equal(first.src_port, 53);
    const later = decode(B.eth(MAC_B, MAC_A, 0x86dd, B.ipv6(src, src, 44, Buffer.concat([B.ipv6Fragment(17, 100, false), Buffer.alloc(64)]))));
    assert.equal(later.p.ip_fragment, true);
    assert.equal(later.p.ip_proto, 17);
    assert.equal(later.p.proto, Proto.NONE);
    assert.equal(later.p.src_port, -1);
    assert.equal(later.d.counters.ipv6_fragments, 1);
  });

  it('IPv4 fragments are counted; non-first fragments carry no ports', () => {
    const d = new PacketDecoder();
    const p = newDecodedPacket();
    d.decode(frame(B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, frag: 0x2000, payload: B.udp(53, 1000, Buffer.alloc(64), 3000) }))), p);
    assert.equal(p.ip_fragment, true);
    assert.equal(p.src_port, 53);
    assert.equal(p.decode_error, DecodeError.NONE, 'UDP length beyond a first fragment is normal');
    d.decode(frame(B.eth(MAC_B, MAC_A, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, frag: 185, payload: Buffer.alloc(64) }))), p);
    assert.equal(p.ip_fragment, true);
    assert.equal(p.src_port, -1);
    assert.equal(d.counters.ipv4_fragments, 2);
  });

  it('Linux cooked SLL and SLL2, BSD null (both byte orders), raw IP', () => {
    const ip = B.ipv4({ src: '10.1.1.1', dst: '10.1.1.2', proto: 17, payload: B.udp(1000, 2000, Buffer.alloc(8)) });
    const sll = Buffer.concat([B.u16(4), B.u16(1), B.u16(6), B.mac(MAC_A), Buffer.alloc(2), B.u16(0x0800), ip]);
    let r = decode(sll, LinkType.LINUX_SLL);
    assert.ok(r.ok);
    assert.equal(r.p.eth_src, MAC_A);
    assert.equal(r.p.dst_port, 2000);
    const sll2 = Buffer.concat([B.u16(0x0800), B.u16(0), B.u32(3), B.u16(1), Buffer.from([0, 6]), B.mac(MAC_B), Buffer.alloc(2), ip]);
    r = decode(sll2, LinkType.LINUX_SLL2);
    assert.ok(r.ok);
    assert.equal(r.p.eth_src, MAC_B);
    assert.equal(r.p.src_port, 1000);
    const nullLe = Buffer.concat([Buffer.from([2, 0, 0, 0]), ip]);
    assert.equal(decode(nullLe, LinkType.NULL).p.dst_port, 2000);
    const nullBe = Buffer.concat([Buffer.from([0, 0, 0, 2]), ip]);
    assert.equal(decode(nullBe, LinkType.NULL).p.dst_port, 2000);
    const v6 = B.ipv6([0, 0, 0, 1], [0, 0, 0, 1], 17, B.udp(7, 9, Buffer.alloc(0)));
    const null6 = Buffer.concat([Buffer.from([30, 0, 0, 0]), v6]);
    assert.equal(decode(null6, LinkType.NULL).p.ip_version, 6);
    assert.equal(decode(ip, LinkType.RAW).p.ip_version, 4);
    assert.equal(decode(v6, LinkType.RAW).p.dst_port, 9);
    assert.equal(decode(Buffer.concat([B.u32(2), ip]), LinkType.LOOP).p.src_port, 1000);
  });
});

describe('decode: application metadata', () => {
  it('DNS query and response (by port and by content)', () => {
    let { p } = decode(udpFrame(40000, 53, B.dns({ name: 'PACS.Example.org', qtype: 28 })));
    assert.equal(p.app, AppProto.DNS);
    assert.deepEqual(p.app_meta, { dns_qname: 'pacs.example.org', dns_qtype: 28, dns_rcode: 0, dns_response: false, dns_answers: 0 });
    ({ p } = decode(udpFrame(53, 40000, B.dns({ name: 'x.org', qtype: 1, response: true, rcode: 3, answers: 2 }))));
    assert.equal(p.app_meta?.dns_rcode, 3);
    assert.equal(p.app_meta?.dns_answers, 2);
    assert.equal(p.app_meta?.dns_response, true);
    ({ p } = decode(udpFrame(40000, 9953, B.dns({ name: 'offport.example', qtype: 1 }))));
    assert.equal(p.app_meta?.dns_qname, 'offport.example', 'DNS on a non-DNS port is recognised by content');
    ({ p } = decode(udpFrame(40000, 9953, Buffer.from('just some text payload that is not dns'))));
    assert.equal(p.app, AppProto.NONE);
  });

  it('DNS compression pointer loop ends without a name', () => {
    const msg = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12])]);
    const { p, d } = decode(udpFrame(40000, 53, msg));
    assert.equal(p.app_meta?.dns_qname, undefined);
    assert.equal(d.counters.app_malformed, 0);
  });

  it('DHCP options 53, 12, 60, 50 on any port (magic cookie)', () => {
    const { p } = decode(udpFrame(68, 67, B.dhcp({ msgType: 3, hostname: 'infusion-pump-07', vendor: 'BD Alaris 8015', requestedIp: '10.20.30.40' })));
    assert.equal(p.app, AppProto.DHCP);
    assert.deepEqual(p.app_meta, { dhcp_msg_type: 3, dhcp_hostname: 'infusion-pump-07', dhcp_vendor_class: 'BD Alaris 8015', dhcp_requested_ip: '10.20.30.40' });
    assert.equal(decode(udpFrame(5000, 6000, B.dhcp({ msgType: 1 }))).p.app, AppProto.DHCP);
  });

  it('TLS ClientHello SNI on a non-TLS port', () => {
    const { p } = decode(tcpFrame({ sport: 50000, dport: 8443, flags: TcpFlag.ACK | TcpFlag.PSH, payload: B.tlsClientHello('emr.hospital.example') }));
    assert.equal(p.app, AppProto.TLS);
    assert.equal(p.app_meta?.tls_sni, 'emr.hospital.example');
    const noSni = decode(tcpFrame({ sport: 50000, dport: 443, flags: TcpFlag.ACK, payload: B.tlsClientHello(undefined) })).p;
    assert.equal(noSni.app, AppProto.TLS);
    assert.equal(noSni.app_meta, undefined);
  });

  it('HL7 over MLLP: only MSH-3..6, MSH-9 and MSH-12, no patient field', () => {
    const { p } = decode(tcpFrame({ sport: 50000, dport: 7777, flags: TcpFlag.ACK, payload: B.hl7Mllp('MONITOR_ICU', 'ORU^R01^ORU_R01') }));
    assert.equal(p.app, AppProto.HL7);
    assert.deepEqual(p.app_meta, {
      hl7_sending_app: 'MONITOR_ICU',
      hl7_sending_facility: 'WARD3',
      hl7_receiving_app: 'LIS',
      hl7_receiving_facility: 'LAB',
      hl7_msg_type: 'ORU^R01^ORU_R01',
      hl7_version: '2.5',
    });
    assert.ok(!JSON.stringify(p).includes('DOE'), 'no PID content');
  });

  it('DICOM A-ASSOCIATE-RQ by content; other PDUs only on DICOM ports', () => {
    const { p } = decode(tcpFrame({ sport: 50000, dport: 4242, flags: TcpFlag.ACK, payload: B.dicomAssociateRq('PACS_ARCHIVE', 'CT_SCANNER1') }));
    assert.equal(p.app, AppProto.DICOM);
    assert.deepEqual(p.app_meta, { dicom_pdu_type: 1, dicom_called_ae: 'PACS_ARCHIVE', dicom_calling_ae: 'CT_SCANNER1' });
    const release = Buffer.from([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    assert.equal(decode(tcpFrame({ sport: 50000, dport: 104, flags: TcpFlag.ACK, payload: release })).p.app_meta?.dicom_pdu_type, 5);
    assert.equal(decode(tcpFrame({ sport: 50000, dport: 4242, flags: TcpFlag.ACK, payload: release })).p.app, AppProto.NONE);
  });

  it('MQTT CONNECT (3.1.1 and 5.0) by content and PUBLISH topic on 1883', () => {
    let { p } = decode(tcpFrame({ sport: 50000, dport: 9999, flags: TcpFlag.ACK, payload: B.mqttConnect('ventilator-12') }));
    assert.deepEqual(p.app_meta, { mqtt_msg_type: 1, mqtt_client_id: 'ventilator-12' });
    ({ p } = decode(tcpFrame({ sport: 50000, dport: 1883, flags: TcpFlag.ACK, payload: B.mqttConnect('v5-client', 5) })));
    assert.equal(p.app_meta?.mqtt_client_id, 'v5-client');
    ({ p } = decode(tcpFrame({ sport: 50000, dport: 1883, flags: TcpFlag.ACK, payload: B.mqttPublish('ward/3/bed/7/spo2', Buffer.from('97')) })));
    assert.deepEqual(p.app_meta, { mqtt_msg_type: 3, mqtt_topic: 'ward/3/bed/7/spo2' });
  });

  it('app metadata can be switched off', () => {
    const d = new PacketDecoder({ app_metadata: false });
    const p = newDecodedPacket();
    d.decode(frame(udpFrame(40000, 53, B.dns({ name: 'a.b', qtype: 1 }))), p);
    assert.equal(p.app, AppProto.NONE);
    assert.equal(p.src_port, 40000);
  });
});

describe('decode: malformed input is counted per reason', () => {
  const cases: { name: string; data: Buffer; linktype?: number; error: number }[] = [
    { name: 'frame shorter than Ethernet', data: Buffer.alloc(10), error: DecodeError.TRUNCATED_LINK },
    { name: 'unsupported link type', data: Buffer.alloc(60), linktype: 192, error: DecodeError.UNSUPPORTED_LINKTYPE },
    { name: 'IPv4 IHL < 5', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, ihlWords: 3, payload: Buffer.alloc(20) })), error: DecodeError.BAD_IPV4_HEADER_LENGTH },
    { name: 'IPv4 IHL beyond total length', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, ihlWords: 15, totalLength: 40, payload: Buffer.alloc(20) })), error: DecodeError.BAD_IPV4_HEADER_LENGTH },
    { name: 'IPv4 total length < 20', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, totalLength: 12, payload: Buffer.alloc(20) })), error: DecodeError.BAD_IPV4_TOTAL_LENGTH },
    { name: 'IPv4 version 5 in an IPv4 EtherType', data: B.eth(1, 2, 0x0800, Buffer.concat([Buffer.from([0x55]), Buffer.alloc(40)])), error: DecodeError.BAD_IPV4_VERSION },
    { name: 'IPv4 zero-length option', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, options: Buffer.from([0x83, 0, 0, 0]), payload: B.udp(1, 2, Buffer.alloc(0)) })), error: DecodeError.BAD_IPV4_OPTION },
    { name: 'TCP zero-length option', data: tcpFrame({ sport: 1, dport: 2, flags: TcpFlag.SYN, options: Buffer.from([8, 0, 0, 0]) }), error: DecodeError.BAD_TCP_OPTION },
    { name: 'TCP data offset < 5', data: tcpFrame({ sport: 1, dport: 2, flags: TcpFlag.SYN, dataOffsetWords: 2 }), error: DecodeError.BAD_TCP_HEADER_LENGTH },
    { name: 'TCP data offset beyond the IP payload', data: tcpFrame({ sport: 1, dport: 2, flags: TcpFlag.SYN, dataOffsetWords: 15 }), error: DecodeError.BAD_TCP_HEADER_LENGTH },
    { name: 'UDP length < 8', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, payload: B.udp(1, 2, Buffer.alloc(10), 4) })), error: DecodeError.BAD_UDP_LENGTH },
    { name: 'truncated TCP header', data: B.eth(1, 2, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: Buffer.alloc(10) })), error: DecodeError.TRUNCATED_TCP },
    {
      name: 'IPv6 extension-header chain longer than the limit (a loop of Destination Options)',
      data: B.eth(1, 2, 0x86dd, B.ipv6([0, 0, 0, 1], [0, 0, 0, 2], 60, Buffer.concat(Array.from({ length: 30 }, () => B.ipv6Ext8(60))))),
      error: DecodeError.IPV6_EXT_LIMIT,
    },
    { name: 'IPv6 extension header cut off', data: B.eth(1, 2, 0x86dd, B.ipv6([0, 0, 0, 1], [0, 0, 0, 2], 0, Buffer.from([60, 5, 0, 0, 0, 0, 0, 0]))), error: DecodeError.TRUNCATED_IPV6_EXT },
    { name: 'truncated IPv6 header', data: B.eth(1, 2, 0x86dd, Buffer.from([0x60, 0, 0, 0])), error: DecodeError.TRUNCATED_IPV6 },
    { name: 'truncated ARP', data: B.eth(1, 2, 0x0806, Buffer.from([0, 1, 8, 0, 6, 4, 0, 1, 1, 2])), error: DecodeError.TRUNCATED_ARP },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { p, d, ok } = decode(c.data, c.linktype ?? LinkType.ETHERNET);
      assert.equal(ok, false);
      assert.equal(p.decode_error, c.error);
      const snap = d.counters.snapshot();
      assert.equal(snap.malformed, 1);
      assert.equal(Object.values(snap.errors).reduce((a, b) => a + b, 0), 1);
    });
  }

  it('every prefix of a valid frame decodes without throwing and flags a truncation', () => {
    const full = tcpFrame({ sport: 1, dport: 2, flags: TcpFlag.SYN, mss: 1460, payload: B.tlsClientHello('x.example') });
    const d = new PacketDecoder();
    const p = newDecodedPacket();
    for (let n = 0; n < 14 + 20 + 20; n++) {
      const f = frame(full.subarray(0, n));
      d.decode(f, p);
      assert.notEqual(p.decode_error, DecodeError.NONE, `prefix ${n}`);
    }
  });
});

describe('decode: the L2–L4 hot path allocates nothing per packet', function () {
  this.timeout(30000);
  it('no young-generation GC while decoding 3,000,000 varied frames (node --trace-gc)', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { fileURLToPath } = await import('node:url');
    const probe = fileURLToPath(new URL('../support/alloc-probe.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--trace-gc', probe, '3000000'], { maxBuffer: 8 << 20 });
    const lines = stdout.split('\n');
    const start = lines.indexOf('@@loop-start');
    const end = lines.indexOf('@@loop-end');
    assert.ok(start >= 0 && end > start, 'probe markers missing');
    const gcs = lines.slice(start + 1, end).filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
    assert.deepEqual(gcs, [], 'garbage collections during the decode loop mean per-packet allocation');
    assert.match(lines.slice(end).join('\n'), /@@sum \d+ frames 3300000/);
  });
});
