/**
 * `new_device` notices: only for devices the inventory lists (confirmed: evidence of a real host), and at most
 * `new_device_notices_max` per `new_device_notice_interval_s` of packet time, the rest summarised in one notice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDetectConfig } from '../../../src/detect/config.js';
import { Detector, type InventoryLookup } from '../../../src/detect/detector.js';
import { ConfigError } from '../../../src/errors.js';
import type { Alert, FeatureWindow } from '../../../src/records/index.js';
import { makeWindows } from '../../support/windows.js';

/** A multiple of 60 s: intervals of packet time are aligned to multiples of their length. */
const T0 = 1_790_000_040;

const entry = (confirmed?: boolean): ReturnType<InventoryLookup> => ({
  device_class: 'infusion_pump',
  criticality: 'high',
  name: '',
  vendor: 'ICU Medical, Inc.',
  first_seen: T0,
  ...(confirmed === undefined ? {} : { confirmed }),
});

/** Windows of `devices` devices (ids from `first`), `perDevice` each from `start`. */
function windows(devices: number, perDevice: number, start: number, first = 0): FeatureWindow[] {
  return makeWindows(first + devices, perDevice, 1, 'test', start).filter((w) => Number.parseInt(w.device_id.slice(-5).replace(':', ''), 16) >= first);
}

describe('detect: new_device notices', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ww-notices-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const open = (o: Record<string, unknown> = {}): Promise<Detector> => Detector.open(parseDetectConfig({ models_dir: path.join(dir, 'none'), reload_check_ms: 0, ...o }));
  const notices = (alerts: Alert[]): string[] => alerts.filter((a) => a.kind === 'new_device').map((a) => a.device_id);

  it('only for devices the inventory lists: a candidate waits for its evidence, an unknown device gets none', async () => {
    const det = await open();
    const w = windows(3, 3, T0);
    const [d0, d1, d2] = [0, 1, 2].map((i) => w[i]!.device_id);
    let d1Confirmed = false;
    const lookup: InventoryLookup = (id) => (id === d0 ? entry() : id === d1 ? entry(d1Confirmed) : undefined);
    assert.deepEqual(notices((await det.score(w.slice(0, 3), lookup)).alerts), [d0]);
    assert.deepEqual(notices((await det.score(w.slice(3, 6), lookup)).alerts), []);
    d1Confirmed = true;
    const late = (await det.score(w.slice(6, 9), lookup)).alerts;
    assert.deepEqual(notices(late), [d1]);
    assert.equal(late.find((a) => a.kind === 'new_device')!.since, T0, 'since its first packet (first_seen), not its confirmation');
    assert.ok(!notices(late).includes(d2!));
  });

  it('at most new_device_notices_max per interval; the others in one summary when the next interval starts or at flushNotices', async () => {
    const det = await open({ new_device_notices_max: 5, new_device_notice_interval_s: 60 });
    const lookup: InventoryLookup = () => entry(true);
    // 12 new devices in the first interval: 5 notices, 7 summarised.
    const first = await det.score(windows(12, 1, T0), lookup);
    assert.equal(notices(first.alerts).length, 5);
    assert.equal(first.scores.length, 12, 'every window is still scored (learning)');
    // The next interval's first window raises the summary of the previous one.
    const next = (await det.score(windows(1, 1, T0 + 60), lookup)).alerts;
    assert.equal(next.length, 1);
    const summary = next[0]!;
    assert.equal(summary.kind, 'new_device');
    assert.equal(summary.severity, 'info');
    assert.equal(summary.since, T0);
    assert.equal(summary.ts, T0 + 10);
    assert.match(summary.summary, /^7 more new devices in these 60 s, beyond the 5 notices per 60 s \(new_device_notices_max\): mac:02:00:00:00:00:05, mac:02:00:00:00:00:06, /);
    assert.equal(summary.device_id, 'mac:02:00:00:00:00:05');
    assert.equal(det.counters.get('new_devices_summarised'), 7);
    assert.equal(det.counters.get('alerts_new_device_summary'), 1);
    assert.equal(det.counters.get('alerts_new_device'), 5);
    // A fresh interval: 5 more notices, then a summary of 3 at the end of the replay (flushNotices), once.
    assert.equal(notices((await det.score(windows(8, 1, T0 + 70, 100), lookup)).alerts).length, 5);
    const tail = det.flushNotices();
    assert.equal(tail.length, 1);
    assert.match(tail[0]!.summary, /^3 more new devices/);
    assert.deepEqual(det.flushNotices(), []);
    // Still the same interval after the flush: the limit holds.
    assert.deepEqual(notices((await det.score(windows(1, 1, T0 + 80, 200), lookup)).alerts), []);
    assert.equal(det.flushNotices().length, 1);
  });

  it('0 = summaries only; the options are validated with the field named', async () => {
    const det = await open({ new_device_notices_max: 0 });
    assert.deepEqual(notices((await det.score(windows(3, 1, T0), () => entry(true))).alerts), []);
    assert.match(det.flushNotices()[0]!.summary, /^3 more new devices/);
    for (const [field, value] of [
      ['new_device_notices_max', -1],
      ['new_device_notice_interval_s', 0],
    ] as const) {
      assert.throws(
        () => parseDetectConfig({ [field]: value }),
        (e: unknown) => e instanceof ConfigError && e.field === `detect.${field}`,
      );
    }
  });
});
