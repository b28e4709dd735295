import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AlertFileSink } from '../../src/sinks/file/alerts.js';
import { RotatingJsonl } from '../../src/sinks/file/rotating-jsonl.js';
import { SyslogSink, formatSyslogCef } from '../../src/sinks/syslog/sink.js';
import { DEFAULT_SYSLOG } from '../../src/sinks/syslog/config.js';
import type { Alert } from '../../src/records/alert.js';
import { makeAlert } from '../support/alerts.js';

describe('file sinks', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ww-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates JSONL by size, keeping whole lines and the configured number of files', () => {
    const file = path.join(dir, 'flows.jsonl');
    const w = new RotatingJsonl({ file, max_bytes: 1000, keep: 2 });
    for (let i = 0; i < 100; i++) w.write([{ i, pad: 'x'.repeat(40) }]);
    const read = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    const current = read(file);
    const r1 = read(w.rotatedPath(1));
    const r2 = read(w.rotatedPath(2));
    assert.equal(existsSync(w.rotatedPath(3)), false);
    assert.deepEqual([...r2, ...r1, ...current], Array.from({ length: r2.length + r1.length + current.length }, (_, k) => 100 - r2.length - r1.length - current.length + k));
    assert.ok(readFileSync(file).length <= 1000);
    assert.ok(w.rotations >= 2);
  });

  it('alerts.jsonl holds each alert once, as the Alert record', () => {
    const sink = new AlertFileSink({ file: path.join(dir, 'alerts.jsonl') });
    const alerts = [0, 1, 2].map((i) => makeAlert(i));
    sink.write(alerts);
    sink.write([alerts[1]!]); // redelivered
    const lines = readFileSync(path.join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.deepEqual(lines, alerts);
  });

  it("keeps an incident's update (same alert_id, later ts) whether it comes in the alert's batch or a later one", () => {
    const first = makeAlert(4);
    const update = { ...first, ts: first.ts + 20, severity: 'high' as const };
    for (const batches of [[[first, update]], [[first], [update]], [[first], [first, update], [update]]]) {
      const file = path.join(dir, `updates-${batches.length}.jsonl`);
      const sink = new AlertFileSink({ file });
      for (const b of batches) sink.write(b);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
      assert.deepEqual(lines, [first, update], `batches ${batches.map((b) => b.length).join('+')}`);
    }
  });
});

describe('syslog sink (RFC 5424 + CEF)', () => {
  const alert = { ...makeAlert(3), summary: 'sent a|b=c\nd', device_name: 'Pump "7"]' };

  it('formats an RFC 5424 line with escaped structured data and a CEF message', () => {
    const line = formatSyslogCef(alert, { ...DEFAULT_SYSLOG, hostname: 'sensor-1' });
    const m = /^<(\d+)>1 (\S+) sensor-1 wardwatch - ALERT (\[wardwatch@32473 [^\]]*(?:\\\][^\]]*)*\]) (CEF:0\|.*)$/.exec(line);
    assert.ok(m, line);
    assert.equal(Number(m[1]), 20 * 8 + 2, 'local4.crit for a critical alert');
    assert.equal(m[2], new Date(alert.ts * 1000).toISOString());
    const cef = m[4]!;
    // Header fields split on unescaped pipes.
    const header = cef.split(/(?<!\\)\|/);
    assert.equal(header.length, 8);
    assert.deepEqual(header.slice(0, 5), ['CEF:0', 'wardwatch', 'wardwatch', '0.1.0', 'anomaly']);
    assert.equal(header[5], 'Pump "7"]: sent a\\|b=c d');
    assert.equal(header[6], '10');
    assert.match(header[7]!, /cs3=12 new destination ports; expected ≤ 1; 40 TCP SYNs sent; expected about 2/);
    assert.match(header[7]!, /smac=02:00:00:00:00:03/);
    assert.match(header[7]!, new RegExp(`externalId=${alert.alert_id}`));
  });

  it('delivers over UDP and TCP (octet-counted) to a local receiver', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const s1 = new SyslogSink({ port: (udp.address()).port, protocol: 'udp', hostname: 'h' });
    await s1.write([alert, makeAlert(4)]);
    await s1.close();
    const deadline = Date.now() + 2000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    udp.close();
    assert.equal(got.length, 2);
    assert.match(got[1]!, /CEF:0\|wardwatch\|wardwatch\|0\.1\.0\|anomaly\|/);

    let tcpData = '';
    const server = createServer((sock) => sock.on('data', (d: Buffer) => (tcpData += d.toString())));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const s2 = new SyslogSink({ port: (server.address() as AddressInfo).port, protocol: 'tcp', hostname: 'h' });
    await s2.write([makeAlert(5), makeAlert(6)]);
    await s2.close();
    await new Promise((r) => setTimeout(r, 100));
    await new Promise<void>((r) => server.close(() => r()));
    // Octet counting: "<len> <msg>" repeated.
    const frames: string[] = [];
    let rest = Buffer.from(tcpData);
    while (rest.length) {
      const sp = rest.indexOf(0x20);
      const len = Number(rest.subarray(0, sp).toString());
      frames.push(rest.subarray(sp + 1, sp + 1 + len).toString());
      rest = rest.subarray(sp + 1 + len);
    }
    assert.equal(frames.length, 2);
    assert.ok(frames.every((f) => f.startsWith('<')));
    assert.equal(s2.sent, 2);
  });
});
