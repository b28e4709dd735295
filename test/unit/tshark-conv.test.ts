import assert from 'node:assert/strict';
import { compareConversations, parseConversations } from '../support/tshark-conv.js';
import type { FlowRecord } from '../../src/records/flow.js';

// Verbatim TShark 4.0.17 output (tapirx_HL7-ORU.pcap and ndpi_443-safari.pcap; ndpi_dns.pcap).
const TCP = `================================================================================
TCP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
10.0.0.155:49252           <-> 10.0.0.126:6661                  5 404 bytes       6 2133 bytes      11 2537 bytes     0.000000000         0.0281
192.168.1.13:53031         <-> 178.62.197.130:443              20 17 kB          21 2195 bytes      41 19 kB         0.000000000         1.0944
================================================================================
UDP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
192.168.170.20:53          <-> 192.168.170.8:32795              1 75 bytes        2 151 bytes       3 226 bytes     0.000000000        41.0710
::1:42086                  <-> ::1:4443                        11 10 kB           8 2734 bytes      19 12 kB         0.000000000         0.5388
================================================================================
`;

function rec(proto: 'tcp' | 'udp', oh: string, op: number, rh: string, rp: number, o: [number, number], r: [number, number]): FlowRecord {
  return {
    proto,
    orig_h: oh,
    orig_p: op,
    resp_h: rh,
    resp_p: rp,
    orig_pkts: o[0],
    orig_frame_bytes: o[1],
    resp_pkts: r[0],
    resp_frame_bytes: r[1],
  } as FlowRecord;
}

describe('tshark conversation tables (reference for the flow table)', () => {
  it('parses TCP and UDP tables: "->" is sent by A, "<-" by B; kB values become ranges', () => {
    const c = parseConversations(TCP);
    assert.equal(c.length, 4);
    assert.deepEqual(c[0], {
      proto: 'tcp',
      a: '10.0.0.155:49252',
      b: '10.0.0.126:6661',
      fromA: { frames: 6, bytesMin: 2133, bytesMax: 2133 },
      fromB: { frames: 5, bytesMin: 404, bytesMax: 404 },
    });
    assert.deepEqual(c[1]!.fromB, { frames: 20, bytesMin: 16000, bytesMax: 18000 });
    assert.equal(c[2]!.proto, 'udp');
    assert.deepEqual([c[3]!.a, c[3]!.b], ['::1:42086', '::1:4443']);
  });

  it('compares with flow records regardless of which side originated, and reports differences', () => {
    const c = parseConversations(TCP).slice(0, 1);
    assert.deepEqual(compareConversations(c, [rec('tcp', '10.0.0.126', 6661, '10.0.0.155', 49252, [5, 404], [6, 2133])]), []);
    // Split over two flows (e.g. an idle timeout): still the same totals.
    assert.deepEqual(
      compareConversations(c, [
        rec('tcp', '10.0.0.155', 49252, '10.0.0.126', 6661, [4, 1000], [2, 200]),
        rec('tcp', '10.0.0.155', 49252, '10.0.0.126', 6661, [2, 1133], [3, 204]),
      ]),
      [],
    );
    const d = compareConversations(c, [
      rec('tcp', '10.0.0.155', 49252, '10.0.0.126', 6661, [6, 2133], [4, 404]),
      rec('udp', '10.0.0.1', 1, '10.0.0.2', 2, [1, 60], [0, 0]),
    ]);
    assert.deepEqual(d, [
      'tcp 10.0.0.126:6661 10.0.0.155:49252: 10.0.0.126:6661 sent 4 frames, tshark 5',
      'udp 10.0.0.1:1 10.0.0.2:2: in our flows, not in tshark',
    ]);
  });
});
