/**
 * Drops are never silent (issue 20): the capture-loss watch of a live source (src/capture/loss.ts) — the rate-limited
 * warning naming the count, the share and the setting to change; the /healthz degraded state over the last minute and
 * its recovery; the final counters at stop — and the `capture_loss:` config section.
 */
import assert from 'node:assert/strict';
import { CaptureLossMonitor, droppedOf, lossFraction, parseCaptureLossOptions } from '../../src/capture/loss.js';
import type { CaptureDropStats } from '../../src/capture/source.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';

interface Line {
  level: 'warn' | 'info';
  fields: Record<string, unknown>;
  msg: string;
}

function recorder(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { log: { warn: at('warn'), info: at('info') } as unknown as Logger, lines };
}

const OPTIONS = { degraded_fraction: 0.01, window_s: 60, warn_interval_s: 30 };
const T0 = 1_000_000;

/** Counters of a capture: `received` handed over, `dropped` by libpcap's buffer, `ifdropped` by the interface. */
function stats(received: number, dropped = 0, ifdropped = 0): CaptureDropStats {
  return { received, pcap_received: received + dropped, pcap_dropped: dropped, pcap_ifdropped: ifdropped };
}

describe('capture loss: warning, /healthz state, final counters', () => {
  it('the share is lost ÷ (handed over + lost); lost = libpcap drops + interface drops', () => {
    assert.equal(droppedOf(stats(90, 7, 3)), 10);
    assert.equal(lossFraction(10, 90), 0.1);
    assert.equal(lossFraction(0, 0), 0);
    assert.equal(lossFraction(5, 0), 1);
  });

  it('warns when libpcap drops, at most once per warn_interval_s, naming the count, the share and the settings', () => {
    const { log, lines } = recorder();
    const m = new CaptureLossMonitor(OPTIONS, { interface: 'eth1', snaplen_bytes: 65535, buffer_size_bytes: 67_108_864, chunks: 16, chunk_bytes: 2_097_152, immediate: false, analysis_threads: 1 }, T0, log);
    m.sample(stats(1000), T0 + 1000);
    assert.equal(lines.length, 0, 'no drops, no warning');
    m.sample(stats(48_413 + 1000, 1587), T0 + 2000);
    const warnings = () => lines.filter((l) => l.level === 'warn' && l.msg.startsWith('capture lost'));
    assert.equal(warnings().length, 1);
    const w = warnings()[0]!;
    assert.match(w.msg, /^capture lost 1,587 packets in the last 2 s \(3\.11 % of 51,000; 1,587 since start, 3\.11 %\)/);
    assert.match(w.msg, /libpcap dropped them because its ring was full \(the sensor did not drain it in time\): raise capture\.buffer_size_bytes \(--buffer-size, now 67108864\) or the hand-off pool \(capture\.chunks × capture\.chunk_bytes, now 16 × 2097152\); if it keeps losing, the sensor lacks CPU for this traffic: give it a second core \(analysis\.threads: 2, --threads 2\)$/);
    assert.doesNotMatch(w.msg, /immediate/, 'snaplen only matters in immediate mode');
    assert.equal(w.fields['dropped'], 1587);
    assert.equal(w.fields['received'], 49_413);
    assert.equal(w.fields['pcap_dropped'], 1587);
    assert.deepEqual(w.fields['settings'], ['capture.buffer_size_bytes', 'capture.chunks', 'capture.chunk_bytes', 'analysis.threads']);
    // More drops within 30 s: nothing; at 30 s after the warning, one warning counting everything since it.
    for (let s = 3; s < 32; s++) m.sample(stats(50_413 + s * 1000, 1587 + s * 10), T0 + s * 1000);
    assert.equal(warnings().length, 1);
    m.sample(stats(50_413 + 32_000, 1587 + 320), T0 + 32_000);
    assert.equal(warnings().length, 2);
    assert.equal(warnings()[1]!.fields['dropped'], 320);
    assert.equal(warnings()[1]!.fields['period_s'], 30);
    assert.equal(m.warnings, 2);
    // Drops stop: no further warning however long it runs.
    for (let s = 33; s < 200; s++) m.sample(stats(50_413 + s * 1000, 1907), T0 + s * 1000);
    assert.equal(warnings().length, 2);
  });

  it('in immediate mode, names immediate mode and the snaplen too', () => {
    const { log, lines } = recorder();
    const m = new CaptureLossMonitor(OPTIONS, { snaplen_bytes: 65535, immediate: true }, T0, log);
    m.sample(stats(1000, 10), T0 + 1000);
    const w = lines.find((l) => l.msg.startsWith('capture lost'))!;
    assert.match(w.msg, /\(--buffer-size, now the default\).*or turn capture\.immediate off \(in immediate mode every frame takes a capture\.snaplen_bytes slot, now 65535; --snaplen\)/);
    assert.deepEqual(w.fields['settings'], ['capture.buffer_size_bytes', 'capture.chunks', 'capture.chunk_bytes', 'capture.immediate', 'capture.snaplen_bytes']);
    assert.doesNotMatch(w.msg, /analysis\.threads/, 'a second core is named only to a sensor known to run on one');
  });

  it("names the interface's receive ring when the interface itself dropped", () => {
    const { log, lines } = recorder();
    const m = new CaptureLossMonitor(OPTIONS, { interface: 'eth1' }, T0, log);
    m.sample(stats(1000, 0, 50), T0 + 1000);
    const w = lines.find((l) => l.msg.startsWith('capture lost'))!;
    assert.match(w.msg, /the interface itself dropped them \(pcap_ifdropped\): raise its receive ring \(ethtool -G eth1 rx N\)/);
    assert.doesNotMatch(w.msg, /buffer_size_bytes/);
  });

  it('/healthz degraded while the last minute lost more than degraded_fraction; ok again once it recovers', () => {
    const { log, lines } = recorder();
    const m = new CaptureLossMonitor(OPTIONS, {}, T0, log);
    let received = 0;
    let dropped = 0;
    // 10 s at 1,000 packets/s, no loss: ok.
    for (let s = 1; s <= 10; s++) m.sample(stats((received += 1000), dropped), T0 + s * 1000);
    assert.equal(m.degradedReason(), undefined);
    // 0.5 % loss for a while: within the 1 % limit.
    for (let s = 11; s <= 20; s++) m.sample(stats((received += 995), (dropped += 5)), T0 + s * 1000);
    assert.equal(m.degradedReason(), undefined);
    // A burst: 5,000 lost in one second → 5,050 lost of 26,000 in the last 21 s.
    m.sample(stats((received += 1000), (dropped += 5000)), T0 + 21_000);
    const reason = m.degradedReason();
    assert.ok(reason);
    assert.match(reason, /^capture lost 19\.42 % of its packets in the last 21 s \(5,050 of 26,000\), above capture_loss\.degraded_fraction \(1\.00 %\): /);
    assert.match(reason, /capture\.buffer_size_bytes/);
    assert.deepEqual(m.recent(), { dropped: 5050, received: 20_950, fraction: 5050 / 26_000, span_s: 21 });
    assert.equal(lines.filter((l) => l.msg.startsWith('capture degraded (/healthz 503)')).length, 1);
    // No loss afterwards: degraded until the burst leaves the 60-s window, then ok (logged once).
    for (let s = 22; s <= 80; s++) {
      m.sample(stats((received += 1000), dropped), T0 + s * 1000);
      assert.ok(m.degradedReason(), `still degraded at ${s} s`);
    }
    m.sample(stats(received + 1000, dropped), T0 + 81_000);
    assert.equal(m.degradedReason(), undefined);
    assert.equal(m.recent().span_s, 60);
    assert.equal(lines.filter((l) => l.level === 'info' && /back at or below 1\.00 %.*\/healthz ok/.test(l.msg)).length, 1);
  });

  it('degraded_fraction 0 degrades on any loss; 1 never', () => {
    const any = new CaptureLossMonitor({ ...OPTIONS, degraded_fraction: 0 }, {}, T0, recorder().log);
    any.sample(stats(1_000_000, 1), T0 + 1000);
    assert.ok(any.degradedReason());
    const never = new CaptureLossMonitor({ ...OPTIONS, degraded_fraction: 1 }, {}, T0, recorder().log);
    never.sample(stats(0, 1000), T0 + 1000);
    assert.equal(never.degradedReason(), undefined);
  });

  it('logs the final counters at stop: a warning when anything was lost, info otherwise', () => {
    const lossy = recorder();
    const m = new CaptureLossMonitor(OPTIONS, {}, T0, lossy.log);
    m.sample(stats(1587, 48_413), T0 + 1000);
    m.logFinal();
    const last = lossy.lines.at(-1)!;
    assert.equal(last.level, 'warn');
    assert.equal(last.msg, 'capture stopped: 1,587 packets handed to the sensor, 48,413 lost (96.83 %)');
    assert.deepEqual({ ...last.fields }, { received: 1587, dropped: 48_413, pcap_dropped: 48_413, pcap_ifdropped: 0, loss_fraction: 48_413 / 50_000, warnings: 1 });
    const clean = recorder();
    const c = new CaptureLossMonitor(OPTIONS, {}, T0, clean.log);
    c.sample(stats(302_698), T0 + 1000);
    c.logFinal();
    assert.equal(clean.lines.at(-1)!.level, 'info');
    assert.equal(clean.lines.at(-1)!.msg, 'capture stopped: 302,698 packets handed to the sensor, 0 lost (0.00 %)');
  });
});

describe('config: capture_loss section', () => {
  it('defaults written once: 1 % over 60 s, one warning per 30 s; beside the live capture section', () => {
    assert.deepEqual(parseCaptureLossOptions({}), { degraded_fraction: 0.01, window_s: 60, warn_interval_s: 30 });
    const c = parseConfig({ capture: { buffer_size_bytes: 33_554_432 }, capture_loss: { degraded_fraction: 0.001 } }, 'test', {});
    assert.deepEqual(c.capture_loss, { degraded_fraction: 0.001, window_s: 60, warn_interval_s: 30 });
    assert.equal(c.capture.buffer_size_bytes, 33_554_432);
  });

  it('rejects out-of-range values and unknown keys, naming the field', () => {
    assert.throws(() => parseConfig({ capture_loss: { degraded_fraction: 2 } }, 'test', {}), (e: unknown) => e instanceof ConfigError && e.field === 'capture_loss.degraded_fraction');
    assert.throws(() => parseConfig({ capture_loss: { window: 60 } }, 'test', {}), (e: unknown) => e instanceof ConfigError && e.field === 'capture_loss.window');
    assert.throws(() => parseCaptureLossOptions({ window_s: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'capture_loss.window_s');
  });
});
