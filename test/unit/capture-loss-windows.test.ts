/**
 * Each feature window carries the capture loss seen while it was open (`FeatureWindow.capture_loss`, metadata, not a
 * feature): noted by the frame loop through `AnalysisPipeline.noteCaptureLoss`, sensor-wide (every device's window of
 * an interval has the same value), absent when nothing was noted (a file); carried by both Kafka codecs and written
 * to InfluxDB beside the features.
 */
import assert from 'node:assert/strict';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import { FEATURE_COUNT, type FeatureWindow } from '../../src/records/features.js';
import { windowPoint } from '../../src/sinks/influx/points.js';
import {
  PoisonMessageError,
  WINDOW_BATCH,
  WINDOW_BINARY,
  WINDOW_BINARY_V2,
  WINDOW_JSON,
  decodeWindowBinary,
  decodeWindows,
  encodeWindow,
  encodeWindowBatch,
  encodeWindowBinary,
} from '../../src/transport/codec.js';
import { udp } from '../support/packets.js';

const A = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 4000 };
const B = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 5000 };
const T0 = 1_767_225_600; // a multiple of 10 s

function pipeline(): { pipe: AnalysisPipeline; windows: FeatureWindow[] } {
  const windows: FeatureWindow[] = [];
  const pipe = new AnalysisPipeline({ devices: { require_evidence: false } }, { onWindow: (w) => windows.push(w) });
  return { pipe, windows };
}

/** A packet each way at `t` (both devices get a window for its interval). */
function exchange(pipe: AnalysisPipeline, t: number): void {
  pipe.process(udp(t, A, B, 100));
  pipe.process(udp(t + 0.001, B, A, 100));
}

describe('FeatureWindow.capture_loss: the capture loss seen while the window was open', () => {
  it('absent when the frame loop never noted capture counters (a file)', () => {
    const { pipe, windows } = pipeline();
    exchange(pipe, T0 + 1);
    exchange(pipe, T0 + 11);
    pipe.flush();
    assert.equal(windows.length, 4);
    for (const w of windows) assert.ok(!('capture_loss' in w), JSON.stringify(w));
  });

  it("dropped ÷ (handed over + dropped) over the window's interval, the same for every device, 0 without loss", () => {
    const { pipe, windows } = pipeline();
    pipe.noteCaptureLoss(0, 0); // at capture start
    exchange(pipe, T0 + 1);
    pipe.noteCaptureLoss(30, 470); // start-up: 30 dropped, 470 read
    exchange(pipe, T0 + 5);
    pipe.noteCaptureLoss(50, 950); // 20 more dropped, 480 more read: window 1 lost 50 of 1,000
    exchange(pipe, T0 + 12); // closes window 1
    pipe.noteCaptureLoss(50, 1950); // window 2: nothing lost
    exchange(pipe, T0 + 21);
    pipe.noteCaptureLoss(150, 2850); // window 3: 100 of 1,000
    exchange(pipe, T0 + 35); // closes window 3; window 4 saw no note
    pipe.flush();
    const byStart = new Map<number, number[]>();
    for (const w of windows) byStart.set(w.window_start, [...(byStart.get(w.window_start) ?? []), w.capture_loss!]);
    assert.deepEqual([...byStart], [
      [T0, [0.05, 0.05]],
      [T0 + 10, [0, 0]],
      [T0 + 20, [0.1, 0.1]],
      [T0 + 30, [0, 0]],
    ]);
    // The feature vector is untouched: capture loss is metadata, not a feature.
    for (const w of windows) assert.equal(w.values.length, FEATURE_COUNT);
  });

  it('counters that went down (a new capture) count from zero again', () => {
    const { pipe, windows } = pipeline();
    pipe.noteCaptureLoss(1000, 9000);
    exchange(pipe, T0 + 1);
    pipe.noteCaptureLoss(10, 90);
    pipe.flush();
    assert.deepEqual(windows.map((w) => w.capture_loss), [1010 / 10_100, 1010 / 10_100]);
  });
});

describe('capture_loss through the codecs and to InfluxDB', () => {
  const base: FeatureWindow = {
    schema_version: 1,
    feature_schema_version: 2,
    device_id: 'mac:02:00:00:00:00:01',
    sensor_id: 'ward-3',
    run_id: '',
    window_start: T0,
    window_end: T0 + 10,
    values: Array.from({ length: FEATURE_COUNT }, (_, i) => i * 1.5),
    new_peers: ['10.0.0.9'],
    new_dst_ports: [443],
  };
  const lossy: FeatureWindow = { ...base, capture_loss: 0.0314 };

  it('binary: a window with capture_loss is ww-window-bin/2 and decodes to the same record; one without is byte-identical v1', () => {
    const m = encodeWindow(lossy);
    assert.equal(m.format, WINDOW_BINARY_V2);
    assert.equal(m.value[0], 2);
    assert.deepEqual(decodeWindows(m.value, m.format), [lossy]);
    const plain = encodeWindow(base);
    assert.equal(plain.format, WINDOW_BINARY);
    assert.equal(plain.value[0], 1);
    // v2 = v1 + one flags byte + the f64.
    assert.equal(m.value.length, plain.value.length + 9);
    assert.deepEqual(m.value.subarray(1, plain.value.length), plain.value.subarray(1));
    const decoded = decodeWindows(plain.value, plain.format)[0]!;
    assert.ok(!('capture_loss' in decoded));
    assert.deepEqual(decoded, base);
  });

  it('binary v2: truncated metadata, unknown flags and trailing bytes are poison; a v2 window with no flags has no capture_loss', () => {
    const good = encodeWindowBinary(lossy);
    for (const cut of [1, 5, 9]) assert.throws(() => decodeWindowBinary(good.subarray(0, good.length - cut)), PoisonMessageError, `cut ${cut}`);
    const flags = Buffer.from(good);
    flags[good.length - 9] = 3;
    assert.throws(() => decodeWindowBinary(flags), /unknown metadata flags 0x3/);
    assert.throws(() => decodeWindowBinary(Buffer.concat([good, Buffer.from([0])])), /trailing/);
    const none = Buffer.from(good.subarray(0, good.length - 8));
    none[none.length - 1] = 0;
    assert.deepEqual(decodeWindowBinary(none), base);
  });

  it('JSON carries it as a field; a batch of v2 windows (inner codec 2) round-trips; formats are not mixed in one batch', () => {
    const j = encodeWindow(lossy, 'json');
    assert.equal(j.format, WINDOW_JSON);
    assert.deepEqual(decodeWindows(j.value, j.format), [lossy]);
    assert.throws(() => decodeWindows(Buffer.from(JSON.stringify({ ...lossy, capture_loss: 'high' })), WINDOW_JSON), PoisonMessageError);
    const windows = [lossy, { ...lossy, device_id: 'mac:02:00:00:00:00:02', capture_loss: 0 }];
    const batch = encodeWindowBatch(windows.map((w) => encodeWindow(w)));
    assert.equal(batch[1], 2, 'inner codec 2 = ww-window-bin/2');
    assert.deepEqual(decodeWindows(batch, WINDOW_BATCH), windows);
    assert.throws(() => encodeWindowBatch([encodeWindow(lossy), encodeWindow(base)]), /mixes window formats/);
  });

  it('InfluxDB: a capture_loss field beside the features of ww_device_window (absent when the window has none)', () => {
    assert.equal(windowPoint(lossy, undefined).fields?.['capture_loss'], 0.0314);
    assert.equal(windowPoint(base, undefined).fields?.['capture_loss'], undefined);
  });
});
