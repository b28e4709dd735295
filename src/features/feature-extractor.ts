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
 * Hot path: per-device state is a row of numbers in one shared typed array (grown by doubling with the device
 * count); the distinct sets (window peers and ports, history) are shared generation-stamped tables of numeric
 * (device, key) pairs, emptied in O(1) when a window closes. A packet updates numbers and does set look-ups on
 * numeric keys; nothing is allocated per packet. Strings are only touched for DNS query names (already decoded)
 * and made at window close for the first 16 new peers (explanations). `identity_changes` is not counted here: the
 * device inventory learns the medical identity and notes its changes, and the window takes them from the directory
 * (`DeviceDirectory.takeIdentityChanges`) when it closes. Per window, only the emitted `FeatureWindow`
 * (its vector sliced from a template, one allocation) is allocated.
 */
import type { DeviceDirectory, PacketDevices } from '../records/device.js';
import type { FeatureName, FeatureWindow } from '../records/features.js';
import { FEATURE_COUNT, FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION } from '../records/features.js';
import type { FlowEnd, FlowUpdate } from '../records/flow.js';
import type { DecodedPacket } from '../records/packet.js';
import { AppProto, Proto, TcpFlag, formatIpv4, formatIpv6 } from '../records/packet.js';
import type { FeatureOptions } from './config.js';
import { parseFeatureOptions } from './config.js';
import { OwnedKeySet, splitHi, splitLo } from '../numeric-hash.js';

const EXPLAIN_MAX = 16;

// Per-device window accumulators: one row of STRIDE doubles per device handle in one Float64Array (`acc`), zeroed
// when the device's first packet of a window arrives. No per-device objects, nothing allocated per packet or window
// except the emitted `FeatureWindow` itself.
const PKTS_OUT = 0;
const PKTS_IN = 1;
const BYTES_OUT = 2;
const BYTES_IN = 3;
const SIZE_N = 4; // N, MEAN, M2 adjacent (welford)
const SIZE_MEAN = 5;
const SIZE_M2 = 6;
/** Time of the device's last packet in the window (ms), -1 before the first. */
const LAST_MS = 7;
/** Last peer key counted in this window (skips the set look-up for runs of packets with the same peer), -1 none. */
const LAST_PEER = 8;
const IAT_N = 9; // N, MEAN, M2 adjacent (welford)
const IAT_MEAN = 10;
const IAT_M2 = 11;
const FLOWS_STARTED = 12;
const FLOWS_ACCEPTED = 13;
const PEERS_INTERNAL = 14;
const PEERS_EXTERNAL = 15;
const NEW_PEERS = 16;
const NEW_PORTS = 17;
const SYN = 18;
const SYNACK_IN = 19;
const RST = 20;
const FIN = 21;
const REJECTED = 22;
const HALF_OPEN = 23;
const ICMP = 24;
const ARP = 25;
const ARP_SPOOF = 26;
const DNS_QUERIES = 27;
const DNS_ENTROPY_SUM = 28;
const DNS_LEN_SUM = 29;
const TCP = 30;
const UDP = 31;
const OTHER = 32;
const HL7 = 33;
const DICOM = 34;
const MQTT = 35;
/** Distinct peers / responder ports in the window's sets (the sets themselves are shared `OwnedKeySet`s). */
const WIN_PEERS = 36;
const WIN_PORTS = 37;
/** Entries used in the device's rows of the explanation lists (`newPeerKeys`, `newPortList`). */
const NEW_PEER_LIST = 38;
const NEW_PORT_LIST = 39;
const NEW_PEERS_INTERNAL = 40;
const LATERAL = 41;
const LOGIN_IN = 42;
const LOGIN_OUT = 43;
const BEACON = 44;
const STRIDE = 45;

/** Remote-access and file-sharing ports (`lateral_new_peer_conns`, `login_conns_*`): FTP, SSH, telnet, MS-RPC, NetBIOS, SMB, RDP, VNC, WinRM. */
export const REMOTE_ACCESS_PORTS: readonly number[] = [21, 22, 23, 135, 139, 445, 3389, 5900, 5985, 5986];
const REMOTE_ACCESS = new Uint8Array(65536);
for (const port of REMOTE_ACCESS_PORTS) REMOTE_ACCESS[port] = 1;

