/**
 * Flow table vs tshark: per-conversation packet and byte counts of our flows match `tshark -q -z conv,tcp` and
 * `-z conv,udp` on every public capture (used in place, never copied). Timeouts are set beyond the captures'
 * durations so that one tshark conversation is one of our flows (or several that add up).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import type { FlowRecord } from '../../src/records/flow.js';
import { newDecodedPacket } from '../../src/records/packet.js';
import { publicCapture, publicCapturesDir, requirePublicCaptures } from '../support/fixtures.js';
import { compareConversations, tsharkConversations } from '../support/tshark-conv.js';

/**
 * Captures where tshark's conversation table counts something other than the packets' own 5-tuples: the reason, and
 * the only kind of difference allowed for that capture. Everything else must match exactly.
 */
const KNOWN: Record<string, { reason: string; allow: RegExp }> = {
  'ndpi_dns_fragmented.pcap': {
    reason:
      'IP fragments: tshark reassembles and counts the datagram on the frame that completes it; we count the first fragment (the one with the UDP header) on the UDP flow and later fragments on their IP-pair flow (flow.ts, known inaccuracies). Frame counts agree, bytes differ.',
    allow: /: \S+ sent \d+ bytes, tshark \d+$/,
  },
  'ndpi_gre.pcapng': { reason: 'GRE tunnel: tshark counts the inner UDP conversation; we do not decode tunnels (the GRE packets are an IP-protocol-47 flow).', allow: /in tshark, not in our flows$/ },
  'ndpi_vxlan.pcap': { reason: 'VXLAN tunnel: tshark counts the inner conversations; we count the outer UDP/4789 flow only.', allow: /in tshark, not in our flows$/ },
  'ndpi_syslog.pcap': { reason: '6in4 tunnel (IP protocol 41): tshark counts the inner IPv6 UDP conversation; we count an IP-protocol-41 flow.', allow: /in tshark, not in our flows$/ },
  'ndpi_someip_sd_sample.pcap': {
    reason: 'PPI link type (192): not decoded by the decoder (counted there as unsupported_linktype), so no flows.',
    allow: /in tshark, not in our flows$/,
  },
};

async function flowsOf(file: string): Promise<FlowRecord[]> {
  const records: FlowRecord[] = [];
  const day = 86_400_000 * 3650;
  const table = new FlowTable(
    {
      tcp_idle_timeout_ms: day,
      tcp_attempt_timeout_ms: day,
      tcp_closed_timeout_ms: day,
      udp_idle_timeout_ms: day,
      other_idle_timeout_ms: day,
      active_timeout_ms: 0,
    },
    { onRecord: (r) => records.push(r) },
  );
  const source = await readCapture(file);
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  await source.forEachFrame((frame) => {
    decoder.decode(frame, p);
    table.process(p);
  });
  table.flush();
  return records;
}

describe('flows vs tshark conv,tcp / conv,udp on the public captures', function () {
  this.timeout(120_000);
  before(function () {
    requirePublicCaptures(this);
  });

  it('every capture: same conversations, same frames and bytes each way', async () => {
    const files = readdirSync(publicCapturesDir).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
    assert.ok(files.length > 0);
    const failures: string[] = [];
    let compared = 0;
    for (const f of files) {
      const convs = tsharkConversations(publicCapture(f));
      const diffs = compareConversations(convs, await flowsOf(publicCapture(f)));
      compared += convs.length;
      const known = KNOWN[f];
      const unexplained = known === undefined ? diffs : diffs.filter((d) => !known.allow.test(d));
      if (unexplained.length > 0) failures.push(`${f}:\n    ${unexplained.slice(0, 8).join('\n    ')}`);
    }
    assert.deepEqual(failures, [], `mismatches:\n${failures.join('\n')}`);
    assert.ok(compared > 200, `compared ${compared} conversations`);
  });
});
