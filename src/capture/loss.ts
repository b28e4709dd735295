/**
 * Capture loss of a live source, watched so that drops are never silent. The sensor samples the source's cumulative
 * counters (`CaptureSource.stats()`) about once a second and hands them to `CaptureLossMonitor.sample`, which:
 *  - logs a warning (component `capture`) when the capture lost packets, at most one per `warn_interval_s` (the next
 *    one counts everything lost in between): how many, the share, and the setting to change;
 *  - keeps the loss over the last `window_s` for `/healthz`: degraded above `degraded_fraction`, ok again once it is
 *    back at or below it (both transitions logged);
 *  - logs the final counters at stop (`logFinal`).
 * Its options are the config section `capture_loss:` (`CaptureLossOptionsSchema` below, defaults written once here),
 * beside the live capture's own section `capture:` (src/capture/live/config.ts).
 *
 * Loss share everywhere (warning, `/healthz`, `FeatureWindow.capture_loss`, `ww_health.capture_loss`):
 * lost ÷ (handed to the sensor + lost), with lost = `pcap_dropped + pcap_ifdropped` — the packets that reached the
 * capture, whether or not it kept them. (libpcap's own ps_recv is not used as the denominator: on Linux it includes
 * the drops, on other systems it does not.)
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { componentLogger, type Logger } from '../log.js';
import type { CaptureCountersSnapshot, CaptureDropStats } from './source.js';

export const CaptureLossOptionsSchema = z.strictObject({
  /**
   * `/healthz` answers 503 (degraded) while the capture lost more than this share of its packets over the last
   * `window_s`, and 200 again once the share is back at or below it. 0 = any loss degrades; 1 = never.
   */
  degraded_fraction: z.number().min(0).max(1).default(0.01),
  /** Span (wall time) of the loss `/healthz` looks at. */
  window_s: z.number().int().min(1).max(3600).default(60),
  /** At most one capture-loss warning in the log per this many seconds (the next one counts the drops in between). */
  warn_interval_s: z.number().int().min(1).default(30),
});

export type CaptureLossOptions = z.infer<typeof CaptureLossOptionsSchema>;

export function parseCaptureLossOptions(input: unknown): CaptureLossOptions {
  const r = CaptureLossOptionsSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ConfigError(['capture_loss', ...(issue?.path ?? []).map(String)].join('.'), issue?.message ?? 'invalid');
}

/** The live capture settings the sensor runs with (the `capture:` section after the command line), for the advice. */
export interface CaptureSettings {
  interface?: string;
  snaplen_bytes?: number;
  buffer_size_bytes?: number;
  immediate?: boolean;
  chunk_bytes?: number;
  chunks?: number;
  /** The sensor's analysis threads (`analysis.threads`): the advice names 2 when it runs on 1. */
  analysis_threads?: number;
}

/** Loss over a span: packets lost, packets handed to the sensor, lost ÷ (handed + lost), the span in seconds. */
export interface CaptureLoss {
  dropped: number;
  received: number;
  fraction: number;
  span_s: number;
}

/** Packets a live capture lost: libpcap's buffer drops plus the interface's own drops. */
export function droppedOf(s: CaptureDropStats): number {
  return s.pcap_dropped + s.pcap_ifdropped;
}

/** lost ÷ (handed to the sensor + lost); 0 when nothing arrived. */
export function lossFraction(dropped: number, received: number): number {
  return dropped > 0 ? dropped / (received + dropped) : 0;
}

interface Sample {
  t: number;
  received: number;
  pcap_dropped: number;
  pcap_ifdropped: number;
}

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (f: number): string => `${(f * 100).toFixed(f > 0 && f < 0.001 ? 3 : 2)} %`;

export class CaptureLossMonitor {
  /** Samples of the last `window_s`, oldest first; the first is the base (at or before the window's start). */
  private readonly samples: Sample[];
  private warned: Sample;
  private lastWarnMs = -Infinity;
  private degradedNow = false;
  /** Warnings logged (counted on /metrics as `capture_loss_warnings`). */
  warnings = 0;