/** Beaconing rhythm (`beacon_peers`): starts needed, interval range and the largest coefficient of variation. */
const BEACON_STARTS = 4;
const BEACON_MIN_MS = 1_000;
const BEACON_MAX_MS = 900_000;
const BEACON_MAX_CV = 0.35;

/** A tracked (device, peer) pair: first contact, the last BEACON_STARTS connection starts (ring), window last counted. */
interface BeaconTrack {
  first: number;
  starts: Float64Array;
  n: number;
  counted: number;
}

/** Feature name → index in the vector. */
const IX = Object.fromEntries(FEATURE_SCHEMA.map((f, i) => [f.name, i])) as Record<FeatureName, number>;
/** Vector template (double elements, NaN until written): `slice()` gives a fresh vector in one allocation. */
const VALUES_TEMPLATE: number[] = new Array<number>(FEATURE_COUNT).fill(NaN);

/** A device's feature history as saved with the inventory (see `FeatureExtractor.history`). */
export interface DeviceFeatureHistory {
  /** Peer keys: an IPv4 address as a 32-bit unsigned integer; IPv6: 2^32 + the 32-bit XOR fold of the address. */
  peer_keys: number[];
  dst_ports: number[];
}

export class FeatureExtractor {
  readonly options: FeatureOptions;
  private readonly windowMs: number;
  private readonly maxDistinct: number;
  private readonly maxHistPeers: number;
  private readonly maxHistPorts: number;
  /** Handles with room in the columns below (grown by doubling). */
  private cap = 0;
  /** Packet time (ms) of each device's first packet seen by this extractor, -1 before. */
  private firstMs = new Float64Array(0);
  /** Taken-up peers' rhythm, by device handle × 2^33 + peer key (insertion order = age). */
  private readonly beacons = new Map<number, BeaconTrack>();
  private beaconDropped = 0;
  /** Window start (ms) each device's row belongs to, -1 for none. */
  private winStart = new Float64Array(0);
  private acc = new Float64Array(0);
  /** History sizes (never reset). */
  private histPeerCount = new Int32Array(0);
  private histPortCount = new Int32Array(0);
  /** Explanation lists, EXPLAIN_MAX per device: peer keys (+ the IPv6 words), ports. Text is made at close. */
  private newPeerKeys = new Float64Array(0);
  private newPeer6 = new Uint32Array(0);
  private newPortList = new Int32Array(0);
  /** device_id by handle, cached on first sight (for the sort at close). */
  private readonly ids: string[] = [];
  /** DNS names of the window by handle (created for devices that query). */
  private readonly dnsNames: (Set<string> | undefined)[] = [];
  private readonly winPeers = new OwnedKeySet(1024);
  private readonly winPorts = new OwnedKeySet(1024);
  private readonly histPeers = new OwnedKeySet(1024);
  private readonly histPorts = new OwnedKeySet(1024);
  private active = new Int32Array(256);
  private nActive = 0;
  private curStart = -1;
  private overflowInWindow = 0;
  /** Capture loss noted while the open window is open (`noteCaptureLoss`): packets dropped, packets dropped + read. */
  private lossDropped = 0;
  private lossSeen = 0;
  /** Whether capture counters were ever noted: windows then carry `capture_loss` (else it stays absent). */
  private lossNoted = false;
  private windowsEmitted = 0;
  private readonly charCounts = new Int32Array(256);
  private readonly pktMs = new Float64Array(1);
  /**
   * Emission order (device_id order): `rank[h]` is h's position among the devices seen so far sorted by id, and
   * `byRank` its inverse; recomputed at a close only when new devices appeared. Active handles are then sorted as
   * plain integers (native sort, no comparator calls).
   */
  private rank = new Int32Array(0);
  private byRank = new Int32Array(0);
  private rankedIds = 0;
  /** Handles in `ids` (it may have holes). */
  private nIds = 0;

