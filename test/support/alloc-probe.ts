/**
 * Child-process probe for the "no allocation per packet" test: decodes a varied set of crafted frames millions of
 * times (L2–L4, application metadata off) between two markers. Run with `node --trace-gc`: any per-packet
 * allocation would fill the young generation and show as Scavenge lines between the markers.
 */
import { PacketDecoder } from '../../src/decode/decoder.js';
import { LinkType, TcpFlag, newDecodedPacket, type CapturedFrame } from '../../src/records/packet.js';
import * as B from './packet-builder.js';

const v4 = (proto: number, payload: Buffer): Buffer => B.ipv4({ src: '10.0.0.1', dst: '192.168.200.250', proto, payload });
const frames = [
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x0800, v4(6, B.tcp({ sport: 50000, dport: 443, flags: TcpFlag.SYN, seq: 0xfffffff0, ack: 0xdeadbeef, mss: 1460 }))),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x0800, v4(6, B.tcp({ sport: 50000, dport: 2575, flags: TcpFlag.ACK, payload: Buffer.alloc(100) })), [100]),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x0800, v4(17, B.udp(5353, 53, Buffer.alloc(40))), [100, 200], 0x88a8),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x86dd, B.ipv6([0xfe800000, 0, 0, 1], [0xff020000, 0, 0, 0xfb], 0, Buffer.concat([B.ipv6Ext8(17), B.udp(1, 2, Buffer.alloc(30))]))),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x86dd, B.ipv6([0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2], 6, B.tcp({ sport: 1, dport: 2, flags: TcpFlag.ACK }))),
  B.eth(0xffffffffffff, 0x02aabbccddee, 0x0806, B.arp(1, 0x02aabbccddee, '10.0.0.1', 0, '10.0.0.2')),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x0800, v4(1, B.icmp(8, 0, Buffer.alloc(56)))),
  B.eth(0xf2aabbccddee, 0x02aabbccddee, 0x0800, B.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, ihlWords: 3, payload: Buffer.alloc(20) })),
];
// All frames in one buffer, as the file reader hands them out.
const buf = Buffer.concat(frames);
const offsets = new Int32Array(frames.length);
const lengths = new Int32Array(frames.length);
let at = 0;
frames.forEach((f, i) => {
  offsets[i] = at;
  lengths[i] = f.length;
  at += f.length;
});
const frame: CapturedFrame = { ts_sec: 1, ts_nsec: 2, cap_len: 0, orig_len: 0, linktype: LinkType.ETHERNET, interface_id: 0, data: buf, data_offset: 0 };
const decoder = new PacketDecoder({ app_metadata: false });
const p = newDecodedPacket();
const iterations = Number(process.argv[2] ?? 3000000);
let sum = 0;
function run(n: number): void {
  // A local 32-bit accumulator: a module-level number that outgrows a small integer would itself be boxed on every
  // update (measured: that alone showed up as Scavenges), hiding what the decoder does.
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const k = i & 7;
    frame.data_offset = offsets[k] ?? 0;
    frame.cap_len = lengths[k] ?? 0;
    frame.orig_len = frame.cap_len;
    decoder.decode(frame, p);
    acc = (acc + p.src_port) | 0;
  }
  sum = (sum + acc) | 0;
}
run(300000); // warm up: JIT compilation itself allocates
console.log('@@loop-start');
run(iterations);
console.log('@@loop-end');
console.log(`@@sum ${sum} frames ${decoder.counters.frames}`);
