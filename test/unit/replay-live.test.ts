/**
 * The live loop of the embedded pipeline (src/compose/embedded.ts and frame-loop.ts, `clock: 'wall'`) on a fake source whose wire goes quiet
 * after a port scan: the window closes with no further packet (the alert arrives while the capture still runs),
 * health is sampled on wall time, a stop flushes the rest and returns; `AnalysisPipeline.closeIdle` closes exactly what the next packet
 * would.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { newCaptureCounters, newCapturedFrame, type CaptureCountersSnapshot, type CaptureProgress, type CaptureSource, type FrameHandler } from '../../src/capture/source.js';
import type * as W from '../../src/capture/pcap-file/writer.js';
import { parseDetectConfig } from '../../src/detect/config.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import type { Alert } from '../../src/records/alert.js';
import type { FeatureWindow } from '../../src/records/features.js';
import { LinkType, newDecodedPacket } from '../../src/records/packet.js';
import { replayCapture, type HealthSample } from '../../src/compose/embedded.js';
import { portScanFrames } from '../support/port-scan.js';

/** Frames as a live source hands them over (stamped now), then nothing until `stop()`: a wire gone quiet. */
class QuietWireSource implements CaptureSource {
  readonly description = 'live:fake0';
  started = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly count = newCaptureCounters();

  constructor(private readonly frames: () => W.FrameToWrite[]) {}

  async forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    this.started++;
    const f = newCapturedFrame();
    f.linktype = LinkType.ETHERNET;
    for (const fr of this.frames()) {
      f.ts_sec = fr.ts_sec;
      f.ts_nsec = fr.ts_nsec;
      f.data = fr.data;
      f.cap_len = f.orig_len = fr.data.length;
      this.count.frames++;
      this.count.frame_bytes += fr.data.length;
      await handler(f);
    }
    if (!this.stopped) await new Promise<void>((r) => (this.wake = r));
    return { ...this.count };
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  progress(): CaptureProgress {
    return { bytes_read: this.count.frame_bytes, bytes_total: 0, frames: this.count.frames };
  }

  counters(): CaptureCountersSnapshot {
    return { ...this.count };
  }
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the live loop of the embedded pipeline (clock: wall)', function () {
  this.timeout(20_000);
  const detect = parseDetectConfig({ models_dir: path.join(os.tmpdir(), 'ww-run-live-no-models') });
  const features = { window_ms: 1000, sensor_id: 'unit', run_id: '' };

  it('closes the window when the wire goes quiet: the scan is alerted while the capture still runs; a stop flushes and returns', async () => {
    const source = new QuietWireSource(() => portScanFrames(Date.now() / 1000));
    const controller = new AbortController();
    const alerts: Alert[] = [];
    const health: HealthSample[] = [];
    let started = 0;
    const run = replayCapture(source, detect, {
      features,
      clock: 'wall',
      wall_tick_ms: 20,
      idle_grace_ms: 50,
      health_interval_s: 0.2,
      signal: controller.signal,
      onCaptureStart: () => started++,
      onHealth: (_ts, h) => health.push(h),
      sinks: { onAlerts: (a) => void alerts.push(...a) },
    });
    // One window (≤ 1 s) + the grace + a tick: the alert comes with no further packet and no stop.
    await until('the port scan alert', () => alerts.some((a) => a.kind === 'port_scan'), 3000);
    await until('a health sample', () => health.length > 0, 1000);
    assert.equal(started, 1);
    assert.equal(health.at(-1)!.packets_dropped, 0);
    assert.equal(health.at(-1)!.packets, portScanFrames(0).length);
    const t = Date.now();
    controller.abort();
    const result = await run;
    assert.ok(Date.now() - t < 1000, 'stopped promptly');
    assert.equal(source.started, 1);
    assert.equal(result.packets, portScanFrames(0).length);
    assert.deepEqual(result.alerts.map((a) => a.kind).sort(), alerts.map((a) => a.kind).sort());
    assert.equal(result.live, undefined, 'no libpcap counters for a source that is not libpcap');
  });

  it('a stop before the capture started: nothing is read, the run returns', async () => {
    const source = new QuietWireSource(() => portScanFrames(Date.now() / 1000));
    const controller = new AbortController();
    controller.abort();
    const result = await replayCapture(source, detect, { features, clock: 'wall', signal: controller.signal });
    assert.equal(source.started, 0);
    assert.equal(result.packets, 0);
    assert.deepEqual(result.alerts, []);
  });

  it('AnalysisPipeline.closeIdle closes what the next packet would: the window once past its end, then idle flows; nothing before the first packet', () => {
    const windows: FeatureWindow[] = [];
    const pipeline = new AnalysisPipeline({ features: { window_ms: 1000 } }, { onWindow: (w) => windows.push(w) });
    pipeline.closeIdle(10_000_000); // no packet yet
    assert.equal(pipeline.metrics()['features_windows_emitted'], 0);
    const t0 = 1767603600; // a window boundary
    const decoder = new PacketDecoder();
    const p = newDecodedPacket();
    const f = newCapturedFrame();
    f.linktype = LinkType.ETHERNET;
    for (const fr of portScanFrames(t0)) {
      f.ts_sec = fr.ts_sec;
      f.ts_nsec = fr.ts_nsec;
      f.data = fr.data;
      f.cap_len = f.orig_len = fr.data.length;
      decoder.decode(f, p);
      pipeline.process(p);
    }
    const active = pipeline.metrics()['flows_active']!;
    assert.ok(active > 0);
    pipeline.closeIdle(t0 * 1000 + 999); // inside the window: nothing closes
    assert.equal(windows.length, 0);
    pipeline.closeIdle((t0 + 1) * 1000); // its end: the window closes (both devices)
    assert.equal(windows.length, 2);
    assert.ok(windows.every((w) => w.window_start === t0 && w.window_end === t0 + 1));
    assert.equal(pipeline.metrics()['flows_active'], active, 'flows are not idle yet');
    pipeline.closeIdle((t0 + 3600) * 1000); // an hour of silence: every flow timed out
    assert.equal(pipeline.metrics()['flows_active'], 0);
  });
});