  constructor(
    options: Partial<FeatureOptions>,
    private readonly directory: DeviceDirectory,
    private readonly onWindow: (w: FeatureWindow) => void,
  ) {
    this.options = parseFeatureOptions(options);
    this.windowMs = this.options.window_ms;
    this.maxDistinct = this.options.max_window_distinct;
    this.maxHistPeers = this.options.max_history_peers;
    this.maxHistPorts = this.options.max_history_ports;
  }

  get emitted(): number {
    return this.windowsEmitted;
  }

  /** Tracked (device, peer) pairs of `beacon_peers` dropped at the bound or after `beacon_track_ms`. */
  get beaconTracks(): { tracked: number; dropped: number } {
    return { tracked: this.beacons.size, dropped: this.beaconDropped };
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
    // Packet time in ms, once per packet (both sides use it); in a typed array so that it is never boxed.
    this.pktMs[0] = p.ts_sec * 1000 + p.ts_nsec / 1e6;
    const src = devices.src;
    const dst = devices.dst;
    if (src >= 0) this.side(src, p, flow, devices, true);
    if (dst >= 0 && dst !== src) this.side(dst, p, flow, devices, false);
    if (flow.rejected) {
      const orig = flow.from_orig ? src : dst;
      if (orig >= 0) this.acc[this.touch(orig) + REJECTED]!++;
    }
  }

  /** A flow ended (from the flow table's `onEnd`): counts unanswered connection attempts. */
  flowEnded(e: FlowEnd): void {
    if (e.proto !== 'tcp' || e.orig_device < 0 || this.curStart < 0) return;
    const s = e.conn_state;
    if (s === 'S0' || s === 'SH' || s === 'RSTOS0') this.acc[this.touch(e.orig_device) + HALF_OPEN]!++;
  }

  /**
   * Capture loss since the previous call (sensor-wide): `dropped` packets the capture lost and `seen` packets that
   * reached it (read + dropped). Counted in the window open now (or, before the first packet, in the first window);
   * from the first call on, every emitted window carries `capture_loss` = dropped ÷ seen over its interval (0 when
   * nothing was seen).
   */
  noteCaptureLoss(dropped: number, seen: number): void {
    this.lossNoted = true;
    if (dropped > 0) this.lossDropped += dropped;
    if (seen > 0) this.lossSeen += seen;
  }

  /** Emits the open window (capture end). */
  flush(): void {
    if (this.curStart >= 0) this.close();
  }

  /**
   * The device's history of peers and destination ports (what `new_peers` / `new_dst_ports` compare against), keys
   * sorted ascending, for saving with the inventory. Not for the hot path.
   */
  histories(): Map<number, DeviceFeatureHistory> {
    const out = new Map<number, DeviceFeatureHistory>();
    const row = (h: number): DeviceFeatureHistory => {
      let r = out.get(h);
      if (r === undefined) {
        r = { peer_keys: [], dst_ports: [] };
        out.set(h, r);
      }
      return r;
    };
    this.histPeers.forEach((h, key) => row(h).peer_keys.push(key));
    this.histPorts.forEach((h, key) => row(h).dst_ports.push(key));
    for (const r of out.values()) {
      r.peer_keys.sort((a, b) => a - b);
      r.dst_ports.sort((a, b) => a - b);
    }
    return out;
  }

