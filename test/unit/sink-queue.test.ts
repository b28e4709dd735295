/**
 * The detector's sink queue (src/sinks/queue.ts): batches that queued up behind a write are written to the sinks in one
 * write (bounded by `max_coalesce_windows`), in acceptance order; each batch's `after` runs in order and its `durable`
 * resolves after its own `after`; a batch whose `after` fails for good is not durable, nor is any later one.
 */
import assert from 'node:assert/strict';
import type { SinkSet } from '../../src/sinks/fanout.js';
import { SinkQueue, type SinkBatch } from '../../src/sinks/queue.js';
import { ServiceError } from '../../src/errors.js';
import { makeWindows } from '../support/windows.js';

/** A SinkSet stand-in recording each storeBatch call's windows (by device id and start), held until released. */
class RecordingSinks {
  readonly writes: string[][] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open();
  }
  queueNotices(): Promise<void> {
    return Promise.resolve();
  }
  async storeBatch(_scores: unknown[], windows: { device_id: string; window_start: number }[]): Promise<void> {
    this.writes.push(windows.map((w) => `${w.device_id}@${w.window_start}`));
    await this.gate;
  }
}

const windows = makeWindows(4, 6, 3); // 24 windows
const batch = (from: number, n: number, after?: () => Promise<void>): SinkBatch => ({ windows: windows.slice(from, from + n), scores: [], alerts: [], ...(after ? { after } : {}) });
const ids = (from: number, n: number): string[] => windows.slice(from, from + n).map((w) => `${w.device_id}@${w.window_start}`);

describe('SinkQueue: queued batches are written together, in order', () => {
  it('batches accepted while a write is in progress go to the sinks in one write; afters and durables in order', async () => {
    const sinks = new RecordingSinks();
    const order: string[] = [];
    const durables: number[] = [];
    const q = new SinkQueue(sinks as unknown as SinkSet, { max_coalesce_windows: 1000 });
    sinks.hold();
    const first = await q.accept(batch(0, 4, () => Promise.resolve(void order.push('after 1'))));
    const rest = [];
    for (let i = 1; i < 5; i++) rest.push(await q.accept(batch(i * 4, 4, () => Promise.resolve(void order.push(`after ${i + 1}`)))));
    for (const [i, r] of [first, ...rest].entries()) void r!.durable.then(() => durables.push(i + 1));
    sinks.release();
    await Promise.all([first, ...rest].map((r) => r!.durable));
    assert.deepEqual(sinks.writes, [ids(0, 4), ids(4, 16)]);
    assert.deepEqual(order, ['after 1', 'after 2', 'after 3', 'after 4', 'after 5']);
    assert.deepEqual(durables, [1, 2, 3, 4, 5]);
    assert.equal(q.stats().writes, 2);
    assert.equal(q.stats().batches_written, 5);
    assert.equal(q.stats().pending_windows, 0);
  });

  it('one write holds at most max_coalesce_windows windows (a larger batch alone)', async () => {
    const sinks = new RecordingSinks();
    const q = new SinkQueue(sinks as unknown as SinkSet, { max_coalesce_windows: 8 });
    sinks.hold();
    const accepted = [await q.accept(batch(0, 2)), await q.accept(batch(2, 4)), await q.accept(batch(6, 4)), await q.accept(batch(10, 10)), await q.accept(batch(20, 4))];
    sinks.release();
    await Promise.all(accepted.map((r) => r!.durable));
    assert.deepEqual(sinks.writes, [ids(0, 2), ids(2, 8), ids(10, 10), ids(20, 4)]);
  });

  it('an after that fails for good: that batch and the later ones of its write are not durable, the earlier ones are', async () => {
    const sinks = new RecordingSinks();
    const q = new SinkQueue(sinks as unknown as SinkSet, { max_coalesce_windows: 1000 });
    sinks.hold();
    const a = await q.accept(batch(0, 4));
    const b = await q.accept(batch(4, 4));
    const c = await q.accept(batch(8, 4, () => Promise.reject(new ServiceError('kafka test', 'state refused', { retriable: false, code: 'WW_KAFKA_UNAVAILABLE' }))));
    const d = await q.accept(batch(12, 4));
    sinks.release();
    await a!.durable;
    await b!.durable;
    await assert.rejects(c!.durable, /state refused/);
    await assert.rejects(d!.durable, /state refused/);
  });
});
