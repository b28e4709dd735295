/**
 * Per-device feature windows (`FEATURE_SCHEMA`, documented field by field in docs/features.md).
 *
 * Inputs per packet: the `DecodedPacket`, the flow table's `FlowUpdate` and the inventory's `PacketDevices`; per
 * ended flow: `FlowEnd`. Windows are tumbling windows of packet time, aligned to multiples of `window_ms` since the
 * epoch: a window closes when the first packet at or after its end arrives (or at `flush`), never on a wall-clock
 * timer, so the same capture always yields identical windows whatever the replay speed. A packet older than the
 * open window (out of order across a boundary) is counted in the open window.
 *
 * Composition (see `AnalysisPipeline`): `advance(p)` BEFORE the flow table sees the packet, so that flows the
 * table expires because of this packet's time are counted in the window they belong to; then `process(p, …)`.
 *
 * Hot path: per-device state objects and their sets are created once per device; a packet updates numbers and
 * does set look-ups on numeric keys. Strings are only touched for DNS query names (already decoded) and for the
 * first 16 new peers of a window (explanations).
 */
import type { DeviceDirectory, PacketDevices } from '../records/device.js';
import type { FeatureName, FeatureWindow } from '../records/features.js';
import { FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION } from '../records/features.js';
import type { FlowEnd, FlowUpdate } from '../records/flow.js';
import type { DecodedPacket } from '../records/packet.js';
import { AppProto, Proto, TcpFlag, formatIpv4, formatIpv6 } from '../records/packet.js';
import type { FeatureOptions } from './config.js';
import { parseFeatureOptions } from './config.js';
import { NumberMap } from '../numeric-hash.js';

const EXPLAIN_MAX = 16;

class DeviceWindowState {
  winStart = -1;
  pktsOut = 0;
  pktsIn = 0;
  bytesOut = 0;
  bytesIn = 0;
  sizeN = 0;
  sizeMean = 0;
  sizeM2 = 0;
  lastMs = -1;
  /** Last peer key counted in this window (skips the set look-up for runs of packets with the same peer). */
  lastPeerKey = -1;
  iatN = 0;
  iatMean = 0;
  iatM2 = 0;
  flowsStarted = 0;
  flowsAccepted = 0;
  peersInternal = 0;
  peersExternal = 0;
  newPeers = 0;
  newPorts = 0;
  syn = 0;
  synackIn = 0;
  rst = 0;
  fin = 0;
  rejected = 0;
  halfOpen = 0;
  icmp = 0;
  arp = 0;
  arpSpoof = 0;
  dnsQueries = 0;
  dnsEntropySum = 0;
  dnsLenSum = 0;
  tcp = 0;
  udp = 0;
  other = 0;
  hl7 = 0;
  dicom = 0;
  mqtt = 0;
  /** Peer address keys (numeric map: IPv4 keys above 2^30 would be boxed as `Set` members). */
  readonly winPeers = new NumberMap(4);
  readonly winPorts = new Set<number>();
  readonly dnsNames = new Set<string>();
  readonly histPeers = new NumberMap(4);
  readonly histPorts = new Set<number>();
  newPeerList: string[] = [];
  newPortList: number[] = [];

  reset(start: number): void {
    this.winStart = start;
    this.pktsOut = this.pktsIn = this.bytesOut = this.bytesIn = 0;
    this.sizeN = this.sizeMean = this.sizeM2 = 0;
    this.lastMs = -1;
    this.lastPeerKey = -1;
    this.iatN = this.iatMean = this.iatM2 = 0;
    this.flowsStarted = this.flowsAccepted = this.peersInternal = this.peersExternal = 0;
    this.newPeers = this.newPorts = 0;
    this.syn = this.synackIn = this.rst = this.fin = this.rejected = this.halfOpen = 0;
    this.icmp = this.arp = this.arpSpoof = 0;
    this.dnsQueries = this.dnsEntropySum = this.dnsLenSum = 0;
    this.tcp = this.udp = this.other = 0;
    this.hl7 = this.dicom = this.mqtt = 0;
    this.winPeers.clear();
    this.winPorts.clear();
    this.dnsNames.clear();
    if (this.newPeerList.length > 0) this.newPeerList = [];
    if (this.newPortList.length > 0) this.newPortList = [];
  }
}