  /**
   * Restores a device's history (from a saved inventory) before its first packet. Each list is cut to the current
   * bounds (`max_history_peers`, `max_history_ports`), keeping the lowest keys; invalid keys are skipped.
   */
  restoreHistory(h: number, history: DeviceFeatureHistory): void {
    this.ensure(h);
    for (const key of history.peer_keys) {
      if (this.histPeerCount[h]! >= this.maxHistPeers) break;
      if (!Number.isInteger(key) || key < 0 || key >= 2 * 0x100000000) continue;
      if (this.histPeers.add(h, splitHi(key), splitLo(key))) this.histPeerCount[h]!++;
    }
    for (const port of history.dst_ports) {
      if (this.histPortCount[h]! >= this.maxHistPorts) break;
      if (!Number.isInteger(port) || port < 0 || port > 65535) continue;
      if (this.histPorts.add(h, 0, port)) this.histPortCount[h]!++;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Grows the per-device columns to hold handle `h`. */
  private ensure(h: number): void {
    if (h < this.cap) return;
    let cap = Math.max(64, this.cap);
    while (cap <= h) cap *= 2;
    const grow64 = (a: Float64Array, n: number): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(cap * n);
      b.set(a);
      return b;
    };
    const winStart = grow64(this.winStart, 1);
    winStart.fill(-1, this.cap);
    this.winStart = winStart;
    const firstMs = grow64(this.firstMs, 1);
    firstMs.fill(-1, this.cap);
    this.firstMs = firstMs;
    this.acc = grow64(this.acc, STRIDE);
    this.newPeerKeys = grow64(this.newPeerKeys, EXPLAIN_MAX);
    const hp = new Int32Array(cap);
    hp.set(this.histPeerCount);
    this.histPeerCount = hp;
    const ho = new Int32Array(cap);
    ho.set(this.histPortCount);
    this.histPortCount = ho;
    const n6 = new Uint32Array(cap * EXPLAIN_MAX * 4);
    n6.set(this.newPeer6);
    this.newPeer6 = n6;
    const np = new Int32Array(cap * EXPLAIN_MAX);
    np.set(this.newPortList);
    this.newPortList = np;
    this.cap = cap;
  }

  /** Row offset of device `h` in `acc`, its row reset when this is its first packet of the window. */
  private touch(h: number): number {
    if (h >= this.cap) this.ensure(h);
    const b = h * STRIDE;
    if (this.winStart[h] !== this.curStart) {
      this.winStart[h] = this.curStart;
      const a = this.acc;
      a.fill(0, b, b + STRIDE);
      a[b + LAST_MS] = -1;
      a[b + LAST_PEER] = -1;
      if (this.ids[h] === undefined) {
        this.ids[h] = this.directory.deviceId(h);
        this.nIds++;
      }
      if (this.nActive === this.active.length) {
        const grown = new Int32Array(this.active.length * 2);
        grown.set(this.active);
        this.active = grown;
      }
      this.active[this.nActive++] = h;
    }
    return b;
  }

  private side(h: number, p: DecodedPacket, flow: FlowUpdate, d: PacketDevices, out: boolean): void {
    const b = this.touch(h);
    const a = this.acc;
    const size = p.ip_version !== 0 ? p.ip_len : p.orig_len;
    if (out) {
      a[b + PKTS_OUT]!++;
      a[b + BYTES_OUT]! += size;
    } else {
      a[b + PKTS_IN]!++;
      a[b + BYTES_IN]! += size;
    }
    welford(a, b + SIZE_N, size); // packet size
    // Inter-arrival within the window.
    const ms = this.pktMs[0]!;
    const lastMs = a[b + LAST_MS]!;
    if (lastMs >= 0) {
      welford(a, b + IAT_N, ms > lastMs ? ms - lastMs : 0); // inter-arrival
    }
    if (ms > lastMs) a[b + LAST_MS] = ms;
    if (this.firstMs[h]! < 0) this.firstMs[h] = ms;

    const proto = p.proto;
    if (proto === Proto.TCP) {
      a[b + TCP]!++;
      const f = p.tcp_flags;
      if ((f & TcpFlag.SYN) !== 0) {
        if ((f & TcpFlag.ACK) === 0) {
          if (out) a[b + SYN]!++;
        } else {
          if (!out) a[b + SYNACK_IN]!++;
          // A remote-access connection accepted (its SYN-ACK): by the device (login_conns_in) or by its peer
          // (login_conns_out). Probes of closed ports (reset) are not counted: brute force needs an open service.
          if (p.src_port >= 0 && REMOTE_ACCESS[p.src_port] === 1) a[b + (out ? LOGIN_IN : LOGIN_OUT)]!++;
        }
      }
      if ((f & TcpFlag.RST) !== 0) a[b + RST]!++;
      if ((f & TcpFlag.FIN) !== 0) a[b + FIN]!++;
    } else if (proto === Proto.UDP) {
      a[b + UDP]!++;
    } else {
      a[b + OTHER]!++;
      if (proto === Proto.ICMP || proto === Proto.ICMPV6) a[b + ICMP]!++;
      else if (proto === Proto.ARP && out) {
        a[b + ARP]!++;
        if (d.arp_conflict && p.arp_op === 2) a[b + ARP_SPOOF]!++;
      }
    }

    const max = this.maxDistinct;
    let peerKey = -1;
    let peerNew = false;
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
      peerKey = key;
      const seenKey = key === a[b + LAST_PEER];
      a[b + LAST_PEER] = key;
      if (!seenKey && a[b + WIN_PEERS]! < max && this.winPeers.add(h, hi, lo)) {
        a[b + WIN_PEERS]!++;
        if (out ? d.dst_internal : d.src_internal) a[b + PEERS_INTERNAL]!++;
        else a[b + PEERS_EXTERNAL]!++;
        if (!this.histPeers.has(h, hi, lo)) {
          a[b + NEW_PEERS]!++;
          peerNew = true;
          if (out ? d.dst_internal : d.src_internal) a[b + NEW_PEERS_INTERNAL]!++;
          if (this.histPeerCount[h]! < this.maxHistPeers) {
            this.histPeers.add(h, hi, lo);
            this.histPeerCount[h]!++;
          }
          const n = a[b + NEW_PEER_LIST]!;
          if (n < EXPLAIN_MAX) {
            const j = h * EXPLAIN_MAX + n;
            this.newPeerKeys[j] = key;
            if (p.ip_version === 6) this.newPeer6.set(out ? p.ip6_dst : p.ip6_src, j * 4);
            a[b + NEW_PEER_LIST] = n + 1;
          }
        }
      }
    }

    if (flow.started && (proto === Proto.TCP || proto === Proto.UDP || proto === Proto.ICMP || proto === Proto.ICMPV6)) {
      if (proto === Proto.TCP && out === flow.from_orig && p.src_port >= 0 && REMOTE_ACCESS[p.dst_port] === 1) {
        if (d.dst_internal && peerKey >= 0 && (peerNew || this.newInWindow(h, peerKey))) a[b + LATERAL]!++;
      }
      if (out === flow.from_orig && peerKey >= 0 && !d.dst_internal) this.beaconStart(h, peerKey, peerNew, b);
      if (out === flow.from_orig) {
        a[b + FLOWS_STARTED]!++;
        if ((proto === Proto.TCP || proto === Proto.UDP) && p.src_port >= 0) {
          const port = flow.from_orig ? p.dst_port : p.src_port;
          if (a[b + WIN_PORTS]! < max && this.winPorts.add(h, 0, port)) {
            a[b + WIN_PORTS]!++;
            if (!this.histPorts.has(h, 0, port)) {
              a[b + NEW_PORTS]!++;
              if (this.histPortCount[h]! < this.maxHistPorts) {
                this.histPorts.add(h, 0, port);
                this.histPortCount[h]!++;
              }
              const n = a[b + NEW_PORT_LIST]!;
              if (n < EXPLAIN_MAX) {
                this.newPortList[h * EXPLAIN_MAX + n] = port;
                a[b + NEW_PORT_LIST] = n + 1;
              }
            }
          }
        }
      } else {
        a[b + FLOWS_ACCEPTED]!++;
      }
    }

    const app = p.app;
    const meta = p.app_meta;
    if (app !== AppProto.NONE && meta !== undefined) {
      if (app === AppProto.DNS) {
        const q = meta.dns_qname;
        if (out && meta.dns_response !== true && q !== undefined) {
          a[b + DNS_QUERIES]!++;
          a[b + DNS_LEN_SUM]! += q.length;
          a[b + DNS_ENTROPY_SUM]! += this.labelEntropy(q);
          let names = this.dnsNames[h];
          if (names === undefined) {
            names = new Set<string>();
            this.dnsNames[h] = names;
          }
          if (names.size < max) names.add(q);
        }
      } else if (app === AppProto.HL7) {
        if (meta.hl7_msg_type !== undefined) a[b + HL7]!++;
      } else if (app === AppProto.DICOM) {
        if (meta.dicom_pdu_type !== undefined) a[b + DICOM]!++;
      } else if (app === AppProto.MQTT) {
        if (meta.mqtt_msg_type !== undefined) a[b + MQTT]!++;
      }
    }
  }

