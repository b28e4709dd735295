/** Test helper: decode a whole capture file into plain rows (copies, so they outlive the reused packet). */
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import type { CaptureCountersSnapshot } from '../../src/capture/source.js';
import type { DecodeCountersSnapshot } from '../../src/decode/counters.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { newDecodedPacket, type DecodedPacket } from '../../src/records/packet.js';

export interface DecodedFile {
  packets: DecodedPacket[];
  capture: CaptureCountersSnapshot;
  decode: DecodeCountersSnapshot;
}

export function copyPacket(p: DecodedPacket): DecodedPacket {
  return {
    ...p,
    ip6_src: Uint32Array.from(p.ip6_src),
    ip6_dst: Uint32Array.from(p.ip6_dst),
    app_meta: p.app_meta === undefined ? undefined : { ...p.app_meta },
  };
}

export async function decodeFile(path: string): Promise<DecodedFile> {
  const source = await readCapture(path);
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const packets: DecodedPacket[] = [];
  const capture = await source.forEachFrame((frame) => {
    decoder.decode(frame, p);
    packets.push(copyPacket(p));
  });
  return { packets, capture, decode: decoder.counters.snapshot() };
}
