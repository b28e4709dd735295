/**
 * Issue 22 item 11: the alert table of `run`/`replay` (and `run -i`'s printer) fits the terminal (120 columns when
 * there is none), and what came from the wire is escaped as `inventory list` escapes it (one function).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AlertPrinter, alertTable, printable, terminalWidth, truncate, wrap } from '../../../src/cli/table.js';
import type { Alert } from '../../../src/records/alert.js';

function alert(o: Partial<Alert>): Alert {
  return {
    ts: 1767605460,
    severity: 'critical',
    kind: 'anomaly',
    device_id: 'mac:02:aa:bb:cc:00:01',
    device_name: 'PUMP-02',
    device_class: 'telemetry_gateway',
    score: 46.6,
    summary:
      '23 connections accepted; expected ≤ 0; 24 TCP resets; expected ≤ 0; 32 remote-access connections to new internal hosts; expected ≤ 0 (score 46.6, 2 of 3 windows over threshold; scan guard: new peer or port with a rejected or unanswered attempt)',
    ...o,
  } as Alert;
}

const longest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('alert table on the terminal', () => {
  const alerts = [
    alert({}),
    alert({ kind: 'lateral_movement', device_name: 'a-device-name-far-longer-than-the-column', summary: 'lateral movement: 3 new internal hosts on 445' }),
    alert({ kind: 'new_device', severity: 'info', summary: 'new device' }),
  ];

  it('fits 120 columns: the summary under its row, wrapped, every alert one row that starts with its time', () => {
    const t = alertTable(alerts, 120);
    assert.ok(longest(t) <= 120, `${longest(t)} columns:\n${t}`);
    const lines = t.trimEnd().split('\n');
    assert.match(lines[0]!, /^time \(UTC\)\s+severity\s+kind\s+device\s+class\s+score$/);
    assert.equal(lines[2], '    what changed');
    assert.equal(lines.filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}[A-Z]+ +[a-z_]+ /.test(l)).length, 3);
    // The whole summary is there, in order, only broken at spaces.
    const first = lines.slice(4, lines.findIndex((l, i) => i > 3 && /^\d{4}-/.test(l)));
    assert.equal(first.map((l) => l.trim()).join(' '), alerts[0]!.summary);
    assert.ok(first.every((l) => l.startsWith('    ')));
    assert.ok(first.length >= 2, 'wrapped');
  });

  it('on a wide terminal the summary is a column beside the row, wrapped to it', () => {
    const t = alertTable(alerts, 160);
    assert.ok(longest(t) <= 160);
    const lines = t.trimEnd().split('\n');
    assert.match(lines[0]!, /^time \(UTC\)\s+severity\s+kind\s+device\s+class\s+score\s+what changed$/);
    const at = lines[0]!.indexOf('what changed');
    assert.equal(lines[2]!.indexOf('23 connections accepted'), at);
    assert.equal(lines[3]!.search(/\S/), at, 'a continuation line starts at the column');
  });

  it('cuts a long device name with …', () => {
    const t = alertTable(alerts, 120);
    assert.match(t, / a-device-name-far-longe… {2}/);
    assert.doesNotMatch(t, /far-longer-than/);
  });

  it('escapes control characters in names and summaries as inventory list does (a hostile DHCP host name)', () => {
    const hostile = 'evil\u001b]0;pwned\u0007\u001b[2J\u009b';
    const t = alertTable([alert({ device_name: hostile, summary: `new peer ${hostile}` })], 120);
    assert.doesNotMatch(t, CONTROL);
    assert.ok(t.includes(truncate(printable(hostile), 24)), t);
    assert.ok(t.includes(`new peer ${printable(hostile)}`), t);
    assert.equal(printable(hostile), 'evil?]0;pwned??[2J?');
  });

  it('run -i prints the same columns as it goes, within the width', () => {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const p = new AlertPrinter(out, 120);
    p.write([alerts[0]!]);
    p.write([alerts[1]!, alerts[2]!]);
    assert.ok(longest(text) <= 120, text);
    assert.equal(text.split('\n').filter((l) => l.startsWith('time (UTC)')).length, 1);
    assert.equal(text.split('\n').filter((l) => /^\d{4}-/.test(l)).length, 3);
  });

  it('width: $COLUMNS, else the terminal, else 120; never under 60', () => {
    assert.equal(terminalWidth({ isTTY: false }, {}), 120);
    assert.equal(terminalWidth({ isTTY: true, columns: 200 }, {}), 200);
    assert.equal(terminalWidth({ isTTY: true, columns: 200 }, { COLUMNS: '100' }), 100);
    assert.equal(terminalWidth({ isTTY: true, columns: 30 }, {}), 60);
  });

  it('wrap and truncate', () => {
    assert.deepEqual(wrap('aa bb cc dd', 5), ['aa bb', 'cc dd']);
    assert.deepEqual(wrap('abcdefghij k', 4), ['abcd', 'efgh', 'ij k']);
    assert.deepEqual(wrap('', 4), ['']);
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abcd', 4), 'abcd');
  });
});
