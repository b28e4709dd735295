/**
 * What a sensor's frame loop drives: the analysis pipeline (src/pipeline/analysis.ts) on this thread, or on a worker
 * thread (src/pipeline/threaded.ts, `analysis.threads: 2`). Both give the same windows, flow records and counters,
 * in the same order, at the same points of the packet stream; the threaded one gives them a little later (when the
 * worker answers), which is why the counters are read with `snapshot()` (a promise) and flushing is awaited.
 */
import type { DecodedPacket } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import type { InventoryEntry } from '../records/device.js';
import { AnalysisPipeline, type AnalysisPipelineOptions } from './analysis.js';
import type { AnalysisThreadsOptions } from './config.js';
import { ThreadedPipeline } from './threaded.js';

export interface PipelineOutputs {
  /**
   * A feature window was closed, with its device's inventory entry when a field a detector uses changed since the
   * device's previous window (`AnalysisPipeline.changedEntry`), else undefined.
   */
  onWindow?: (w: FeatureWindow, entry: InventoryEntry | undefined) => void;
  /** Ended flows' records (only built when this is set). */
  onFlow?: (r: FlowRecord) => void;
}

export interface PipelineRunner {
  /** 1: this thread; 2: analysis on a worker thread. */
  readonly threads: number;
  /** Analyses one decoded packet (copied: `p` may be reused at once). A promise asks the caller to wait for it. */
  process(p: DecodedPacket): Promise<void> | undefined;
  /** `AnalysisPipeline.noteCaptureLoss`, at this point of the packet stream. */
  noteCaptureLoss(cumulativeDropped: number, cumulativeReceived: number): void;
  /** `AnalysisPipeline.closeIdle`, at this point of the packet stream. */
  closeIdle(ms: number): void;
  /** The stages' counters (`AnalysisPipeline.metrics`) once every packet given so far is analysed. */
  snapshot(): Promise<Record<string, number>>;
  /** The inventory's entries (confirmed devices, `DeviceInventory.entries`) once every packet given so far is analysed. */
  entries(): Promise<InventoryEntry[]>;
  /** The most recent counters known without waiting (for /metrics; at most ~250 ms old when threaded). */
  latest(): Record<string, number>;
  /** Ends all flows and emits the open windows (`AnalysisPipeline.flush`); resolves once their outputs were called. */
  flush(): Promise<void>;
  /** Releases the worker thread, if any (idempotent). */
  close(): Promise<void>;
}

/** The pipeline on the caller's thread. */
export class LocalPipelineRunner implements PipelineRunner {
  readonly threads = 1;
  readonly pipeline: AnalysisPipeline;

  constructor(options: AnalysisPipelineOptions, outputs: PipelineOutputs) {
    const onWindow = outputs.onWindow;
    this.pipeline = new AnalysisPipeline(options, {
      ...(onWindow ? { onWindow: (w: FeatureWindow) => onWindow(w, this.pipeline.changedEntry(w.device_id)) } : {}),
      ...(outputs.onFlow ? { onFlow: outputs.onFlow } : {}),
    });
  }

  process(p: DecodedPacket): undefined {
    this.pipeline.process(p);
    return undefined;
  }

  noteCaptureLoss(cumulativeDropped: number, cumulativeReceived: number): void {
    this.pipeline.noteCaptureLoss(cumulativeDropped, cumulativeReceived);
  }

  closeIdle(ms: number): void {
    this.pipeline.closeIdle(ms);
  }

  snapshot(): Promise<Record<string, number>> {
    return Promise.resolve(this.pipeline.metrics());
  }

  entries(): Promise<InventoryEntry[]> {
    return Promise.resolve(this.pipeline.inventory.entries());
  }

  latest(): Record<string, number> {
    return this.pipeline.metrics();
  }

  flush(): Promise<void> {
    this.pipeline.flush();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The runner `threading.threads` asks for. */
export function createPipelineRunner(threading: AnalysisThreadsOptions, options: AnalysisPipelineOptions, outputs: PipelineOutputs): PipelineRunner {
  return threading.threads >= 2 ? new ThreadedPipeline(threading, options, outputs) : new LocalPipelineRunner(options, outputs);
}