export class FeatureExtractor {
  readonly options: FeatureOptions;
  private readonly windowMs: number;
  private readonly states: (DeviceWindowState | undefined)[] = [];
  private active: number[] = [];
  private curStart = -1;
  private overflowInWindow = 0;
  private windowsEmitted = 0;
  private readonly charCounts = new Int32Array(256);

  constructor(
    options: Partial<FeatureOptions>,
    private readonly directory: DeviceDirectory,
    private readonly onWindow: (w: FeatureWindow) => void,
  ) {
    this.options = parseFeatureOptions(options);
    this.windowMs = this.options.window_ms;
  }

  get emitted(): number {
    return this.windowsEmitted;
  }

  /** Closes the open window if the packet's time is at or past its end. */
  advance(p: DecodedPacket): void {
    const ms = p.ts_sec * 1000 + Math.floor(p.ts_nsec / 1e6);
    // Inline fast path: a double passed to a call would be boxed.
    if (this.curStart >= 0 && ms < this.curStart + this.windowMs) return;
    this.advanceTo(ms);
  }

  /** Same as `advance` with a time in whole milliseconds since the epoch. */
  advanceTo(ms: number): void {
    const W = this.windowMs;
    if (this.curStart < 0) {
      this.curStart = Math.floor(ms / W) * W;
    } else if (ms >= this.curStart + W) {
      this.close();
      this.curStart = Math.floor(ms / W) * W;
    }
  }

  process(p: DecodedPacket, flow: FlowUpdate, devices: PacketDevices): void {
    this.advance(p);
    this.overflowInWindow += flow.overflow + devices.overflow;
    const src = devices.src;
    const dst = devices.dst;
    if (src >= 0) this.side(src, p, flow, devices, true);
    if (dst >= 0 && dst !== src) this.side(dst, p, flow, devices, false);
    if (flow.rejected) {
      const orig = flow.from_orig ? src : dst;
      if (orig >= 0) this.touch(orig).rejected++;
    }
  }

  /** A flow ended (from the flow table's `onEnd`): counts unanswered connection attempts. */
  flowEnded(e: FlowEnd): void {
    if (e.proto !== 'tcp' || e.orig_device < 0 || this.curStart < 0) return;
    const s = e.conn_state;
    if (s === 'S0' || s === 'SH' || s === 'RSTOS0') this.touch(e.orig_device).halfOpen++;
  }