  /** Whether `key` is among device h's new peers of the open window (the explanation list, ≤ 16). */
  private newInWindow(h: number, key: number): boolean {
    const n = this.acc[h * STRIDE + NEW_PEER_LIST]!;
    for (let i = 0; i < n; i++) if (this.newPeerKeys[h * EXPLAIN_MAX + i] === key) return true;
    return false;
  }

  /**
   * A connection the device started to external peer `key` (`beacon_peers`). A peer that is new now, more than
   * `beacon_settle_ms` after the device's first packet, starts a track; a tracked peer's start is added to its ring,
   * and once the last BEACON_STARTS starts are regular the peer counts (once per window).
   */
  private beaconStart(h: number, key: number, isNew: boolean, b: number): void {
    const ms = this.pktMs[0]!;
    const id = h * 8589934592 + key;
    let t = this.beacons.get(id);
    if (t === undefined) {
      if (!isNew || ms - this.firstMs[h]! < this.options.beacon_settle_ms) return;
      if (this.beacons.size >= this.options.max_beacon_tracks) {
        const oldest = this.beacons.keys().next().value;
        if (oldest !== undefined) this.beacons.delete(oldest);
        this.beaconDropped++;
      }
      t = { first: ms, starts: new Float64Array(BEACON_STARTS), n: 0, counted: -1 };
      this.beacons.set(id, t);
    } else if (ms - t.first > this.options.beacon_track_ms) {
      this.beacons.delete(id);
      return;
    }
    t.starts[t.n % BEACON_STARTS] = ms;
    t.n++;
    if (t.n < BEACON_STARTS || t.counted === this.curStart) return;
    // The last BEACON_STARTS starts in order: ring positions n, n+1, … (mod BEACON_STARTS).
    let sum = 0;
    let sum2 = 0;
    let prev = t.starts[t.n % BEACON_STARTS]!;
    for (let i = 1; i < BEACON_STARTS; i++) {
      const cur = t.starts[(t.n + i) % BEACON_STARTS]!;
      const d = cur - prev;
      sum += d;
      sum2 += d * d;
      prev = cur;
    }
    const k = BEACON_STARTS - 1;
    const mean = sum / k;
    const sd = Math.sqrt(Math.max(0, sum2 / k - mean * mean));
    if (mean >= BEACON_MIN_MS && mean <= BEACON_MAX_MS && sd <= BEACON_MAX_CV * mean) {
      this.acc[b + BEACON]!++;
      t.counted = this.curStart;
    }
  }