  constructor(
    readonly options: CaptureLossOptions,
    private readonly settings: CaptureSettings = {},
    startMs = Date.now(),
    private readonly log: Logger = componentLogger('capture'),
  ) {
    const start = { t: startMs, received: 0, pcap_dropped: 0, pcap_ifdropped: 0 };
    this.samples = [start];
    this.warned = start;
  }

  /** Takes the source's cumulative counters at `nowMs` (wall time); may log a warning or a change of state. */
  sample(s: CaptureDropStats, nowMs = Date.now()): void {
    const now: Sample = { t: nowMs, received: s.received, pcap_dropped: s.pcap_dropped, pcap_ifdropped: s.pcap_ifdropped };
    const samples = this.samples;
    samples.push(now);
    const from = nowMs - this.options.window_s * 1000;
    while (samples.length > 2 && samples[1]!.t <= from) samples.shift();
    this.maybeWarn(now);
    const degraded = this.degradedReason();
    if ((degraded !== undefined) !== this.degradedNow) {
      this.degradedNow = degraded !== undefined;
      const r = this.recent();
      const fields = { dropped: r.dropped, received: r.received, loss_fraction: r.fraction, span_s: r.span_s, degraded_fraction: this.options.degraded_fraction };
      if (degraded !== undefined) this.log.warn(fields, `capture degraded (/healthz 503): ${degraded}`);
      else this.log.info(fields, `capture loss back at or below ${percent(this.options.degraded_fraction)} over the last ${r.span_s} s (/healthz ok)`);
    }
  }

  /** Loss over the last `window_s` (since start while the capture is younger), as of the last sample. */
  recent(): CaptureLoss {
    const base = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    return this.between(base, last);
  }

  /** Loss since the capture started, as of the last sample. */
  totals(): CaptureLoss {
    return this.between({ t: this.samples[0]!.t, received: 0, pcap_dropped: 0, pcap_ifdropped: 0 }, this.samples[this.samples.length - 1]!);
  }

  /** Why the capture is degraded (the `/healthz` text), or undefined while its recent loss is within the limit. */
  degradedReason(): string | undefined {
    const r = this.recent();
    if (r.dropped === 0 || r.fraction <= this.options.degraded_fraction) return undefined;
    const base = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    return (
      `capture lost ${percent(r.fraction)} of its packets in the last ${r.span_s} s (${count(r.dropped)} of ${count(r.dropped + r.received)}), ` +
      `above capture_loss.degraded_fraction (${percent(this.options.degraded_fraction)}): ` +
      this.advice(last.pcap_dropped > base.pcap_dropped, last.pcap_ifdropped > base.pcap_ifdropped)
    );
  }

  /** Logs the final counters (call at stop, after a last `sample`): a warning when anything was lost. */
  logFinal(): void {
    const last = this.samples[this.samples.length - 1]!;
    const t = this.totals();
    const fields = { received: last.received, dropped: t.dropped, pcap_dropped: last.pcap_dropped, pcap_ifdropped: last.pcap_ifdropped, loss_fraction: t.fraction, warnings: this.warnings };
    const text = `capture stopped: ${count(last.received)} packets handed to the sensor, ${count(t.dropped)} lost (${percent(t.fraction)})`;
    if (t.dropped > 0) this.log.warn(fields, text);
    else this.log.info(fields, text);
  }

  private between(a: Sample, b: Sample): CaptureLoss {
    const dropped = b.pcap_dropped + b.pcap_ifdropped - (a.pcap_dropped + a.pcap_ifdropped);
    const received = b.received - a.received;
    const span = (b.t - a.t) / 1000;
    return { dropped, received, fraction: lossFraction(dropped, received), span_s: span < 10 ? Math.round(span * 10) / 10 : Math.round(span) };
  }

