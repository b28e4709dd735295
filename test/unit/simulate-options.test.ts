import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { parseAttack, parseDevices, parseDuration, parseStart, simulate } from '../../src/simulate/index.js';

describe('simulate/options', () => {
  it('parses durations in s, m, h', () => {
    assert.equal(parseDuration('90', 'd'), 90);
    assert.equal(parseDuration('+30s', 'd'), 30);
    assert.equal(parseDuration('10m', 'd'), 600);
    assert.equal(parseDuration('24h', 'd'), 86400);
    assert.throws(() => parseDuration('ten', 'duration'), (e: unknown) => e instanceof ConfigError && e.field === 'duration');
  });

  it('parses device counts and rejects unknown archetypes', () => {
    assert.deepEqual(parseDevices('pump=4, monitor=6'), { pump: 4, monitor: 6 });
    assert.throws(() => parseDevices('toaster=1'), /archetype one of/);
    assert.throws(() => parseDevices('pump=-1'), ConfigError);
  });

  it('parses attack specs with aliases, durations and devices', () => {
    assert.deepEqual(parseAttack('scan@+600s'), { kind: 'port_scan', offset_s: 600 });
    assert.deepEqual(parseAttack('syn_flood@+10m/30s:nursepc-02'), { kind: 'syn_flood', offset_s: 600, duration_s: 30, device: 'nursepc-02' });
    assert.throws(() => parseAttack('nuke@+1s'), /unknown attack kind/);
    assert.throws(() => parseAttack('port_scan'), /kind@\+OFFSET/);
  });

  it('parses ISO and epoch start times', () => {
    assert.equal(parseStart('2026-01-05T07:00:00Z'), 1767596400);
    assert.equal(parseStart('1767596400'), 1767596400);
    assert.throws(() => parseStart('monday'), ConfigError);
  });

  it('rejects attacks outside the capture, unknown devices, and leaves no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-simopt-'));
    try {
      const out = join(dir, 'x.pcap');
      const base = { seed: 1, start: 1767596400, duration_s: 200, devices: { pump: 1 }, out };
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'port_scan', offset_s: 150 }] }), /after the capture/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'port_scan', offset_s: 30, duration_s: 10 }] }), /starts before \+120s/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'port_scan', offset_s: 130, duration_s: 10, device: 'pump-09' }] }), /no device named pump-09/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'arp_spoof', offset_s: 130, duration_s: 10 }] }), /needs a device/);
      assert.equal(existsSync(out), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
