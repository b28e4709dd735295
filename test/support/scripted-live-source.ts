/**
 * A capture source that behaves like a live interface for the sensor (it has `stats()`, see `CaptureSource`), with the
 * drop counters under the test's control: it plays real frames (read from a capture file) in a loop at a steady
 * rate, stamped with the wall clock as the kernel would stamp them, and counts `drops_per_tick` frames as dropped by
 * libpcap on every tick. Not a mock of a service: it implements the capture-source interface the sensor reads.
 */
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { newCaptureCounters, newCapturedFrame, type CaptureCountersSnapshot, type CaptureDropStats, type CaptureProgress, type CaptureSource, type FrameHandler } from '../../src/capture/source.js';

interface StoredFrame {
  data: Buffer;
  linktype: number;
  orig_len: number;
}

export class ScriptedLiveSource implements CaptureSource {
  readonly description = 'live:scripted';
  /** Frames counted as dropped by libpcap on each tick (change it while the capture runs). */
  drops_per_tick = 0;
  /** While true the wire is quiet: ticks play no frame. */
  paused = false;
  private readonly count = newCaptureCounters();
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private finish: (() => void) | undefined;
  private next = 0;

  private constructor(
    private readonly frames: StoredFrame[],
    private readonly frames_per_tick: number,
    private readonly tick_ms: number,
  ) {}

  /** The frames of `file`, played `frames_per_tick` every `tick_ms`. */
  static async fromFile(file: string, frames_per_tick: number, tick_ms: number): Promise<ScriptedLiveSource> {
    const frames: StoredFrame[] = [];
    const source = await readCapture(file);
    await source.forEachFrame((f) => {
      frames.push({ data: Buffer.from(f.data.subarray(f.data_offset ?? 0, (f.data_offset ?? 0) + f.cap_len)), linktype: f.linktype, orig_len: f.orig_len });
    });
    return new ScriptedLiveSource(frames, frames_per_tick, tick_ms);
  }

  forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot> {
    const f = newCapturedFrame();
    return new Promise((resolve, reject) => {
      this.finish = () => resolve({ ...this.count });
      this.timer = setInterval(() => {
        const now = Date.now();
        for (let i = 0; i < (this.paused ? 0 : this.frames_per_tick); i++) {
          const s = this.frames[this.next++ % this.frames.length]!;
          f.ts_sec = Math.floor(now / 1000);
          f.ts_nsec = (now % 1000) * 1e6 + i;
          f.data = s.data;
          f.data_offset = 0;
          f.cap_len = s.data.length;
          f.orig_len = s.orig_len;
          f.linktype = s.linktype;
          this.count.frames++;
          this.count.frame_bytes += s.data.length;
          try {
            const r = handler(f);
            if (r !== undefined) r.catch(reject);
          } catch (err) {
            this.stop();
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
        }
        this.dropped += this.drops_per_tick;
      }, this.tick_ms);
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const finish = this.finish;
    this.finish = undefined;
    finish?.();
  }

  progress(): CaptureProgress {
    return { bytes_read: this.count.frame_bytes, bytes_total: 0, frames: this.count.frames };
  }

  counters(): CaptureCountersSnapshot {
    return { ...this.count };
  }

  stats(): CaptureDropStats {
    return { received: this.count.frames, pcap_received: this.count.frames + this.dropped, pcap_dropped: this.dropped, pcap_ifdropped: 0 };
  }
}
