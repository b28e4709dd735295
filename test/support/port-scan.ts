/**
 * A crafted vertical port scan the behavioural rules catch (detect.behaviour.port_scan: ≥ 15 destination ports in
 * one window with SYNs): 10.99.0.1 (02:aa:bb:cc:00:01) resolves 10.99.0.2 (02:aa:bb:cc:00:02) by ARP, opens one
 * real connection to it (so both are devices), then sends a SYN to each of `ports` ports, every one answered by a
 * RST. Frames 1 ms apart from `t0` (seconds since the epoch).
 */
import type * as W from '../../src/capture/pcap-file/writer.js';
import { TcpFlag } from '../../src/records/packet.js';
import * as B from './packet-builder.js';

export const SCANNER_MAC = 0x02aabbcc0001;
export const TARGET_MAC = 0x02aabbcc0002;
/** A BPF filter that passes the scan's frames (both directions) and nothing else. */
export const SCAN_BPF = 'ether host 02:aa:bb:cc:00:01';

export function portScanFrames(t0: number, ports = 40): W.FrameToWrite[] {
  const a = '10.99.0.1';
  const b = '10.99.0.2';
  const out = (payload: Buffer): Buffer => B.eth(TARGET_MAC, SCANNER_MAC, 0x0800, B.ipv4({ src: a, dst: b, proto: 6, payload }));
  const back = (payload: Buffer): Buffer => B.eth(SCANNER_MAC, TARGET_MAC, 0x0800, B.ipv4({ src: b, dst: a, proto: 6, payload }));
  const frames: Buffer[] = [
    B.eth(0xffffffffffff, SCANNER_MAC, 0x0806, B.arp(1, SCANNER_MAC, a, 0, b)),
    B.eth(SCANNER_MAC, TARGET_MAC, 0x0806, B.arp(2, TARGET_MAC, b, SCANNER_MAC, a)),
    out(B.tcp({ sport: 40001, dport: 2575, flags: TcpFlag.SYN, seq: 1, mss: 1460 })),
    back(B.tcp({ sport: 2575, dport: 40001, flags: TcpFlag.SYN | TcpFlag.ACK, seq: 9, ack: 2, mss: 1460 })),
    out(B.tcp({ sport: 40001, dport: 2575, flags: TcpFlag.ACK, seq: 2, ack: 10 })),
  ];
  for (let i = 0; i < ports; i++) {
    const port = 20 + i;
    frames.push(out(B.tcp({ sport: 50000 + i, dport: port, flags: TcpFlag.SYN, seq: 100 + i })));
    frames.push(back(B.tcp({ sport: port, dport: 50000 + i, flags: TcpFlag.RST | TcpFlag.ACK, seq: 0, ack: 101 + i })));
  }
  const ms0 = Math.round(t0 * 1000);
  return frames.map((data, i) => {
    const ms = ms0 + i;
    return { ts_sec: Math.floor(ms / 1000), ts_nsec: (ms % 1000) * 1e6, data };
  });
}
