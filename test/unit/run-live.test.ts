/**
 * `wardwatch run -i`: its options (checked, mutually exclusive with a capture file, no defaults restated), its
 * errors (permission, unknown interface), and the alerts table streamed as alerts are raised. The live loop itself:
 * replay-live.test.ts; the real CLI on a veth pair: test/integration/run-live.test.ts.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AlertPrinter, alertTable } from '../../src/cli/table.js';
import { chooseCapture, explainCaptureError } from '../../src/cli/live.js';
import { DEFAULT_LIVE_CAPTURE, liveCaptureOptions as fromConfig } from '../../src/capture/live/config.js';
import { CaptureError, ConfigError } from '../../src/errors.js';
import type { Alert } from '../../src/records/alert.js';

const configError = (field: string) => (e: unknown) => e instanceof ConfigError && e.field === field && !e.message.includes('\n');

describe('wardwatch run -i: options', () => {
  it('reads a file by default, the given one, or a live interface, never both', () => {
    assert.deepEqual(chooseCapture(undefined, {}, 'captures/demo.pcap'), { file: 'captures/demo.pcap' });
    assert.deepEqual(chooseCapture('ward3.pcap', {}, 'captures/demo.pcap'), { file: 'ward3.pcap' });
    assert.deepEqual(chooseCapture(undefined, { interface: 'eth1' }, 'captures/demo.pcap'), { live: { ...DEFAULT_LIVE_CAPTURE, interface: 'eth1' } });
    assert.throws(() => chooseCapture('ward3.pcap', { interface: 'eth1' }, 'captures/demo.pcap'), configError('--interface'));
  });

  it('refuses the live-only options without -i', () => {
    assert.throws(() => chooseCapture(undefined, { filter: 'tcp' }, 'x.pcap'), configError('--filter'));
    assert.throws(() => chooseCapture('x.pcap', { snaplen: '1600' }, 'x.pcap'), configError('--snaplen'));
    assert.throws(() => chooseCapture(undefined, { bufferSize: '33554432' }, 'x.pcap'), configError('--buffer-size'));
  });

  it("passes the options given over the config's capture section (its defaults written once, in the capture stage)", () => {
    const liveCaptureOptions = (o: { interface: string; filter?: string; snaplen?: string; bufferSize?: string }): ReturnType<typeof fromConfig> => {
      const c = chooseCapture(undefined, o, 'x.pcap');
      assert.ok(c.live);
      return c.live as ReturnType<typeof fromConfig>;
    };
    assert.deepEqual(liveCaptureOptions({ interface: 'eth1', filter: 'not port 22', snaplen: '1600', bufferSize: '33554432' }), {
      ...DEFAULT_LIVE_CAPTURE,
      interface: 'eth1',
      bpf_filter: 'not port 22',
      snaplen_bytes: 1600,
      buffer_size_bytes: 33554432,
    });
    assert.deepEqual(liveCaptureOptions({ interface: 'eth1' }), { ...DEFAULT_LIVE_CAPTURE, interface: 'eth1' });
    // The config's section is the base; the command line wins.
    const site = { ...DEFAULT_LIVE_CAPTURE, bpf_filter: 'vlan 100', snaplen_bytes: 2048 };
    assert.deepEqual(chooseCapture(undefined, { interface: 'eth1', snaplen: '4096' }, 'x.pcap', site).live, { ...site, interface: 'eth1', snaplen_bytes: 4096 });
  });

  it('rejects bad numbers and an empty interface, naming the option', () => {
    const live = (o: { interface: string; snaplen?: string; bufferSize?: string }): unknown => chooseCapture(undefined, o, 'x.pcap').live;
    for (const snaplen of ['abc', '10', '63', '262145', '1.5', '-1', '']) assert.throws(() => live({ interface: 'eth1', snaplen }), configError('--snaplen'), snaplen);
    for (const bufferSize of ['0', '-1', '16M', '1e6', 'x', '1000']) assert.throws(() => live({ interface: 'eth1', bufferSize }), configError('--buffer-size'), bufferSize);
    assert.throws(() => live({ interface: ' ' }), configError('--interface'));
    assert.equal(fromConfig(DEFAULT_LIVE_CAPTURE, { interface: 'eth1', snaplen: '64' }).snaplen_bytes, 64);
    assert.equal(fromConfig(DEFAULT_LIVE_CAPTURE, { interface: 'eth1', snaplen: '262144' }).snaplen_bytes, 262144);
  });
});

describe('wardwatch run -i: capture errors', () => {
  it('no permission: WW_CAPTURE_PERMISSION, one line saying root or CAP_NET_RAW (setcap)', () => {
    const raw = new CaptureError('live:eth1', 'cannot capture (socket: Operation not permitted)', { code: 'WW_CAPTURE_INTERFACE' });
    const e = explainCaptureError(raw, 'eth1', () => []);
    assert.ok(e instanceof CaptureError);
    assert.equal(e.code, 'WW_CAPTURE_PERMISSION');
    assert.match(e.message, /^live:eth1: no permission to capture: run as root, or give node CAP_NET_RAW: sudo setcap cap_net_raw\+eip /);
    assert.ok(!e.message.includes('\n'));
    assert.equal(e.cause, raw);
  });

  it('no such interface: names the interfaces there are', () => {
    const raw = new CaptureError('live:eht1', 'cannot capture (No such device exists)', { code: 'WW_CAPTURE_INTERFACE' });
    const e = explainCaptureError(raw, 'eht1', () => ['eth0', 'eth1', 'lo']);
    assert.ok(e instanceof CaptureError);
    assert.equal(e.code, 'WW_CAPTURE_INTERFACE');
    assert.equal(e.message, 'live:eht1: no such interface; libpcap can capture on: eth0, eth1, lo');
  });

  it('leaves other errors as they are (a bad filter, the missing binding, anything else)', () => {
    for (const err of [
      new CaptureError('live:eth1', 'cannot capture (syntax error)', { code: 'WW_CAPTURE_BAD_FILTER' }),
      new CaptureError('live', 'the libpcap binding (optional package cap) is not installed', { code: 'WW_CAPTURE_BINDING' }),
      new Error('boom'),
    ]) {
      assert.equal(explainCaptureError(err, 'eth1', () => ['eth1']), err);
    }
  });
});

function alert(kind: Alert['kind'], ts: number, summary: string): Alert {
  return {
    ts,
    severity: 'high',
    kind,
    device_id: 'mac:02:aa:bb:cc:00:01',
    device_name: '',
    device_class: 'telemetry_gateway',
    score: 1.7,
    summary,
  } as unknown as Alert;
}

describe('wardwatch run -i: alerts printed as they arrive', () => {
  it("prints the table's header once, then each batch in the same columns", () => {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const printer = new AlertPrinter(out, 160);
    printer.write([]);
    assert.equal(text, '');
    printer.write([alert('port_scan', 1767603600, 'port scan: 40 destination ports')]);
    printer.write([alert('lateral_movement', 1767603610, 'lateral movement'), alert('new_device', 1767603610, 'new device')]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /^time \(UTC\)\s+severity\s+kind\s+device\s+class\s+score\s+what changed$/);
    assert.equal(lines.filter((l) => l.startsWith('time (UTC)')).length, 1);
    // Same columns in every row: the summary starts at the header's "what changed".
    const at = lines[0]!.indexOf('what changed');
    for (const l of lines.slice(2)) assert.ok(l.indexOf('port scan') === at || l.indexOf('lateral movement') === at || l.indexOf('new device') === at, l);
    assert.match(lines[2]!, /^2026-01-05 09:00:00 {2}HIGH {6}port_scan/);
    // The file runs' table is unchanged by the refactor.
    assert.match(alertTable([alert('port_scan', 1767603600, 'x')], 160), /^time \(UTC\) {11}severity {2}kind {7}device/);
  });
});
