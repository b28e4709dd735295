/**
 * The one place that builds wardwatch's parts from one validated configuration (`WardwatchConfig`), for every
 * command: capture source and pacing, the frame loop, the analysis stage, the detector, the sinks, the capture-loss
 * watch, health reporting. The Kafka parts are built by src/compose/kafka.ts (loaded only by the commands that use
 * Kafka: kafkajs is not needed by run, replay, train or evaluate).
 *
 *   command (options → config overrides)  →  Topology  →  parts  →  src/compose/{embedded,sensor,detector}.ts
 *
 * A command file parses its options into a config patch (`Topology.load(file, patch)`: validated by the same
 * schema, a bad value names its option) and reports; it never builds a stage itself. Tests and benchmarks build
 * through here too, so what they measure is what the commands run.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { readCapture } from '../capture/pcap-file/reader.js';
import { LiveCaptureSource, type LiveCaptureOptions } from '../capture/live/cap-source.js';
import { DEFAULT_LIVE_CAPTURE } from '../capture/live/config.js';
import type { CaptureSource } from '../capture/source.js';
import { CaptureLossMonitor } from '../capture/loss.js';
import { loadConfig, overrideConfig, type ConfigPatch } from '../config/load.js';
import type { WardwatchConfig } from '../config/schema.js';
import { Detector, ModelStore, selectBackendFor, type BackendStatus, type DetectConfig } from '../detect/index.js';
import { DEFAULT_MODELS_DIR, SHIPPED_MODELS_DIR } from '../detect/config.js';
import type { AnalysisPipelineOptions } from '../pipeline/analysis.js';
import { createPipelineRunner, type PipelineOutputs, type PipelineRunner } from '../pipeline/runner.js';
import { FlowJsonlWriter } from '../sinks/file/flow-jsonl.js';
import { SinkSet } from '../sinks/fanout.js';
import { componentLogger, type Logger } from '../log.js';
import { FrameLoop, type FrameLoopOptions } from './frame-loop.js';

/** The model store a command scores with (`Topology.scoringStore`). */
export interface ScoringStore {
  /** Absolute path. */
  models_dir: string;
  /** The shipped demo models, because `detect.models_dir` is the default and holds no model yet. */
  shipped_demo: boolean;
}

/** What a command reads: a capture file's path, live capture options, or an open source (tests: a scripted one). */
export type CaptureInput = string | LiveCaptureOptions | CaptureSource;

function isSource(input: CaptureInput): input is CaptureSource {
  return typeof input === 'object' && typeof (input as CaptureSource).forEachFrame === 'function';
}

/** Which sinks a process writes (src/README "What each process writes where"). */
export type SinkRole =
  /** `run`/`replay`: alerts file, InfluxDB, webhooks, syslog; window metrics batched by the flush interval. */
  | 'embedded'
  /** A Kafka detector: the same sinks, InfluxDB written at once (offsets are committed after each batch's writes). */
  | 'detector'
  /** A Kafka sensor: InfluxDB only, for its ww_health and ww_inventory points. */
  | 'sensor';

export class Topology {
  private readonly log: Logger = componentLogger('compose');

  /**
   * @param config the validated configuration (`loadConfig`, plus the command's overrides)
   * @param run_id tags every window and alert of a forensic run (empty: none)
   */
  constructor(
    readonly config: WardwatchConfig,
    readonly run_id = '',
  ) {}

  /** The config file (or the defaults) with a command's overrides over it, validated as one. */
  static load(file: string | undefined, patch: ConfigPatch = {}, run_id = ''): Topology {
    return new Topology(overrideConfig(loadConfig(file), patch), run_id);
  }

  /** The analysis stage's options: flows, device identity, feature windows (tagged with the sensor and run). */
  analysisOptions(): AnalysisPipelineOptions {
    const c = this.config;
    return { flows: c.flows, devices: c.devices, features: { ...c.features, sensor_id: c.sensor.id, run_id: this.run_id } };
  }

  /** The analysis stage, on this thread or on a worker (`analysis.threads`). */
  analysis(outputs: PipelineOutputs): PipelineRunner {
    return createPipelineRunner(this.config.analysis, this.analysisOptions(), outputs);
  }

  /** Opens what a command reads: a file (pcap, pcapng, gzip), a live interface (receive-only), or the given source. */
  async capture(input: CaptureInput): Promise<CaptureSource> {
    if (typeof input === 'string') return readCapture(input);
    if (isSource(input)) return input;
    return new LiveCaptureSource(input);
  }

  /** Where a capture input is read from, for logs and reports: the path, or `live:<interface>`. */
  static describe(input: CaptureInput): string {
    if (typeof input === 'string') return input;
    return isSource(input) ? input.description : `live:${input.interface}`;
  }

