/**
 * A sensor's `ww_health` points (component sensor; the contract is src/records/health.ts `SensorHealth`), written the
 * same way by `wardwatch run` and by `wardwatch sensor`: the contract's fields over the stages' counters and the
 * process's own. The analysis stage's counters are read at this point of the packet stream (`snapshot()`: at once on
 * one thread, when the worker gets there on two), so a point holds the same values either way.
 */
import { sensorHealth, sinkRetries, type SensorHealth, type SensorHealthSample } from '../records/health.js';
import type { SinkSet } from '../sinks/fanout.js';
import { componentLogger } from '../log.js';
import { describeError } from '../errors.js';
import type { FrameLoop } from './frame-loop.js';

/** A frame loop's counters as health reads them. */
export interface CaptureHealthCounters {
  packets: number;
  /** Frames the capture lost before the sensor read them (libpcap's drops; 0 for a file). */
  packets_dropped: number;
  decode_errors: number;
}

/** The counters of `loop` (zero before the capture started). */
export function loopCounters(loop: FrameLoop | undefined): CaptureHealthCounters {
  return { packets: loop?.packets ?? 0, packets_dropped: loop?.dropped() ?? 0, decode_errors: loop?.decoder.counters.snapshot().malformed ?? 0 };
}

export interface SensorHealthSources {
  /** The capture's and decoder's counters now (`loopCounters`). */
  counters: () => CaptureHealthCounters;
  /** The analysis stage's counters at this point of the packet stream (`PipelineRunner.snapshot`). */
  stages: () => Promise<Record<string, number>>;
  /** `flows.max_flows`: the flow table's cap (`flow_table_fill`). */
  max_flows: number;
  /** Windows not delivered yet (a Kafka sensor: the producer's memory and spool); 0 in one process. */
  undelivered?: () => number;
  /** The process's own counters (producer, capture, loss watch, …), written with the point. */
  own?: () => Record<string, number>;
}

export class SensorHealthReporter {
  private readonly log = componentLogger('health');
  private last: SensorHealthSample | undefined;
  private readonly writes = new Set<Promise<void>>();
  /** Points queued. */
  points = 0;
  /** Points given up because InfluxDB never became ready (the writer counts its own drops). */
  pointsDropped = 0;
  /** The first write that failed (InfluxDB refused it), if any. */
  error: Error | undefined;

  /**
   * @param ready resolves true once the sinks started (InfluxDB database created), false if they never will: the
   *   points wait for it, the capture does not
   */
  constructor(
    private readonly sinks: SinkSet,
    private readonly src: SensorHealthSources,
    private readonly ready: Promise<boolean> = Promise.resolve(true),
  ) {}

  /** The health sample at `at`, with `flowsActive` from the analysis stage's counters. */
  private sample(at: number, flowsActive: number): SensorHealthSample {
    return {
      at,
      ...this.src.counters(),
      flows_active: flowsActive,
      max_flows: this.src.max_flows,
      windows_undelivered: this.src.undelivered?.() ?? 0,
      sink_retries: sinkRetries(this.sinks.stats()),
    };
  }

  /** The base the first point's rates are counted from (a live capture's start). */
  base(at: number): void {
    this.last = this.sample(at, 0);
  }

  /**
   * Queues one point at `at` (seconds); `written` gets its values once they are known (the contract's and the
   * counters). The process's own counters are read now, the analysis stage's at this point of the packet stream.
   */
  write(at: number, written?: (health: SensorHealth, values: Record<string, number>) => void): void {
    const now = this.sample(at, 0);
    const own = this.src.own?.() ?? {};
    const previous = this.last;
    this.last = now;
    this.points++;
    const point = this.src
      .stages()
      .then((stages) => {
        const health = sensorHealth({ ...now, flows_active: stages['flows_active'] ?? 0 }, previous);
        const values = { ...stages, ...own, ...health };
        written?.(health, values);
        return this.ready.then((ok) => (ok ? this.sinks.onHealth('sensor', at, values) : void this.pointsDropped++));
      })
      .catch((err: unknown) => {
        this.error ??= err instanceof Error ? err : new Error(String(err));
        this.log.warn({ err: describeError(err) }, 'sensor health point not written');
      });
    this.writes.add(point);
    void point.finally(() => this.writes.delete(point));
  }

  /** Resolves once every queued point was written or failed. */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }
}
