import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowTable } from '../../src/flows/flow-table.js';
import type { FlowTableOptions } from '../../src/flows/config.js';
import { FlowJsonlWriter } from '../../src/sinks/file/flow-jsonl.js';
import type { FlowEnd, FlowRecord } from '../../src/records/flow.js';
import type { DecodedPacket } from '../../src/records/packet.js';
import { ConfigError } from '../../src/errors.js';
import { ACK, FINACK, PSHACK, RST, RSTACK, SYN, SYNACK, arp, handshake, icmpEcho, seqAck, tcp, udp } from '../support/packets.js';

const C = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 40000 };
const S = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 80 };

function run(packets: DecodedPacket[], options: Partial<FlowTableOptions> = {}): { records: FlowRecord[]; table: FlowTable } {
  const records: FlowRecord[] = [];
  const table = new FlowTable(options, { onRecord: (r) => records.push(r) });
  for (const p of packets) table.process(p);
  table.flush();
  return { records, table };
}

/** One TCP conversation, client C → server S, returning its single record. */
function conn(steps: [from: 'c' | 's', flags: number, payload?: number][]): FlowRecord {
  const pkts = steps.map(([from, flags, payload], i) =>
    from === 'c' ? tcp(100 + i * 0.01, C, S, flags, payload ?? 0) : tcp(100 + i * 0.01, S, C, flags, payload ?? 0),
  );
  const { records } = run(pkts);
  assert.equal(records.length, 1, 'one flow');
  return records[0]!;
}

describe('FlowTable: TCP conn_state and history (Zeek rules)', () => {
  it('normal session with FIN both ways is SF, history ShADdFf, counts per direction', () => {
    const r = conn([
      ['c', SYN],
      ['s', SYNACK],
      ['c', ACK],
      ['c', PSHACK, 100],
      ['s', PSHACK, 300],
      ['c', FINACK],
      ['s', FINACK],
      ['c', ACK],
    ]);
    assert.equal(r.conn_state, 'SF');
    assert.equal(r.history, 'ShADdFf');
    assert.equal(r.orig_h, '10.0.0.1');
    assert.equal(r.orig_p, 40000);
    assert.equal(r.resp_h, '10.0.0.2');
    assert.equal(r.resp_p, 80);
    assert.equal(r.proto, 'tcp');
    assert.equal(r.orig_pkts, 5);
    assert.equal(r.resp_pkts, 3);
    assert.equal(r.orig_bytes, 100);
    assert.equal(r.resp_bytes, 300);
    // IP bytes: 40 per segment + payload. orig: 5×40 + 100; resp: 3×40 + 300.
    assert.equal(r.orig_ip_bytes, 300);
    assert.equal(r.resp_ip_bytes, 420);
    // Frames: max(60, 14 + ip_len): orig 4×60 + 154; resp 2×60 + 354.
    assert.equal(r.orig_frame_bytes, 394);
    assert.equal(r.resp_frame_bytes, 474);
    assert.equal(r.duration, 0.07);
    assert.equal(r.ts, 100);
    assert.equal(r.orig_l2_addr, '02:00:00:00:00:01');
    assert.equal(r.resp_l2_addr, '02:00:00:00:00:02');
    assert.equal(r.end_reason, 'capture_end');
    assert.match(r.uid, /^C[0-9a-z]{14}$/);
  });

  it('SYN answered by RST-ACK is REJ (history Sr)', () => {
    const r = conn([
      ['c', SYN],
      ['s', RSTACK],
    ]);
    assert.equal(r.conn_state, 'REJ');
    assert.equal(r.history, 'Sr');
  });

  it('unanswered SYN (retransmitted) is S0', () => {
    const r = conn([
      ['c', SYN],
      ['c', SYN],
    ]);
    assert.equal(r.conn_state, 'S0');
    assert.equal(r.history, 'S');
    assert.equal(r.orig_pkts, 2);
    assert.equal(r.resp_pkts, 0);
  });

  it('handshake only is S1; orig FIN only is S2; resp FIN only is S3', () => {
    const hs: [('c' | 's'), number][] = [
      ['c', SYN],
      ['s', SYNACK],
      ['c', ACK],
    ];
    assert.equal(conn(hs).conn_state, 'S1');
    assert.equal(conn([...hs, ['c', FINACK]]).conn_state, 'S2');
    assert.equal(conn([...hs, ['s', FINACK]]).conn_state, 'S3');
  });

  it('established then originator RST is RSTO; responder RST is RSTR', () => {
    const hs: [('c' | 's'), number][] = [
      ['c', SYN],
      ['s', SYNACK],
      ['c', ACK],
    ];
    const o = conn([...hs, ['c', RST]]);
    assert.equal(o.conn_state, 'RSTO');
    assert.equal(o.history, 'ShAR');
    const r = conn([...hs, ['s', RST]]);
    assert.equal(r.conn_state, 'RSTR');
    assert.equal(r.history, 'ShAr');
  });

  it('SYN then RST from the originator, no answer, is RSTOS0; SYN then FIN is SH', () => {
    assert.equal(
      conn([
        ['c', SYN],
        ['c', RST],
      ]).conn_state,
      'RSTOS0',
    );
    const sh = conn([
      ['c', SYN],
      ['c', FINACK],
    ]);
    assert.equal(sh.conn_state, 'SH');
    assert.equal(sh.history, 'SF');
  });

  it('midstream traffic without SYN is OTH with the first sender as originator', () => {
    const r = conn([
      ['c', PSHACK, 10],
      ['s', ACK],
      ['c', PSHACK, 10],
    ]);
    assert.equal(r.conn_state, 'OTH');
    assert.equal(r.history, 'Da');
  });

  it('a first SYN-ACK flips the direction (^): the SYN-ACK receiver is the originator', () => {
    const r = conn([
      ['s', SYNACK],
      ['c', ACK],
      ['s', PSHACK, 5],
    ]);
    assert.equal(r.orig_h, '10.0.0.1');
    assert.equal(r.orig_p, 40000);
    assert.equal(r.resp_p, 80);
    assert.equal(r.history, '^hAd');
    assert.equal(r.orig_pkts, 1);
    assert.equal(r.resp_pkts, 2);
  });

  it('reports the packet that rejects a connection attempt, once', () => {
    const table = new FlowTable();
    assert.equal(table.process(tcp(1, C, S, SYN)).rejected, false);
    const u = table.process(tcp(1.1, S, C, RSTACK));
    assert.equal(u.rejected, true);
    assert.equal(u.from_orig, false);
    assert.equal(table.process(tcp(1.2, S, C, RSTACK)).rejected, false);
  });
});

