#!/usr/bin/env node
/**
 * `node dist/scripts/capture-loss-sweep.js [capture] [max,max,...]`: how packet loss changes what the detector alerts,
 * and what `detect.capture_loss_max` does about it — the measurement behind that option's default
 * (src/detect/README.md, "Capture loss").
 *
 * The capture (default the shipped demo, with its labels and the committed demo models in models/) is replayed with
 * frames removed by a loss pattern (uniform random; a hole after each window boundary, as a window close stalls the
 * sensor; holes at random times, as GC pauses or other work do); each window carries the share of frames removed from
 * its interval as `capture_loss` (sensor-wide, what `AnalysisPipeline.noteCaptureLoss` gives a live sensor). Per
 * pattern and `capture_loss_max`: model (anomaly) alerts before the first labelled attack (all false: the capture is
 * benign until then) and the labelled attacks alerted (any alert kind on the attacker during the attack or in the
 * minute after). Deterministic (seeded), about 5 s per replay.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCapture } from '../src/capture/pcap-file/reader.js';
import { encodePcap, type FrameToWrite } from '../src/capture/pcap-file/writer.js';
import { loadConfig } from '../src/config/load.js';
import { parseDetectConfig, selectBackendFor } from '../src/detect/index.js';
import { replayCapture } from '../src/compose/embedded.js';

interface Label {
  kind: string;
  device_id: string;
  start: number;
  end: number;
}

const capture = resolve(process.argv[2] ?? 'captures/demo.pcap');
const maxes = (process.argv[3] ?? '1,0.01,0.005,0.002').split(',').map(Number);
const labels = (JSON.parse(readFileSync(capture.replace(/\.pcap$/, '.labels.json'), 'utf8')) as { attacks: Label[] }).attacks;
const config = loadConfig(undefined);
const modelsDir = resolve('models');
const windowMs = config.features.window_ms;

const frames: FrameToWrite[] = [];
let linktype = 1;
await (await readCapture(capture)).forEachFrame((f) => {
  linktype = f.linktype;
  const at = f.data_offset ?? 0;
  frames.push({ ts_sec: f.ts_sec, ts_nsec: f.ts_nsec, data: Buffer.from(f.data.subarray(at, at + f.cap_len)), orig_len: f.orig_len });
});
await selectBackendFor(parseDetectConfig({ ...config.detect, models_dir: modelsDir }), 'score');
const firstAttack = Math.min(...labels.map((a) => a.start));
const ms = (f: FrameToWrite): number => f.ts_sec * 1000 + f.ts_nsec / 1e6;
const dir = mkdtempSync(join(tmpdir(), 'ww-loss-sweep-'));

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Frame → kept? The pattern sees the frames in order. */
type Pattern = (f: FrameToWrite) => boolean;

async function sweep(name: string, keep: Pattern): Promise<string> {
  const total = new Map<number, number>();
  const dropped = new Map<number, number>();
  const kept = frames.filter((f) => {
    const k = keep(f);
    const interval = (Math.floor(ms(f) / windowMs) * windowMs) / 1000;
    total.set(interval, (total.get(interval) ?? 0) + 1);
    if (!k) dropped.set(interval, (dropped.get(interval) ?? 0) + 1);
    return k;
  });
  const file = join(dir, 'lossy.pcap');
  writeFileSync(file, encodePcap(kept, { linktype }));
  const cells: string[] = [];
  for (const max of maxes) {
    const detect = parseDetectConfig({ ...config.detect, models_dir: modelsDir, capture_loss_max: max });
    const r = await replayCapture(file, detect, {
      flows: config.flows,
      devices: config.devices,
      features: config.features,
      collect: false,
      onWindow: (w) => {
        w.capture_loss = (dropped.get(w.window_start) ?? 0) / (total.get(w.window_start) ?? 1);
      },
    });
    const falseAlerts = r.alerts.filter((a) => a.kind === 'anomaly' && a.ts <= firstAttack).length;
    const detected = labels.filter((at) => r.alerts.some((a) => a.kind !== 'new_device' && a.device_id === at.device_id && a.ts >= at.start && a.since <= at.end + 60));
    const missed = labels.filter((at) => !detected.includes(at)).map((a) => a.kind);
    cells.push(`${falseAlerts} / ${detected.length}${missed.length ? ` (${missed.join(', ')})` : ''}`);
  }
  const lost = 1 - kept.length / frames.length;
  return `| ${name} | ${(lost * 100).toFixed(2)} % | ${cells.join(' | ')} |`;
}

const rows: string[] = [];
rows.push(await sweep('none', () => true));
for (const p of [0.001, 0.002, 0.005, 0.01, 0.02, 0.05]) {
  const r = lcg(12345);
  rows.push(await sweep(`uniform ${p * 100} %`, () => r() >= p));
}
for (const x of [50, 200, 1000]) rows.push(await sweep(`first ${x} ms of every window`, (f) => ms(f) % windowMs >= x));
for (const [hole, every] of [
  [50, 3000],
  [200, 3000],
  [500, 2000],
] as const) {
  const r = lcg(777);
  const holes: number[] = [];
  for (let t = ms(frames[0]!); t < ms(frames.at(-1)!); t += every * (0.5 + r())) holes.push(t);
  let i = 0;
  rows.push(
    await sweep(`${hole}-ms holes, one per ~${every / 1000} s`, (f) => {
      const t = ms(f);
      while (i < holes.length && holes[i]! + hole <= t) i++;
      return !(i < holes.length && t >= holes[i]! && t < holes[i]! + hole);
    }),
  );
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${capture}: model alerts before the first attack (false) / labelled attacks alerted (of ${labels.length}), by capture_loss_max\n\n` +
    `| frames removed | lost | ${maxes.map((m) => `max ${m}`).join(' | ')} |\n|---|---:|${maxes.map(() => '---').join('|')}|\n${rows.join('\n')}\n`,
);
