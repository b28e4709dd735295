/**
 * Day/night rhythm and regularity of benign behaviour over a simulated day: workstation use follows the hospital's
 * hours, infusion pumps report at the same pace around the clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type SimulationLabels } from '../../src/simulate/index.js';
import { requireTshark, tsharkFields } from '../support/tshark.js';

describe('simulate: day/night rhythm over 24 hours', function () {
  this.timeout(120_000);
  let dir = '';
  let pcap = '';
  let labels: SimulationLabels;
  const start = Date.parse('2026-01-05T00:00:00Z') / 1000;

  before(async function () {
    requireTshark(this);
    dir = mkdtempSync(join(tmpdir(), 'ww-simday-'));
    pcap = join(dir, 'day.pcap');
    await simulate({ seed: 11, start, duration_s: 86400, devices: { pump: 1, nurse_pc: 1 }, attacks: [], out: pcap });
    labels = JSON.parse(readFileSync(join(dir, 'day.labels.json'), 'utf8')) as SimulationLabels;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Connections (SYNs) from a device per hour of the day. */
  const synsPerHour = (name: string): number[] => {
    const ip = labels.devices.find((d) => d.name === name)?.ip;
    assert.ok(ip);
    const hours = new Array<number>(24).fill(0);
    for (const r of tsharkFields(pcap, ['frame.time_epoch'], `ip.src == ${ip} && tcp.flags == 0x002`)) {
      hours[Math.floor((Number(r[0]) - start) / 3600)]! += 1;
    }
    return hours;
  };
  const sum = (xs: number[], from: number, to: number): number => xs.slice(from, to).reduce((a, b) => a + b, 0);

  it('nurse-station PCs open far more EHR sessions in the afternoon than at night', () => {
    const h = synsPerHour('nursepc-01');
    const night = sum(h, 0, 6);
    const day = sum(h, 12, 18);
    assert.ok(day > 3 * night, `day ${day} vs night ${night}`);
    assert.ok(night > 0, 'some use at night too');
  });

  it('infusion pumps report at a steady pace day and night (status every ~15 s on a persistent session)', () => {
    const ip = labels.devices.find((d) => d.name === 'pump-01')?.ip;
    const t = tsharkFields(pcap, ['frame.time_epoch'], `ip.src == ${ip} && tcp.dstport == 443 && tcp.len > 150 && tcp.len < 300`).map((r) => Number(r[0]));
    const perHour = new Array<number>(24).fill(0);
    for (const x of t) perHour[Math.floor((x - start) / 3600)]! += 1;
    // Status records are 180–260 bytes + TLS overhead (ClientHello and drug-library requests are longer).
    // 3600 / 15 = 240 status messages an hour, ± jitter.
    for (let hr = 1; hr < 24; hr++) assert.ok(perHour[hr]! >= 220 && perHour[hr]! <= 270, `hour ${hr}: ${perHour[hr]}`);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(Math.abs(mean - 15) < 1, `mean gap ${mean}`);
  });

  it('devices renew their 6-hour DHCP lease every 3 hours (unicast REQUEST from the leased address)', () => {
    const ip = labels.devices.find((d) => d.name === 'pump-01')?.ip;
    const renewals = tsharkFields(pcap, ['frame.time_epoch'], `dhcp.option.dhcp == 3 && ip.src == ${ip}`).map((r) => Number(r[0]));
    assert.equal(renewals.length, 7);
    for (let i = 1; i < renewals.length; i++) assert.ok(Math.abs(renewals[i]! - renewals[i - 1]! - 3 * 3600) < 1);
  });
});
