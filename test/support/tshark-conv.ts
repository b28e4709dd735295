/**
 * `tshark -q -z conv,tcp -z conv,udp` as a reference for the flow table: parse its tables and compare them with
 * our flow records, conversation by conversation (frames exactly; bytes exactly when tshark prints them in bytes,
 * within its rounding when it prints kB/MB).
 */
import { execFileSync } from 'node:child_process';
import type { FlowRecord } from '../../src/records/flow.js';

export interface ConvSide {
  frames: number;
  /** Bytes range implied by tshark's text: exact when printed as `N bytes`, else [value − unit, value + unit]. */
  bytesMin: number;
  bytesMax: number;
}

export interface Conversation {
  proto: 'tcp' | 'udp';
  /** `addr:port` of the two sides as tshark prints them (A on the left). */
  a: string;
  b: string;
  /** Frames/bytes sent by A (the "->" column) and by B (the "<-" column). */
  fromA: ConvSide;
  fromB: ConvSide;
}

const UNITS: Record<string, number> = { bytes: 1, kB: 1000, MB: 1_000_000, GB: 1_000_000_000 };

function side(frames: string, value: string, unit: string): ConvSide {
  const mult = UNITS[unit];
  if (mult === undefined) throw new Error(`unknown tshark unit ${unit}`);
  const v = Number(value.replace(/,/g, ''));
  if (mult === 1) return { frames: Number(frames), bytesMin: v, bytesMax: v };
  return { frames: Number(frames), bytesMin: (v - 1) * mult, bytesMax: (v + 1) * mult };
}

/** Parses the conversation tables in tshark's `-z conv,…` output. */
export function parseConversations(text: string): Conversation[] {
  const out: Conversation[] = [];
  let proto: 'tcp' | 'udp' | undefined;
  const row =
    /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s/;
  for (const line of text.split('\n')) {
    if (line.startsWith('TCP Conversations')) proto = 'tcp';
    else if (line.startsWith('UDP Conversations')) proto = 'udp';
    const m = row.exec(line);
    if (m === null || proto === undefined) continue;
    // Columns: "<-" (frames/bytes towards A, i.e. sent by B), then "->" (sent by A), then total.
    out.push({ proto, a: m[1]!, b: m[2]!, fromB: side(m[3]!, m[4]!, m[5]!), fromA: side(m[6]!, m[7]!, m[8]!) });
  }
  return out;
}

export function tsharkConversations(file: string): Conversation[] {
  const text = execFileSync('tshark', ['-n', '-r', file, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  });
  return parseConversations(text);
}

/** tshark prints endpoints as `address:port` (IPv6 too, without brackets). */
function endpoint(h: string, p: number): string {
  return `${h}:${p}`;
}

/** Our flows aggregated per unordered endpoint pair and protocol: frames and frame bytes sent by each endpoint. */
export function aggregateFlows(records: readonly FlowRecord[]): Map<string, Map<string, { frames: number; bytes: number }>> {
  const m = new Map<string, Map<string, { frames: number; bytes: number }>>();
  for (const r of records) {
    if (r.proto !== 'tcp' && r.proto !== 'udp') continue;
    const o = endpoint(r.orig_h, r.orig_p);
    const s = endpoint(r.resp_h, r.resp_p);
    const key = `${r.proto} ${[o, s].sort().join(' ')}`;
    let e = m.get(key);
    if (e === undefined) {
      e = new Map();
      m.set(key, e);
    }
    const add = (ep: string, frames: number, bytes: number): void => {
      const cur = e.get(ep) ?? { frames: 0, bytes: 0 };
      cur.frames += frames;
      cur.bytes += bytes;
      e.set(ep, cur);
    };
    add(o, r.orig_pkts, r.orig_frame_bytes);
    add(s, r.resp_pkts, r.resp_frame_bytes);
  }
  return m;
}

/** Differences between tshark's conversations and our flows, one line each (empty when they agree). */
export function compareConversations(convs: readonly Conversation[], records: readonly FlowRecord[]): string[] {
  const ours = aggregateFlows(records);
  // tshark may list the same pair twice (port reuse → separate TCP streams): sum them.
  const theirs = new Map<string, Map<string, ConvSide>>();
  for (const c of convs) {
    const key = `${c.proto} ${[c.a, c.b].sort().join(' ')}`;
    const e = theirs.get(key) ?? new Map<string, ConvSide>();
    for (const [ep, s] of [
      [c.a, c.fromA],
      [c.b, c.fromB],
    ] as const) {
      const cur = e.get(ep) ?? { frames: 0, bytesMin: 0, bytesMax: 0 };
      e.set(ep, { frames: cur.frames + s.frames, bytesMin: cur.bytesMin + s.bytesMin, bytesMax: cur.bytesMax + s.bytesMax });
    }
    theirs.set(key, e);
  }
  const diffs: string[] = [];
  for (const [key, e] of theirs) {
    const o = ours.get(key);
    if (o === undefined) {
      diffs.push(`${key}: in tshark, not in our flows`);
      continue;
    }
    for (const [ep, s] of e) {
      const mine = o.get(ep) ?? { frames: 0, bytes: 0 };
      if (mine.frames !== s.frames) diffs.push(`${key}: ${ep} sent ${mine.frames} frames, tshark ${s.frames}`);
      if (mine.bytes < s.bytesMin || mine.bytes > s.bytesMax)
        diffs.push(`${key}: ${ep} sent ${mine.bytes} bytes, tshark ${s.bytesMin === s.bytesMax ? s.bytesMin : `${s.bytesMin}..${s.bytesMax}`}`);
    }
  }
  for (const key of ours.keys()) if (!theirs.has(key)) diffs.push(`${key}: in our flows, not in tshark`);
  return diffs;
}