describe('FlowTable: device evidence flags (handshake, answered)', () => {
  /** The (handshake, answered) flags of each packet, in order. */
  const flags = (packets: DecodedPacket[]): string[] => {
    const table = new FlowTable();
    return packets.map((p) => {
      const u = table.process(p);
      return `${u.handshake ? 'H' : '-'}${u.answered ? 'A' : '-'}`;
    });
  };

  it('a handshake is complete on the originator ACK that acknowledges the SYN-ACK sequence number + 1', () => {
    assert.deepEqual(flags([...handshake(1, C, S), tcp(1.1, C, S, PSHACK, 10), tcp(1.2, S, C, ACK)]), ['--', '-A', 'H-', '--', '--']);
    // A blind ACK (wrong acknowledgement number) completes nothing; a SYN-ACK alone neither (a flood's victim).
    const [syn, synack] = handshake(2, C, S);
    assert.deepEqual(flags([syn!, synack!, seqAck(tcp(2.1, C, S, ACK), 1001, 777)]), ['--', '-A', '--']);
    assert.deepEqual(flags([syn!, synack!, seqAck(tcp(2.1, S, C, SYNACK), 5000, 1001)]), ['--', '-A', '--']);
  });

  it('answered: the first packet of the side that did not send first, not a reset; UDP, ICMP, ARP, mid-stream and flipped TCP', () => {
    assert.deepEqual(flags([tcp(1, C, S, SYN), tcp(1.1, S, C, RSTACK)]), ['--', '--']);
    assert.deepEqual(flags([udp(1, C, S, 10), udp(1.1, C, S, 10), udp(1.2, S, C, 10), udp(1.3, S, C, 10)]), ['--', '--', '-A', '--']);
    assert.deepEqual(flags([icmpEcho(1, C, S, false), icmpEcho(1.1, S, C, true)]), ['--', '-A']);
    assert.deepEqual(flags([arp(1, 1, C, S), arp(1.1, 2, S, C)]), ['--', '-A']);
    assert.deepEqual(flags([tcp(1, C, S, PSHACK, 10), tcp(1.1, S, C, ACK)]), ['--', '-A']);
    // Flipped on a first SYN-ACK: the client's answer to it counts; a reset does not.
    assert.deepEqual(flags([tcp(1, S, C, SYNACK), tcp(1.1, C, S, ACK)]), ['--', '-A']);
    assert.deepEqual(flags([tcp(1, S, C, SYNACK), tcp(1.1, C, S, RST), tcp(1.2, S, C, SYNACK)]), ['--', '--', '--']);
  });
});