  private maybeWarn(now: Sample): void {
    const w = this.warned;
    const buffer = now.pcap_dropped - w.pcap_dropped;
    const iface = now.pcap_ifdropped - w.pcap_ifdropped;
    if (buffer + iface <= 0 || now.t - this.lastWarnMs < this.options.warn_interval_s * 1000) return;
    const r = this.between(w, now);
    const total = this.totals();
    this.warned = now;
    this.lastWarnMs = now.t;
    this.warnings++;
    this.log.warn(
      {
        dropped: r.dropped,
        received: r.received,
        loss_fraction: r.fraction,
        period_s: r.span_s,
        pcap_dropped: buffer,
        pcap_ifdropped: iface,
        dropped_total: total.dropped,
        loss_fraction_total: total.fraction,
        settings: this.settingNames(buffer > 0, iface > 0),
        buffer_size_bytes: this.settings.buffer_size_bytes ?? null,
        chunks: this.settings.chunks ?? null,
        chunk_bytes: this.settings.chunk_bytes ?? null,
        immediate: this.settings.immediate ?? null,
      },
      `capture lost ${count(r.dropped)} packets in the last ${r.span_s} s (${percent(r.fraction)} of ${count(r.dropped + r.received)}; ` +
        `${count(total.dropped)} since start, ${percent(total.fraction)}): ${this.advice(buffer > 0, iface > 0)}`,
    );
  }

  /** The config keys the advice names, by where the packets were lost. */
  private settingNames(buffer: boolean, iface: boolean): string[] {
    const out: string[] = [];
    if (buffer || !iface) {
      out.push('capture.buffer_size_bytes', 'capture.chunks', 'capture.chunk_bytes', ...(this.settings.immediate ? ['capture.immediate', 'capture.snaplen_bytes'] : []));
      if (this.settings.analysis_threads === 1) out.push('analysis.threads');
    }
    return out;
  }

  /**
   * The setting to change, by where the packets were lost: libpcap's ring (ps_drop: the sensor did not drain it in time
   * — it filled while the capture thread's hand-off pool was full, i.e. the sensor's JavaScript was busy for longer
   * than ring + pool hold), or the interface itself (ps_ifdrop).
   */
  private advice(buffer: boolean, iface: boolean): string {
    const s = this.settings;
    const now = (v: number | undefined): string => (v === undefined ? 'the default' : String(v));
    const parts: string[] = [];
    if (buffer || !iface) {
      parts.push(
        `${buffer ? 'libpcap dropped them because its ring was full' : 'the capture fell behind'} (the sensor did not drain it in time): ` +
          `raise capture.buffer_size_bytes (--buffer-size, now ${now(s.buffer_size_bytes)}) or the hand-off pool ` +
          `(capture.chunks × capture.chunk_bytes, now ${now(s.chunks)} × ${now(s.chunk_bytes)})` +
          (s.immediate ? `, or turn capture.immediate off (in immediate mode every frame takes a capture.snaplen_bytes slot, now ${now(s.snaplen_bytes)}; --snaplen)` : '') +
          (s.analysis_threads === 1
            ? '; if it keeps losing, the sensor lacks CPU for this traffic: give it a second core (analysis.threads: 2, --threads 2)'
            : '; if it keeps losing, the sensor lacks CPU for this traffic'),
      );
    }
    if (iface) parts.push(`the interface itself dropped ${buffer ? 'some' : 'them'} (pcap_ifdropped): raise its receive ring (ethtool -G ${s.interface ?? 'IFACE'} rx N)`);
    return parts.join('; ');
  }
}

/**
 * Capture counters for /metrics and `ww_health`: libpcap's for a source that can drop (`pcap_received`,
 * `pcap_dropped`, `pcap_ifdropped`), `packets_dropped` (= pcap_dropped + pcap_ifdropped; 0 for a file), the field
 * the dashboards plot, and a file's cut-short counters (`capture_truncated_record`, `capture_gzip_corrupt`).
 */
export function captureMetrics(source: { stats?(): CaptureDropStats; counters?(): CaptureCountersSnapshot } | undefined): Record<string, number> {
  // A file cut short (in the middle of a record, or of its gzip stream): counted by the reader when its read ends.
  const c = source?.counters?.();
  const cut: Record<string, number> = c ? { capture_truncated_record: c.truncated_record, capture_gzip_corrupt: c.gzip_corrupt } : {};
  const s = source?.stats?.();
  if (!s) return { packets_dropped: 0, ...cut };
  return { pcap_received: s.pcap_received, pcap_dropped: s.pcap_dropped, pcap_ifdropped: s.pcap_ifdropped, packets_dropped: droppedOf(s), ...cut };
}
