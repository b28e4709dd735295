/**
 * Event scheduler driven by simulated time, and the time-ordered frame output.
 *
 * Events sit in a binary min-heap keyed by (time, insertion order), so equal times run in the order they were
 * scheduled and the run is deterministic. An event may emit frames at its own time or later (a TCP exchange spans a
 * few ms); emitted frames wait in a second heap and are written once the clock has passed them. Both heaps stay small
 * (events per device are rescheduled one at a time; frames wait only for the length of one exchange), so memory is
 * bounded whatever the duration: the capture streams to disk.
 *
 * Time is an integer number of microseconds since the Unix epoch.
 */
import type { CaptureWriter } from './pcap-writer.js';

interface HeapItem<T> {
  t: number;
  n: number;
  v: T;
}

export class MinHeap<T> {
  private readonly items: HeapItem<T>[] = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items.length > 0 ? this.items[0]!.t : Infinity;
  }

  push(t: number, v: T): void {
    const items = this.items;
    const item = { t, n: this.counter++, v };
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.t < t || (parent.t === t && parent.n < item.n)) break;
      items[i] = parent;
      i = p;
    }
    items[i] = item;
  }

  pop(): HeapItem<T> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      const li = items[l]!;
      if (r < n) {
        const ri = items[r]!;
        if (ri.t < li.t || (ri.t === li.t && ri.n < li.n)) c = r;
      }
      const ci = items[c]!;
      if (last.t < ci.t || (last.t === ci.t && last.n < ci.n)) break;
      items[i] = ci;
      i = c;
    }
    items[i] = last;
    return top;
  }
}

export type EventFn = (now: number) => void;

export class Engine {
  private readonly events = new MinHeap<EventFn>();
  private readonly frames = new MinHeap<Buffer>();
  /** Current simulated time (µs), the time of the event being run. */
  now: number;
  /** Frames an event tried to emit before its own time (clamped to `now`); should stay 0. */
  clamped = 0;
  maxPendingFrames = 0;

  constructor(
    readonly startUs: number,
    readonly endUs: number,
    private readonly writer: CaptureWriter,
  ) {
    this.now = startUs;
  }

  /** Schedules `fn` at time `t` (µs). Events at or after the end are dropped. */
  at(t: number, fn: EventFn): void {
    const when = Math.round(t);
    if (when >= this.endUs) return;
    this.events.push(Math.max(when, this.now), fn);
  }

  /** Queues a frame for output at time `t` (µs). Frames at or after the end are dropped. */
  emit(t: number, frame: Buffer): void {
    let when = Math.round(t);
    if (when < this.now) {
      this.clamped++;
      when = this.now;
    }
    if (when >= this.endUs) return;
    this.frames.push(when, frame);
    if (this.frames.size > this.maxPendingFrames) this.maxPendingFrames = this.frames.size;
  }

  private flushUntil(t: number): void {
    while (this.frames.size > 0 && this.frames.peekTime() <= t) {
      const f = this.frames.pop()!;
      this.writer.write(f.t, f.v);
    }
  }

  /** Runs every event in time order until the end time, then writes the remaining frames. */
  run(): void {
    while (this.events.size > 0) {
      const e = this.events.pop()!;
      this.flushUntil(e.t);
      this.now = e.t;
      e.v(e.t);
    }
    this.flushUntil(Infinity);
  }
}