  /**
   * The capture-loss watch of a source that can drop (a live interface: warning, /healthz, final counters), naming
   * the settings it runs with; undefined for a file.
   */
  captureLoss(source: CaptureSource, analysisThreads = this.config.analysis.threads): CaptureLossMonitor | undefined {
    if (typeof source.stats !== 'function') return undefined;
    const settings = source instanceof LiveCaptureSource ? { ...DEFAULT_LIVE_CAPTURE, ...source.settings } : undefined;
    return new CaptureLossMonitor(this.config.capture_loss, {
      interface: settings?.interface ?? source.description,
      ...(settings ? { snaplen_bytes: settings.snaplen_bytes, buffer_size_bytes: settings.buffer_size_bytes, immediate: settings.immediate, chunk_bytes: settings.chunk_bytes, chunks: settings.chunks } : {}),
      analysis_threads: analysisThreads,
    });
  }

  /** The frame loop of `source` into `analysis` (the capture-loss watch of a live source included unless given). */
  frameLoop(source: CaptureSource, analysis: PipelineRunner, options: FrameLoopOptions = {}): FrameLoop {
    const loss = options.loss ?? this.captureLoss(source, analysis.threads);
    return new FrameLoop(source, analysis, { ...options, ...(loss ? { loss } : {}) });
  }

  /**
   * The sinks a process of `role` writes, from `sinks:`. InfluxDB puts the points of a forensic replay (tagged with a
   * run id) in the replays' retention policy, whichever process writes them.
   */
  sinks(role: SinkRole): SinkSet {
    const s = this.config.sinks;
    const base = { sensor_id: this.config.sensor.id, run_id: this.run_id };
    if (role === 'sensor') return new SinkSet({ alerts_file: undefined, influx: s.influx, webhooks: undefined, syslog: undefined, ...base });
    return new SinkSet({
      alerts_file: { file: s.files.alerts_file, max_bytes: s.files.max_bytes, keep: s.files.keep },
      influx: s.influx,
      webhooks: s.webhooks,
      syslog: s.syslog,
      ...base,
      // A detector commits offsets after each batch's writes: waiting for the flush interval would only delay it.
      ...(role === 'detector' ? { write_now: true } : {}),
    });
  }

  /** Ended flows' records (`sinks.files.flows_file`, JSON lines, rotated), when that is set. */
  flowLog(): FlowJsonlWriter | undefined {
    const f = this.config.sinks.files;
    if (!f.flows_file) return undefined;
    mkdirSync(path.dirname(f.flows_file), { recursive: true });
    return new FlowJsonlWriter(f.flows_file, { append: true, max_bytes: f.max_bytes, keep: f.keep });
  }

  /**
   * The model store a command scores with: `detect.models_dir`; or, with `demo_fallback` (run, replay, evaluate,
   * models: the first hour), the shipped demo models while `detect.models_dir` is the default and holds no model yet
   * (`wardwatch train` writes there, so a user's own models win as soon as there are any).
   */
  async scoringStore(demo_fallback: boolean): Promise<ScoringStore> {
    const dir = this.config.detect.models_dir;
    if (demo_fallback && dir === DEFAULT_MODELS_DIR && (await new ModelStore(path.resolve(dir)).list()).length === 0) {
      return { models_dir: SHIPPED_MODELS_DIR, shipped_demo: true };
    }
    return { models_dir: path.resolve(dir), shipped_demo: false };
  }

  /** `detect` with the store of `scoringStore(demo_fallback)`. */
  async scoringConfig(demo_fallback: boolean): Promise<{ detect: DetectConfig; store: ScoringStore }> {
    const store = await this.scoringStore(demo_fallback);
    return { detect: { ...this.config.detect, models_dir: store.models_dir }, store };
  }

  /**
   * The detector with the store of `scoringStore(demo_fallback)`, its models loaded on the scoring backend. A missing
   * or empty store is a warning naming its absolute path: every device then stays in learning and no anomaly is
   * alerted.
   */
  async detector(demo_fallback = false): Promise<{ detector: Detector; backend: BackendStatus; store: ScoringStore }> {
    const { detect, store } = await this.scoringConfig(demo_fallback);
    const backend = await selectBackendFor(detect, 'score');
    const detector = await Detector.open(detect);
    if (detector.loadedModels().length === 0) {
      this.log.warn({ models_dir: store.models_dir }, `no models in ${store.models_dir} (detect.models_dir): every device stays in learning and no anomaly is alerted until models are trained there (wardwatch train)`);
    }
    return { detector, backend, store };
  }
}