describe('FlowTable: other kinds', () => {
  it('UDP both ways is one flow; ICMP echo request and reply share a flow; ARP is its own kind', () => {
    const dnsC = { ...C, port: 5353 };
    const dnsS = { ...S, port: 53 };
    const { records } = run([
      udp(1, dnsC, dnsS, 30),
      udp(1.01, dnsS, dnsC, 60),
      icmpEcho(2, C, S, false),
      icmpEcho(2.01, S, C, true),
      icmpEcho(3, C, S, false),
      arp(4, 1, C, { ip: '10.0.0.2' }),
      arp(4.01, 2, S, C),
    ]);
    const byProto = new Map(records.map((r) => [r.proto, r]));
    assert.equal(records.length, 3);
    const u = byProto.get('udp')!;
    assert.deepEqual([u.orig_pkts, u.resp_pkts, u.orig_bytes, u.resp_bytes, u.orig_p, u.resp_p], [1, 1, 30, 60, 5353, 53]);
    assert.equal(u.conn_state, 'OTH');
    const i = byProto.get('icmp')!;
    assert.deepEqual([i.orig_pkts, i.resp_pkts, i.orig_p, i.resp_p], [2, 1, 8, 0]);
    const a = byProto.get('arp')!;
    assert.deepEqual([a.orig_h, a.resp_h, a.orig_pkts, a.resp_pkts], ['10.0.0.1', '10.0.0.2', 1, 1]);
    assert.equal(a.orig_frame_bytes, 42);
  });

  it('frames that are neither IP nor ARP are no flow and are counted', () => {
    const table = new FlowTable();
    const p = tcp(1, C, S, SYN);
    p.ip_version = 0;
    p.proto = 0;
    assert.equal(table.process(p).flow, -1);
    assert.equal(table.counters().get('packets_no_flow'), 1);
  });
});

describe('FlowTable: timeouts on packet time', () => {
  it('UDP idle timeout (60 s) splits a conversation; the first ends idle_timeout', () => {
    const a = { ...C, port: 1000 };
    const b = { ...S, port: 2000 };
    const { records } = run([udp(0, a, b, 1), udp(59, a, b, 1), udp(120, a, b, 1)]);
    assert.deepEqual(
      records.map((r) => [r.ts, r.orig_pkts, r.end_reason]),
      [
        [0, 2, 'idle_timeout'],
        [120, 1, 'capture_end'],
      ],
    );
  });

  it('closed TCP flows end `closed` after tcp_closed_timeout_ms; unanswered SYNs after tcp_attempt_timeout_ms', () => {
    const { records } = run([
      tcp(0, C, S, SYN),
      tcp(0.1, S, C, RSTACK),
      tcp(1, { ...C, port: 40001 }, S, SYN),
      tcp(30, { ...C, port: 40002 }, S, SYN), // sweeps at t=30: both earlier flows are past their timeouts
    ]);
    assert.deepEqual(
      records.map((r) => [r.orig_p, r.conn_state, r.end_reason]),
      [
        [40001, 'S0', 'idle_timeout'],
        [40000, 'REJ', 'closed'],
        [40002, 'S0', 'capture_end'],
      ],
    );
  });

  it('active timeout writes a record and continues the flow with fresh counters and a new uid', () => {
    const a = { ...C, port: 1000 };
    const b = { ...S, port: 2000 };
    const pkts: DecodedPacket[] = [];
    for (let t = 0; t <= 100; t += 10) pkts.push(udp(t, a, b, 10));
    const { records } = run(pkts, { active_timeout_ms: 30_000 });
    // Packets at 0..100 every 10 s; a packet at ≥ first + 30 s starts a new segment: [0,10,20], [30,40,50], [60,70,80], [90,100].
    assert.deepEqual(
      records.map((r) => [r.ts, r.orig_pkts, r.end_reason]),
      [
        [0, 3, 'active_timeout'],
        [30, 3, 'active_timeout'],
        [60, 3, 'active_timeout'],
        [90, 2, 'capture_end'],
      ],
    );
    assert.equal(new Set(records.map((r) => r.uid)).size, 4);
  });

  it('the same packets give the same records (uids included)', () => {
    const pkts = () => [tcp(5, C, S, SYN), tcp(5.1, S, C, SYNACK), tcp(5.2, C, S, ACK), udp(6, C, S, 5)];
    assert.deepEqual(run(pkts()).records, run(pkts()).records);
  });

  it('rejects invalid options with the field named', () => {
    assert.throws(() => new FlowTable({ max_flows: 3 }), (e: unknown) => e instanceof ConfigError && e.field === 'flows.max_flows');
    assert.throws(() => new FlowTable({ bogus: 1 } as Partial<FlowTableOptions>), ConfigError);
  });
});

