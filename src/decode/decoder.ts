/**
 * The packet decoder: one `CapturedFrame` in, one reused `DecodedPacket` filled in place. L2–L4 decoding reads at
 * offsets in the frame's buffer and allocates nothing; application metadata (optional, on by default) allocates
 * only for the packets that carry some (a small object and its strings).
 *
 * Never throws on packet content: every problem is recorded in `packet.decode_error` and counted per reason in
 * `decoder.counters`; the fields decoded before the problem stay filled.
 */
import { AppProto, DecodeError, LinkType, Proto, type CapturedFrame, type DecodedPacket } from '../records/packet.js';
import { decodeTcpApp, decodeUdpApp } from './app/index.js';
import { decodeArp } from './arp.js';
import { DecodeCounters } from './counters.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, decodeEthernet } from './ethernet.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeNull, decodeRaw, decodeSll, decodeSll2 } from './link.js';
import { newDecodeState, type DecodeState } from './state.js';
import { decodeIcmp } from './icmp.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

export interface PacketDecoderOptions {
  /** Extract application metadata (DNS, DHCP, TLS SNI, HL7, DICOM, MQTT). Default true. */
  app_metadata?: boolean;
}

export class PacketDecoder {
  readonly counters = new DecodeCounters();
  private readonly state: DecodeState = newDecodeState();
  private readonly appMetadata: boolean;

  constructor(options: PacketDecoderOptions = {}) {
    this.appMetadata = options.app_metadata ?? true;
  }

  /** Decodes `frame` into `p` (every field overwritten). Returns true when no decode error was found. */
  decode(frame: CapturedFrame, p: DecodedPacket): boolean {
    const c = this.counters;
    c.frames++;
    const b = frame.data;
    const start = frame.data_offset ?? 0;
    let end = start + frame.cap_len;
    if (end > b.length) end = b.length;
    const s = this.state;
    s.end = end;
    s.net = -1;
    s.l4len = 0;
    s.applen = 0;

    p.ts_sec = frame.ts_sec;
    p.ts_nsec = frame.ts_nsec;
    p.interface_id = frame.interface_id;
    p.linktype = frame.linktype;
    p.cap_len = frame.cap_len;
    p.orig_len = frame.orig_len;
    p.eth_src = -1;
    p.eth_dst = -1;
    p.vlan_outer = -1;
    p.vlan_inner = -1;
    p.ethertype = -1;
    p.ip_version = 0;
    p.ip_src = 0;
    p.ip_dst = 0;
    p.ip_proto = -1;
    p.ip_ttl = 0;
    p.ip_len = 0;
    p.ip_fragment = false;
    p.proto = Proto.NONE;
    p.src_port = -1;
    p.dst_port = -1;
    p.tcp_flags = 0;
    p.tcp_seq = 0;
    p.tcp_ack = 0;
    p.tcp_window = 0;
    p.tcp_mss = -1;
    p.payload_len = 0;
    p.arp_op = -1;
    p.arp_sha = -1;
    p.arp_spa = -1;
    p.arp_tha = -1;
    p.arp_tpa = -1;
    p.app = AppProto.NONE;
    p.app_meta = undefined;
    p.decode_error = DecodeError.NONE;

    let off: number;
    switch (frame.linktype) {
      case LinkType.ETHERNET:
        off = decodeEthernet(b, start, s, p);
        break;
      case LinkType.LINUX_SLL:
        off = decodeSll(b, start, s, p);
        break;
      case LinkType.LINUX_SLL2:
        off = decodeSll2(b, start, s, p);
        break;
      case LinkType.NULL:
        off = decodeNull(b, start, s, false);
        p.ethertype = s.net;
        break;
      case LinkType.LOOP:
        off = decodeNull(b, start, s, true);
        p.ethertype = s.net;
        break;
      case LinkType.RAW:
        off = decodeRaw(b, start, s);
        p.ethertype = s.net;
        break;
      case LinkType.IPV4:
        off = start;
        s.net = p.ethertype = ETHERTYPE_IPV4;
        break;
      case LinkType.IPV6:
        off = start;
        s.net = p.ethertype = ETHERTYPE_IPV6;
        break;
      default:
        return this.fail(p, DecodeError.UNSUPPORTED_LINKTYPE);
    }
    if (off < 0) return this.fail(p, DecodeError.TRUNCATED_LINK);

    const net = s.net;
    let l4: number;
    if (net === ETHERTYPE_IPV4) {
      l4 = decodeIpv4(b, off, s, p, c);
    } else if (net === ETHERTYPE_IPV6) {
      l4 = decodeIpv6(b, off, s, p, c);
    } else if (net === ETHERTYPE_ARP) {
      decodeArp(b, off, s, p);
      return this.done(p);
    } else {
      c.unknown_ethertype++;
      p.proto = Proto.OTHER;
      return this.done(p);
    }
    if (l4 < 0) return this.done(p);

    switch (p.ip_proto) {
      case 6:
        if (decodeTcp(b, l4, s, p) && this.appMetadata && s.applen > 0) decodeTcpApp(b, s.app, end, s.applen, p, c);
        break;
      case 17:
        if (decodeUdp(b, l4, s, p) && this.appMetadata && s.applen > 0) decodeUdpApp(b, s.app, end, s.applen, p, c);
        break;
      case 1:
        decodeIcmp(b, l4, s, p, Proto.ICMP);
        break;
      case 58:
        decodeIcmp(b, l4, s, p, Proto.ICMPV6);
        break;
      default:
        c.unknown_ip_proto++;
        p.proto = Proto.OTHER;
    }
    return this.done(p);
  }

  private done(p: DecodedPacket): boolean {
    if (p.decode_error === DecodeError.NONE) return true;
    this.counters.error(p.decode_error);
    return false;
  }

  private fail(p: DecodedPacket, code: typeof p.decode_error): boolean {
    p.decode_error = code;
    this.counters.error(code);
    return false;
  }
}