  /** Emits the open window (capture end). */
  flush(): void {
    if (this.curStart >= 0) this.close();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private touch(h: number): DeviceWindowState {
    let st = this.states[h];
    if (st === undefined) {
      st = new DeviceWindowState();
      this.states[h] = st;
    }
    if (st.winStart !== this.curStart) {
      st.reset(this.curStart);
      this.active.push(h);
    }
    return st;
  }

  private side(h: number, p: DecodedPacket, flow: FlowUpdate, d: PacketDevices, out: boolean): void {
    const st = this.touch(h);
    const size = p.ip_version !== 0 ? p.ip_len : p.orig_len;
    if (out) {
      st.pktsOut++;
      st.bytesOut += size;
    } else {
      st.pktsIn++;
      st.bytesIn += size;
    }
    // Welford: packet size.
    st.sizeN++;
    const ds = size - st.sizeMean;
    st.sizeMean += ds / st.sizeN;
    st.sizeM2 += ds * (size - st.sizeMean);
    // Inter-arrival within the window.
    const ms = p.ts_sec * 1000 + p.ts_nsec / 1e6;
    if (st.lastMs >= 0) {
      const iat = ms > st.lastMs ? ms - st.lastMs : 0;
      st.iatN++;
      const di = iat - st.iatMean;
      st.iatMean += di / st.iatN;
      st.iatM2 += di * (iat - st.iatMean);
    }
    if (ms > st.lastMs) st.lastMs = ms;

    const proto = p.proto;
    if (proto === Proto.TCP) {
      st.tcp++;
      const f = p.tcp_flags;
      if ((f & TcpFlag.SYN) !== 0) {
        if ((f & TcpFlag.ACK) === 0) {
          if (out) st.syn++;
        } else if (!out) st.synackIn++;
      }
      if ((f & TcpFlag.RST) !== 0) st.rst++;
      if ((f & TcpFlag.FIN) !== 0) st.fin++;
    } else if (proto === Proto.UDP) {
      st.udp++;
    } else {
      st.other++;
      if (proto === Proto.ICMP || proto === Proto.ICMPV6) st.icmp++;
      else if (proto === Proto.ARP && out) {
        st.arp++;
        if (d.arp_conflict && p.arp_op === 2) st.arpSpoof++;
      }
    }

    const max = this.options.max_window_distinct;
    if (p.ip_version !== 0) {
      // Peer key as small (hi, lo) halves: IPv4 address, or 2^32 + 32-bit fold of the IPv6 address.
      let hi: number;
      let lo: number;
      if (p.ip_version === 4) {
        const ip = (out ? p.ip_dst : p.ip_src) >>> 0;
        hi = ip >>> 24;
        lo = ip & 0xffffff;
      } else {
        const fold = fold6(out ? p.ip6_dst : p.ip6_src);
        hi = 256 + (fold >>> 24);
        lo = fold & 0xffffff;
      }
      const key = hi * 16777216 + lo;
      const seenKey = key === st.lastPeerKey;
      st.lastPeerKey = key;
      if (!seenKey && st.winPeers.get(hi, lo) < 0 && st.winPeers.size < max) {
        st.winPeers.set(hi, lo, 0);
        if (out ? d.dst_internal : d.src_internal) st.peersInternal++;
        else st.peersExternal++;
        if (st.histPeers.get(hi, lo) < 0) {
          st.newPeers++;
          if (st.histPeers.size < this.options.max_history_peers) st.histPeers.set(hi, lo, 0);
          if (st.newPeerList.length < EXPLAIN_MAX) {
            st.newPeerList.push(p.ip_version === 4 ? formatIpv4(key) : formatIpv6(out ? p.ip6_dst : p.ip6_src));
          }
        }
      }
    }

    if (flow.started && (proto === Proto.TCP || proto === Proto.UDP || proto === Proto.ICMP || proto === Proto.ICMPV6)) {
      if (out === flow.from_orig) {
        st.flowsStarted++;
        if ((proto === Proto.TCP || proto === Proto.UDP) && p.src_port >= 0) {
          const port = flow.from_orig ? p.dst_port : p.src_port;
          if (!st.winPorts.has(port) && st.winPorts.size < max) {
            st.winPorts.add(port);
            if (!st.histPorts.has(port)) {
              st.newPorts++;
              if (st.histPorts.size < this.options.max_history_ports) st.histPorts.add(port);
              if (st.newPortList.length < EXPLAIN_MAX) st.newPortList.push(port);
            }
          }
        }
      } else {
        st.flowsAccepted++;
      }
    }

    const app = p.app;
    const meta = p.app_meta;
    if (app !== AppProto.NONE && meta !== undefined) {
      if (app === AppProto.DNS) {
        const q = meta.dns_qname;
        if (out && meta.dns_response !== true && q !== undefined) {
          st.dnsQueries++;
          st.dnsLenSum += q.length;
          this.addLabelEntropy(st, q);
          if (st.dnsNames.size < max) st.dnsNames.add(q);
        }
      } else if (app === AppProto.HL7) {
        if (meta.hl7_msg_type !== undefined) st.hl7++;
      } else if (app === AppProto.DICOM) {
        if (meta.dicom_pdu_type !== undefined) st.dicom++;
      } else if (app === AppProto.MQTT) {
        if (meta.mqtt_msg_type !== undefined) st.mqtt++;
      }
    }
  }

  /** Adds the Shannon entropy in bits per character of the leftmost label of `name` (0 for an empty label). */
  private addLabelEntropy(st: DeviceWindowState, name: string): void {
    let n = name.indexOf('.');
    if (n < 0) n = name.length;
    if (n === 0) return;
    const counts = this.charCounts;
    for (let i = 0; i < n; i++) counts[name.charCodeAt(i) & 255]!++;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const c = name.charCodeAt(i) & 255;
      const k = counts[c]!;
      if (k > 0) {
        const pr = k / n;
        h -= pr * Math.log2(pr);
        counts[c] = 0;
      }
    }
    st.dnsEntropySum += h;
  }