describe('FlowTable: cap and eviction policy', () => {
  it('a spoofed SYN flood evicts its own one-way flows, never the answered sessions', () => {
    const ends: FlowEnd[] = [];
    const records: FlowRecord[] = [];
    const table = new FlowTable({ max_flows: 16 }, { onEnd: (e) => ends.push({ ...e }), onRecord: (r) => records.push(r) });
    // 8 established sessions.
    for (let i = 0; i < 8; i++) {
      const c = { ...C, port: 50000 + i };
      table.process(tcp(1, c, S, SYN));
      table.process(tcp(1, S, c, SYNACK));
      table.process(tcp(1, c, S, ACK));
    }
    // 100 SYNs from spoofed sources within one second.
    let overflow = 0;
    for (let i = 0; i < 100; i++) {
      const src = { ip: `172.16.${i >> 8}.${i & 255}`, port: 1024 + i };
      overflow += table.process(tcp(2 + i / 1000, src, S, SYN)).overflow;
    }
    assert.equal(table.size, 16);
    // 8 free slots took the first 8 SYNs; each of the other 92 evicted the oldest one-way flow.
    assert.equal(overflow, 92);
    assert.equal(table.evictions, 92);
    const evicted = records.filter((r) => r.end_reason === 'evicted');
    assert.equal(evicted.length, 92);
    assert.ok(evicted.every((r) => r.conn_state === 'S0' && r.orig_h.startsWith('172.16.')));
    // Oldest first: the first evicted is the first spoofed source.
    assert.equal(evicted[0]!.orig_h, '172.16.0.0');
    table.flush();
    const sessions = records.filter((r) => r.conn_state === 'S1');
    assert.equal(sessions.length, 8);
    assert.ok(sessions.every((r) => r.end_reason === 'capture_end'));
    assert.equal(ends.length, 108);
  });

  it('with only answered flows in a full table, the longest-idle flow is evicted', () => {
    const records: FlowRecord[] = [];
    const table = new FlowTable({ max_flows: 16 }, { onRecord: (r) => records.push(r) });
    for (let i = 0; i < 16; i++) {
      const a = { ...C, port: 1000 + i };
      table.process(udp(i, a, S, 1));
      table.process(udp(i, S, a, 1));
    }
    table.process(udp(5.5, { ...C, port: 1003 }, S, 1)); // refresh port 1003 (later than 1000..1002, 1004, 1005)
    table.process(udp(20, { ...C, port: 2000 }, S, 1));
    assert.equal(records.length, 1);
    assert.equal(records[0]!.orig_p, 1000);
    assert.equal(records[0]!.end_reason, 'evicted');
  });

  it('hash table stays exact under heavy churn (compared with a string-keyed reference)', () => {
    // Random UDP packets over 600 endpoints pairs with a small table: flows are created, evicted and expired.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const records: FlowRecord[] = [];
    const table = new FlowTable({ max_flows: 256, udp_idle_timeout_ms: 2000 }, { onRecord: (r) => records.push(r) });
    const sent = new Map<string, number>();
    let t = 0;
    for (let i = 0; i < 20000; i++) {
      t += rand(3) / 100;
      const a = rand(40);
      const b = rand(15);
      const fwd = rand(2) === 0;
      const x = { ip: `10.1.0.${a}`, port: 1000 + a };
      const y = { ip: `10.2.0.${b}`, port: 53 };
      table.process(fwd ? udp(t, x, y, 1) : udp(t, y, x, 1));
      const key = `${x.ip}|${y.ip}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
    table.flush();
    const counted = new Map<string, number>();
    for (const r of records) {
      const [lo, hi] = r.orig_h.startsWith('10.1.') ? [r.orig_h, r.resp_h] : [r.resp_h, r.orig_h];
      const key = `${lo}|${hi}`;
      counted.set(key, (counted.get(key) ?? 0) + r.orig_pkts + r.resp_pkts);
    }
    assert.deepEqual([...counted].sort(), [...sent].sort());
    assert.equal(table.size, 0);
  });
});

describe('FlowJsonlWriter', () => {
  it('writes one JSON record per line and reads back identical', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-flows-'));
    try {
      const path = join(dir, 'flows.jsonl');
      const w = new FlowJsonlWriter(path);
      const { records } = run([tcp(1, C, S, SYN), tcp(1.1, S, C, RSTACK), udp(2, C, S, 10)]);
      for (const r of records) w.write(r);
      w.close();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 2);
      assert.deepEqual(
        lines.map((l) => JSON.parse(l) as FlowRecord),
        records,
      );
      assert.throws(() => w.write(records[0]!), /closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FlowTable: IPv6', () => {
  it('keys IPv6 flows on the full addresses and formats them compressed', () => {
    const mk = (ts: number, fromA: boolean, flags: number): DecodedPacket => {
      const p = tcp(ts, C, S, flags);
      p.ip_version = 6;
      p.ethertype = 0x86dd;
      const a = [0x20010db8, 0, 0, 1];
      const b = [0x20010db8, 0, 0, 2];
      p.ip6_src.set(fromA ? a : b);
      p.ip6_dst.set(fromA ? b : a);
      p.ip_src = p.ip6_src[0]! ^ p.ip6_src[3]!;
      p.ip_dst = p.ip6_dst[0]! ^ p.ip6_dst[3]!;
      if (!fromA) [p.src_port, p.dst_port] = [p.dst_port, p.src_port];
      return p;
    };
    const other = mk(1.5, true, SYN);
    other.ip6_dst[1] = 5; // same fold-free words elsewhere, different address: another flow
    const { records } = run([mk(1, true, SYN), mk(1.1, false, SYNACK), mk(1.2, true, ACK), other]);
    assert.equal(records.length, 2);
    const r = records.find((x) => x.conn_state === 'S1')!;
    assert.deepEqual([r.orig_h, r.resp_h, r.orig_pkts, r.resp_pkts], ['2001:db8::1', '2001:db8::2', 2, 1]);
  });
});

describe('FlowTable: VLAN tags and the flow key', () => {
  // A SPAN session that tags one direction only (trunk on one side, access port on the other), as in both real-device
  // sets of ../shared/dev-eval: client → server untagged, server → client on VLAN 100.
  const tagged = (p: DecodedPacket, vlan: number) => ((p.vlan_outer = vlan), p);
  const handshake = () => [
    tcp(100, C, S, SYN),
    tagged(tcp(100.01, S, C, SYNACK), 100),
    tcp(100.02, C, S, ACK),
    tcp(100.03, C, S, FINACK),
    tagged(tcp(100.04, S, C, FINACK), 100),
    tcp(100.05, C, S, ACK),
  ];

  it('by default one conversation tagged one way only is one flow (SF), recorded with its first packet’s VLAN', () => {
    const { records } = run(handshake());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.conn_state, 'SF');
    assert.equal(records[0]!.history, 'ShAFf');
    assert.equal(records[0]!.vlan, -1);
  });

  it('a rejected attempt answered on another VLAN is REJ, not an unanswered attempt plus a stray reset', () => {
    const { records } = run([tcp(100, C, S, SYN), tagged(tcp(100.001, S, C, RSTACK), 100)]);
    assert.deepEqual(records.map((r) => r.conn_state), ['REJ']);
  });

  it('with vlan_in_flow_key the same packets are two one-way flows (the Suricata behaviour, for reused addresses)', () => {
    const { records } = run(handshake(), { vlan_in_flow_key: true });
    assert.equal(records.length, 2);
    assert.deepEqual(records.map((r) => r.vlan).sort(), [-1, 100]);
  });
});