  /** Drops tracks past `beacon_track_ms` (at window close; the map is in first-contact order). */
  private expireBeacons(nowMs: number): void {
    const limit = nowMs - this.options.beacon_track_ms;
    for (const [id, t] of this.beacons) {
      if (t.first >= limit) break;
      this.beacons.delete(id);
    }
  }

  /** Shannon entropy in bits per character of the leftmost label of `name` (0 for an empty label). */
  private labelEntropy(name: string): number {
    let n = name.indexOf('.');
    if (n < 0) n = name.length;
    if (n === 0) return 0;
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
    return h;
  }

  private close(): void {
    const start = this.curStart;
    const n = this.nActive;
    this.nActive = 0;
    const overflow = this.overflowInWindow;
    this.overflowInWindow = 0;
    const loss = this.lossNoted ? (this.lossSeen > 0 ? Math.min(1, this.lossDropped / this.lossSeen) : 0) : undefined;
    this.lossDropped = 0;
    this.lossSeen = 0;
    if (this.rankedIds !== this.nIds) this.rerank();
    const order = this.active.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = this.rank[order[i]!]!;
    order.sort();
    for (let i = 0; i < n; i++) order[i] = this.byRank[order[i]!]!;
    const windowStart = start / 1000;
    const windowEnd = (start + this.windowMs) / 1000;
    const sensorId = this.options.sensor_id;
    const runId = this.options.run_id;
    for (let i = 0; i < n; i++) {
      const h = order[i]!;
      const b = h * STRIDE;
      this.windowsEmitted++;
      // Identity changes the inventory noted for the device in this window (its packets' learning ran before the close).
      const identity = this.directory.takeIdentityChanges?.(h);
      const w: FeatureWindow = {
        schema_version: FEATURE_WINDOW_SCHEMA_VERSION,
        feature_schema_version: FEATURE_SCHEMA_VERSION,
        device_id: this.ids[h]!,
        sensor_id: sensorId,
        run_id: runId,
        window_start: windowStart,
        window_end: windowEnd,
        values: featureValues(this.acc, b, this.dnsNames[h]?.size ?? 0, overflow, identity?.count ?? 0),
        new_peers: this.newPeerTexts(h, this.acc[b + NEW_PEER_LIST]!),
        new_dst_ports: this.newPorts(h, this.acc[b + NEW_PORT_LIST]!),
      };
      if (loss !== undefined) w.capture_loss = loss;
      if (identity !== undefined) w.identity_changes = identity.changes;
      this.onWindow(w);
      this.winStart[h] = -1;
      const names = this.dnsNames[h];
      if (names !== undefined && names.size > 0) names.clear();
    }
    this.winPeers.nextGeneration();
    this.winPorts.nextGeneration();
    if (this.beacons.size > 0) this.expireBeacons(start + this.windowMs);
  }

