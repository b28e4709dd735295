import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { formatAttack, parseAttack, parseDevices, parseDuration, parseStart, simulate, simulateCommand, toSimulateOptions } from '../../src/simulate/index.js';

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

  it('parses the slow kinds and `:quiet`, and formats them back', () => {
    assert.deepEqual(parseAttack('c2_beacon_10min@+1h'), { kind: 'c2_beacon_10min', offset_s: 3600 });
    assert.deepEqual(parseAttack('slow_exfil@+1h/45m:imaging-01'), { kind: 'slow_exfiltration', offset_s: 3600, duration_s: 2700, device: 'imaging-01' });
    const q = parseAttack('port_scan@+600s/60s:quiet');
    assert.deepEqual(q, { kind: 'port_scan', offset_s: 600, duration_s: 60, on_quiet: true });
    assert.equal(formatAttack(q), 'port_scan@+600s/60s:quiet');
    assert.deepEqual(parseDevices('pump=1', 'quiet_devices'), { pump: 1 });
    assert.throws(() => parseDevices('pump=x', 'quiet_devices'), (e: unknown) => e instanceof ConfigError && e.field === 'quiet_devices.pump');
  });

  it('command line: --quiet-devices, and --help lists every kind', () => {
    const base = { out: 'x.pcap', seed: '1', start: '1767596400', duration: '1h', devices: 'pump=2', attacks: 'lateral_single@+600s:quiet', format: 'pcap' as const, resolution: 'us' as const, vlan: '-1', dicomImageBytes: '1024' };
    const o = toSimulateOptions({ ...base, quietDevices: 'pump=1' });
    assert.deepEqual(o.quiet_devices, { pump: 1 });
    assert.deepEqual(o.attacks, [{ kind: 'lateral_single', offset_s: 600, on_quiet: true }]);
    assert.equal(toSimulateOptions(base).quiet_devices, undefined);
    let help = '';
    const cmd = simulateCommand().configureOutput({ writeOut: (t) => (help += t) });
    cmd.outputHelp();
    for (const k of ['--quiet-devices', 'c2_beacon_30s', 'c2_beacon_2min', 'c2_beacon_10min', 'slow_exfiltration', 'lateral_single', 'identity_spoof', 'port_scan']) assert.ok(help.includes(k), k);
  });

  it('rejects bad quiet devices, :quiet without one, and slow kinds shorter than their minimum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-simopt-'));
    try {
      const out = join(dir, 'x.pcap');
      const base = { seed: 1, start: 1767596400, duration_s: 3600, devices: { pump: 2, pacs: 1 }, out, attacks: [] };
      await assert.rejects(simulate({ ...base, quiet_devices: { pump: 3 } }), /quiet_devices\.pump.*0\.\.2/);
      await assert.rejects(simulate({ ...base, quiet_devices: { pacs: 1 } }), /cannot be quiet/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'port_scan', offset_s: 600, on_quiet: true }] }), /no quiet device/);
      await assert.rejects(simulate({ ...base, quiet_devices: { pump: 1 }, attacks: [{ kind: 'port_scan', offset_s: 600, on_quiet: true, device: 'pump-01' }] }), /not both/);
      await assert.rejects(simulate({ ...base, quiet_devices: { pump: 2 }, attacks: [{ kind: 'c2_beacon_30s', offset_s: 600, duration_s: 600 }] }), /not quiet/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'c2_beacon_10min', offset_s: 600, duration_s: 600 }] }), /needs at least 1800 s/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'slow_exfiltration', offset_s: 600, duration_s: 300, device: 'pump-01' }] }), /needs at least 600 s/);
      await assert.rejects(simulate({ ...base, devices: { imaging: 1 }, attacks: [{ kind: 'identity_spoof', offset_s: 600 }] }), /identity_spoof on imaging-01: .*add one \(--devices pacs=1\)/);
      await assert.rejects(simulate({ ...base, attacks: [{ kind: 'identity_spoof', offset_s: 600 }] }), /needs a device of one of monitor, imaging, lab/);
      assert.equal(existsSync(out), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attacks by default (issue 22 item 8): five in the second half; none with --no-attacks or under 20 minutes', () => {
    const base = { out: 'x.pcap', seed: '1', start: '1767596400', duration: '1h', devices: 'pump=2', format: 'pcap' as const, resolution: 'us' as const, vlan: '-1', dicomImageBytes: '1024' };
    const d = toSimulateOptions(base);
    assert.deepEqual(d.attacks.map((a) => [a.kind, a.offset_s, a.duration_s]), [
      ['port_scan', 1800, 60],
      ['syn_flood', 2160, 10],
      ['arp_spoof', 2520, 40],
      ['dns_tunnel', 2880, 60],
      ['lateral_movement', 3240, 60],
    ]);
    assert.deepEqual(toSimulateOptions({ ...base, attacks: false }).attacks, []);
    assert.deepEqual(toSimulateOptions({ ...base, duration: '19m' }).attacks, []);
    assert.deepEqual(toSimulateOptions({ ...base, attacks: 'port_scan@+600s' }).attacks, [{ kind: 'port_scan', offset_s: 600 }]);
  });
});