  private close(): void {
    const start = this.curStart;
    const handles = this.active;
    this.active = [];
    const overflow = this.overflowInWindow;
    this.overflowInWindow = 0;
    const ids = handles.map((h) => ({ h, id: this.directory.deviceId(h) }));
    ids.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.h - b.h));
    for (const { h, id } of ids) {
      const st = this.states[h]!;
      this.windowsEmitted++;
      this.onWindow({
        schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
        feature_schema_version: FEATURE_SCHEMA_VERSION,
        device_id: id,
        sensor_id: this.options.sensor_id,
        run_id: this.options.run_id,
        window_start: start / 1000,
        window_end: (start + this.windowMs) / 1000,
        values: featureValues(st, overflow),
        new_peers: st.newPeerList,
        new_dst_ports: st.newPortList,
      });
      st.winStart = -1;
      st.newPeerList = [];
      st.newPortList = [];
    }
  }
}

/** The vector in FEATURE_SCHEMA order. `Record<FeatureName, number>` makes the compiler demand every feature. */
function featureValues(st: DeviceWindowState, overflow: number): number[] {
  const pkts = st.pktsOut + st.pktsIn;
  const v: Record<FeatureName, number> = {
    pkts_out: st.pktsOut,
    pkts_in: st.pktsIn,
    bytes_out: st.bytesOut,
    bytes_in: st.bytesIn,
    pkt_size_mean_bytes: st.sizeN > 0 ? st.sizeMean : 0,
    pkt_size_std_bytes: st.sizeN >= 2 ? Math.sqrt(st.sizeM2 / st.sizeN) : 0,
    iat_mean_ms: st.iatN >= 1 ? st.iatMean : 0,
    iat_std_ms: st.iatN >= 2 ? Math.sqrt(st.iatM2 / st.iatN) : 0,
    flows_started: st.flowsStarted,
    flows_accepted: st.flowsAccepted,
    peers_internal: st.peersInternal,
    peers_external: st.peersExternal,
    dst_ports: st.winPorts.size,
    new_peers: st.newPeers,
    new_dst_ports: st.newPorts,
    tcp_syn: st.syn,
    tcp_synack_in: st.synackIn,
    tcp_rst: st.rst,
    tcp_fin: st.fin,
    tcp_rejected: st.rejected,
    tcp_half_open: st.halfOpen,
    icmp_pkts: st.icmp,
    arp_pkts: st.arp,
    arp_spoof_replies: st.arpSpoof,
    dns_queries: st.dnsQueries,
    dns_unique_names: st.dnsNames.size,
    dns_name_entropy_bits: st.dnsQueries > 0 ? st.dnsEntropySum / st.dnsQueries : 0,
    dns_name_len_chars: st.dnsQueries > 0 ? st.dnsLenSum / st.dnsQueries : 0,
    frac_tcp: pkts > 0 ? st.tcp / pkts : 0,
    frac_udp: pkts > 0 ? st.udp / pkts : 0,
    frac_other: pkts > 0 ? st.other / pkts : 0,
    hl7_msgs: st.hl7,
    dicom_pdus: st.dicom,
    mqtt_msgs: st.mqtt,
    sensor_overflow: overflow,
  };
  return FEATURE_SCHEMA.map((f) => round6(v[f.name]));
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function fold6(w: Uint32Array): number {
  return (w[0]! ^ w[1]! ^ w[2]! ^ w[3]!) >>> 0;
}