  private newPorts(h: number, n: number): number[] {
    if (n === 0) return [];
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.newPortList[h * EXPLAIN_MAX + i]!;
    return out;
  }

  private rerank(): void {
    const n = this.ids.length;
    const handles: number[] = [];
    for (let h = 0; h < n; h++) if (this.ids[h] !== undefined) handles.push(h);
    handles.sort((a, b) => {
      const x = this.ids[a]!;
      const y = this.ids[b]!;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    this.rank = new Int32Array(n);
    this.byRank = new Int32Array(handles.length);
    for (let r = 0; r < handles.length; r++) {
      this.rank[handles[r]!] = r;
      this.byRank[r] = handles[r]!;
    }
    this.rankedIds = this.nIds;
  }

  /** Text of the device's first new peers of the window (made here, not per packet). */
  private newPeerTexts(h: number, n: number): string[] {
    if (n === 0) return [];
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const j = h * EXPLAIN_MAX + i;
      const key = this.newPeerKeys[j]!;
      out[i] = key < 0x100000000 ? formatIpv4(key) : formatIpv6(this.newPeer6.subarray(j * 4, j * 4 + 4));
    }
    return out;
  }
}

/** The vector in FEATURE_SCHEMA order, from the device's row `b` of `a`; every index written (a test checks). */
/** Welford's running mean/variance of x at a[n] (count), a[n + 1] (mean), a[n + 2] (sum of squared deviations). */
function welford(a: Float64Array, n: number, x: number): void {
  const count = a[n]! + 1;
  a[n] = count;
  const mean0 = a[n + 1]!;
  const d = x - mean0;
  const mean = mean0 + d / count;
  a[n + 1] = mean;
  a[n + 2]! += d * (x - mean);
}

function featureValues(a: Float64Array, b: number, dnsNames: number, overflow: number, identityChanges: number): number[] {
  const v = VALUES_TEMPLATE.slice();
  const pktsOut = a[b + PKTS_OUT]!;
  const pktsIn = a[b + PKTS_IN]!;
  const pkts = pktsOut + pktsIn;
  const sizeN = a[b + SIZE_N]!;
  const iatN = a[b + IAT_N]!;
  const dnsQueries = a[b + DNS_QUERIES]!;
  v[IX.pkts_out] = pktsOut;
  v[IX.pkts_in] = pktsIn;
  v[IX.bytes_out] = a[b + BYTES_OUT]!;
  v[IX.bytes_in] = a[b + BYTES_IN]!;
  v[IX.pkt_size_mean_bytes] = sizeN > 0 ? a[b + SIZE_MEAN]! : 0;
  v[IX.pkt_size_std_bytes] = sizeN >= 2 ? Math.sqrt(a[b + SIZE_M2]! / sizeN) : 0;
  v[IX.iat_mean_ms] = iatN >= 1 ? a[b + IAT_MEAN]! : 0;
  v[IX.iat_std_ms] = iatN >= 2 ? Math.sqrt(a[b + IAT_M2]! / iatN) : 0;
  v[IX.flows_started] = a[b + FLOWS_STARTED]!;
  v[IX.flows_accepted] = a[b + FLOWS_ACCEPTED]!;
  v[IX.peers_internal] = a[b + PEERS_INTERNAL]!;
  v[IX.peers_external] = a[b + PEERS_EXTERNAL]!;
  v[IX.dst_ports] = a[b + WIN_PORTS]!;
  v[IX.new_peers] = a[b + NEW_PEERS]!;
  v[IX.new_dst_ports] = a[b + NEW_PORTS]!;
  v[IX.tcp_syn] = a[b + SYN]!;
  v[IX.tcp_synack_in] = a[b + SYNACK_IN]!;
  v[IX.tcp_rst] = a[b + RST]!;
  v[IX.tcp_fin] = a[b + FIN]!;
  v[IX.tcp_rejected] = a[b + REJECTED]!;
  v[IX.tcp_half_open] = a[b + HALF_OPEN]!;
  v[IX.icmp_pkts] = a[b + ICMP]!;
  v[IX.arp_pkts] = a[b + ARP]!;
  v[IX.arp_spoof_replies] = a[b + ARP_SPOOF]!;
  v[IX.dns_queries] = dnsQueries;
  v[IX.dns_unique_names] = dnsNames;
  v[IX.dns_name_entropy_bits] = dnsQueries > 0 ? a[b + DNS_ENTROPY_SUM]! / dnsQueries : 0;
  v[IX.dns_name_len_chars] = dnsQueries > 0 ? a[b + DNS_LEN_SUM]! / dnsQueries : 0;
  v[IX.frac_tcp] = pkts > 0 ? a[b + TCP]! / pkts : 0;
  v[IX.frac_udp] = pkts > 0 ? a[b + UDP]! / pkts : 0;
  v[IX.frac_other] = pkts > 0 ? a[b + OTHER]! / pkts : 0;
  v[IX.hl7_msgs] = a[b + HL7]!;
  v[IX.dicom_pdus] = a[b + DICOM]!;
  v[IX.mqtt_msgs] = a[b + MQTT]!;
  v[IX.new_peers_internal] = a[b + NEW_PEERS_INTERNAL]!;
  v[IX.lateral_new_peer_conns] = a[b + LATERAL]!;
  v[IX.login_conns_in] = a[b + LOGIN_IN]!;
  v[IX.login_conns_out] = a[b + LOGIN_OUT]!;
  v[IX.beacon_peers] = a[b + BEACON]!;
  v[IX.sensor_overflow] = overflow;
  v[IX.identity_changes] = identityChanges;
  // Rounded to 1e-6 in place (a loop, not a call per value: a double returned from a call may be boxed). An integer
  // below 2^32 is its own rounding (x·1e6 < 2^53 is exact), so counts skip the division.
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x !== Math.floor(x) || x >= 4294967296) v[i] = Math.round(x * 1e6) / 1e6;
  }
  return v;
}

function fold6(w: Uint32Array): number {
  return (w[0]! ^ w[1]! ^ w[2]! ^ w[3]!) >>> 0;
}
