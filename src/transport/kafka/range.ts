/**
 * Reads the feature windows of a packet-time range back from the feature topic (for `wardwatch train --from-kafka`).
 *
 * Kafka's message timestamps are the sensor's wall clock when it produced (CreateTime), and a window is produced
 * after it closed, so a message whose timestamp is before `from − clock_skew_s` holds only windows that ended before
 * `from`: the start offset of each partition is looked up by that timestamp (`fetchTopicOffsetsByTimestamp`; for a
 * replayed old capture this is simply the earliest offset). The end bound is each partition's end offset when the
 * read starts (what a sensor writes meanwhile is not read). Windows are kept when `window_start ≥ from` and
 * `window_end ≤ to` (as when training from a capture), and at-least-once duplicates (same sensor, device and
 * window start) are kept once. Undecodable messages are counted and skipped (the detectors dead-letter them).
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { FeatureWindow } from '../../records/features.js';
import { FORMAT_HEADER, PoisonMessageError, decodeWindows } from '../codec.js';
import { kafkaFailure } from './client.js';

export interface WindowRangeOptions {
  /** Epoch seconds (packet time); -Infinity / Infinity for open ends. */
  from: number;
  to: number;
  /** How far a sensor's clock may be ahead of packet time (seconds). */
  clock_skew_s?: number;
  timeout_ms?: number;
}

export interface WindowRangeResult {
  windows: FeatureWindow[];
  messages: number;
  duplicates: number;
  undecodable: number;
}

export async function readWindowRange(kafka: Kafka, brokers: string[], topic: string, o: WindowRangeOptions): Promise<WindowRangeResult> {
  const admin = kafka.admin();
  const out: WindowRangeResult = { windows: [], messages: 0, duplicates: 0, undecodable: 0 };
  const seen = new Set<string>();
  try {
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    const startMs = Number.isFinite(o.from) ? Math.max(0, Math.floor((o.from - (o.clock_skew_s ?? 300)) * 1000)) : 0;
    const starts = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, startMs)) {
      const end = ends.get(p.partition) ?? 0n;
      const off = BigInt(p.offset);
      starts.set(p.partition, off < 0n || off > end ? end : off);
    }
    const pending = new Set([...ends].filter(([p, end]) => (starts.get(p) ?? end) < end).map(([p]) => p));
    if (pending.size === 0) return out;
    const consumer = kafka.consumer({ groupId: `ww-range-reader-${randomBytes(6).toString('hex')}`, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0n;
          const start = starts.get(batch.partition) ?? end;
          for (const m of batch.messages) {
            const off = BigInt(m.offset);
            if (off < start || off >= end) continue;
            out.messages++;
            let windows: FeatureWindow[];
            try {
              windows = decodeWindows(m.value, m.headers?.[FORMAT_HEADER]?.toString());
            } catch (err) {
              if (!(err instanceof PoisonMessageError)) throw err;
              out.undecodable++;
              continue;
            }
            for (const w of windows) {
              if (w.window_start < o.from || w.window_end > o.to) continue;
              const key = `${w.sensor_id}\u0000${w.device_id}\u0000${w.window_start}`;
              if (seen.has(key)) {
                out.duplicates++;
                continue;
              }
              seen.add(key);
              out.windows.push(w);
            }
          }
          if (BigInt(batch.lastOffset()) + 1n >= end) pending.delete(batch.partition);
          if (pending.size === 0) resolve();
          return Promise.resolve();
        },
      });
      for (const [p, end] of ends) consumer.seek({ topic, partition: p, offset: (starts.get(p) ?? end).toString() });
      const timeout = o.timeout_ms ?? 300_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${timeout} ms reading ${topic} (${pending.size} partitions unfinished)`)), timeout)))]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    return out;
  } catch (err) {
    throw kafkaFailure(brokers, `read windows from ${topic}`, err);
  } finally {
    await admin.disconnect();
  }
}
