/**
 * Classic pcap and pcapng encoders (used by tests, the benchmark input generator and the simulator to write
 * captures). Not on the capture hot path.
 */
export interface FrameToWrite {
  ts_sec: number;
  ts_nsec: number;
  data: Buffer;
  /** Bytes on the wire; defaults to data.length. */
  orig_len?: number;
  /** pcapng interface index (default 0). */
  interface_id?: number;
}

export interface PcapHeaderOptions {
  linktype: number;
  snaplen?: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
}

export function pcapFileHeader(o: PcapHeaderOptions): Buffer {
  const h = Buffer.alloc(24);
  const w32 = (v: number, at: number): number => (o.bigEndian === true ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at));
  const w16 = (v: number, at: number): number => (o.bigEndian === true ? h.writeUInt16BE(v, at) : h.writeUInt16LE(v, at));
  w32(o.nanosecond === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(o.snaplen ?? 262144, 16);
  w32(o.linktype, 20);
  return h;
}

export function pcapRecord(f: FrameToWrite, o: PcapHeaderOptions): Buffer {
  const r = Buffer.alloc(16 + f.data.length);
  const w32 = (v: number, at: number): number => (o.bigEndian === true ? r.writeUInt32BE(v, at) : r.writeUInt32LE(v, at));
  w32(f.ts_sec, 0);
  w32(o.nanosecond === true ? f.ts_nsec : Math.floor(f.ts_nsec / 1000), 4);
  w32(f.data.length, 8);
  w32(f.orig_len ?? f.data.length, 12);
  f.data.copy(r, 16);
  return r;
}

export function encodePcap(frames: FrameToWrite[], o: PcapHeaderOptions): Buffer {
  return Buffer.concat([pcapFileHeader(o), ...frames.map((f) => pcapRecord(f, o))]);
}

// ---- pcapng ----------------------------------------------------------------------------------------------------

export interface PcapngInterface {
  linktype: number;
  snaplen?: number;
  /** if_tsresol byte (default 6 = µs). */
  tsresol?: number;
}

function block(type: number, body: Buffer, be: boolean): Buffer {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const b = Buffer.alloc(len);
  const w32 = (v: number, at: number): number => (be ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  w32(type, 0);
  w32(len, 4);
  body.copy(b, 8);
  w32(len, len - 4);
  return b;
}

export function pcapngSectionHeader(be = false): Buffer {
  const body = Buffer.alloc(16);
  if (be) {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
    body.writeUInt16BE(0, 6);
  } else {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
    body.writeUInt16LE(0, 6);
  }
  body.fill(0xff, 8, 16); // section length unknown
  return block(0x0a0d0d0a, body, be);
}

export function pcapngInterfaceBlock(i: PcapngInterface, be = false): Buffer {
  const opts = i.tsresol === undefined ? Buffer.alloc(0) : Buffer.alloc(12);
  if (i.tsresol !== undefined) {
    if (be) {
      opts.writeUInt16BE(9, 0);
      opts.writeUInt16BE(1, 2);
    } else {
      opts.writeUInt16LE(9, 0);
      opts.writeUInt16LE(1, 2);
    }
    opts[4] = i.tsresol;
    // 3 bytes padding, then opt_endofopt (code 0, length 0)
  }
  const body = Buffer.alloc(8 + opts.length);
  if (be) {
    body.writeUInt16BE(i.linktype, 0);
    body.writeUInt32BE(i.snaplen ?? 0, 4);
  } else {
    body.writeUInt16LE(i.linktype, 0);
    body.writeUInt32LE(i.snaplen ?? 0, 4);
  }
  opts.copy(body, 8);
  return block(1, body, be);
}

/** Enhanced Packet Block; the timestamp is written in the interface's unit (10^-tsresol s). */
export function pcapngEnhancedPacket(f: FrameToWrite, tsresol = 6, be = false): Buffer {
  const body = Buffer.alloc(20 + f.data.length);
  const units = BigInt(f.ts_sec) * 10n ** BigInt(tsresol) + (BigInt(f.ts_nsec) * 10n ** BigInt(tsresol)) / 1000000000n;
  const w32 = (v: number, at: number): number => (be ? body.writeUInt32BE(v, at) : body.writeUInt32LE(v, at));
  w32(f.interface_id ?? 0, 0);
  w32(Number(units >> 32n), 4);
  w32(Number(units & 0xffffffffn), 8);
  w32(f.data.length, 12);
  w32(f.orig_len ?? f.data.length, 16);
  f.data.copy(body, 20);
  return block(6, body, be);
}

export function pcapngSimplePacket(f: FrameToWrite, be = false): Buffer {
  const body = Buffer.alloc(4 + f.data.length);
  if (be) body.writeUInt32BE(f.orig_len ?? f.data.length, 0);
  else body.writeUInt32LE(f.orig_len ?? f.data.length, 0);
  f.data.copy(body, 4);
  return block(3, body, be);
}

/** Any other block type (for skip tests), e.g. 0x00000005 Interface Statistics. */
export function pcapngOpaqueBlock(type: number, body: Buffer, be = false): Buffer {
  return block(type, body, be);
}
