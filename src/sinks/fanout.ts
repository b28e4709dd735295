/**
 * The configured set of sinks as one: every alert goes to the alerts file and to each configured sink (InfluxDB,
 * webhooks, syslog); every scored window to InfluxDB (metrics) and to the webhooks (for resolves). `onAlerts` and
 * `onScores` resolve after every sink has the data (InfluxDB acknowledged, webhooks delivered or dead-lettered), so
 * a Kafka consumer may commit after them.
 */
import type { Alert, WindowScore } from '../records/alert.js';
import type { FeatureWindow } from '../records/features.js';
import type { InventoryEntry } from '../records/device.js';
import { AlertFileSink } from './file/alerts.js';
import { InfluxWriter, type InfluxWriterOptions } from './influx/writer.js';
import { alertPoint, healthPoint, inventoryPoint, windowPoint, type DeviceTags } from './influx/points.js';
import { WebhookSink, type WebhookSinkOptions } from './webhook/sink.js';
import { SyslogSink, type SyslogOptions } from './syslog/sink.js';

export interface SinkSetOptions {
  alerts_file: { file: string; max_bytes: number; keep: number } | undefined;
  influx: (Partial<InfluxWriterOptions> & { url: string }) | undefined;
  webhooks: Partial<WebhookSinkOptions> | undefined;
  syslog: Partial<SyslogOptions> | undefined;
  sensor_id: string;
  run_id: string;
  /**
   * Alerts and window metrics are sent to InfluxDB at once rather than after the flush interval (see
   * `InfluxWriter.write`): for a caller that awaits them before going on, e.g. the Kafka detector, which commits
   * after each batch is written. Default false (batches fill up to `flush_interval_ms`).
   */
  write_now?: boolean;
}

export class SinkSet {
  readonly file: AlertFileSink | undefined;
  readonly influx: InfluxWriter | undefined;
  readonly webhooks: WebhookSink | undefined;
  readonly syslog: SyslogSink | undefined;

  constructor(
    private readonly o: SinkSetOptions,
    private readonly deviceTags: (id: string) => DeviceTags | undefined = () => undefined,
  ) {
    this.file = o.alerts_file ? new AlertFileSink(o.alerts_file) : undefined;
    this.influx = o.influx ? new InfluxWriter(o.influx) : undefined;
    this.webhooks = o.webhooks?.endpoints?.length ? new WebhookSink(o.webhooks) : undefined;
    this.syslog = o.syslog?.host ? new SyslogSink(o.syslog) : undefined;
  }

  /** Creates the InfluxDB database and retention policy (retries while unreachable). */
  async start(): Promise<void> {
    await this.influx?.start();
  }

  /**
   * A scored batch to every sink: alerts to the file, InfluxDB and syslog, window metrics to InfluxDB, scores and
   * alerts to the webhooks in time order (`WebhookSink.onBatch`). Resolves once every sink has it (InfluxDB
   * acknowledged, webhooks delivered or dead-lettered). `wardwatch run`'s path; a Kafka detector uses the two parts
   * below (`queueNotices`, then `storeBatch`) so as not to wait for slow endpoints.
   */
  async onBatch(scores: readonly WindowScore[], windows: readonly FeatureWindow[], alerts: readonly Alert[]): Promise<void> {
    await Promise.all([this.queueNotices(scores, alerts), this.storeBatch(scores, windows, alerts)]);
  }

  /**
   * For a caller that must not wait for slow endpoints (the Kafka detector), a scored batch in two parts. First
   * `queueNotices`: webhook incidents are updated and their notices queued before it returns; the promise resolves
   * when the webhooks delivered (or dead-lettered) them. Then `storeBatch`, which may be retried: resolves when the
   * alerts file, InfluxDB and syslog have the batch (the file and InfluxDB de-duplicate what a retry writes again).
   */
  queueNotices(scores: readonly WindowScore[], alerts: readonly Alert[]): Promise<void> {
    if (!this.webhooks) return Promise.resolve();
    return this.webhooks.onBatch(scores, alerts);
  }

  async storeBatch(scores: readonly WindowScore[], windows: readonly FeatureWindow[], alerts: readonly Alert[]): Promise<void> {
    if (alerts.length) this.file?.write(alerts);
    if (this.influx) {
      const byKey = new Map(scores.map((s) => [`${s.device_id}@${s.window_start}`, s]));
      await this.influx.write(
        windows.map((w) => windowPoint(w, byKey.get(`${w.device_id}@${w.window_start}`), this.deviceTags(w.device_id))),
        this.o.write_now,
      );
    }
    if (alerts.length === 0) return;
    await Promise.all([this.influx?.write(alerts.map(alertPoint), this.o.write_now), this.syslog?.write(alerts)]);
  }

  async onInventory(entries: readonly InventoryEntry[], at: number): Promise<void> {
    await this.influx?.write(entries.map((e) => inventoryPoint(e, at, this.o.sensor_id, this.o.run_id)));
  }

  async onHealth(component: string, at: number, values: Record<string, number>): Promise<void> {
    await this.influx?.write([healthPoint(component, this.o.sensor_id, this.o.run_id, at, values)]);
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.file) out['alerts_file_written'] = this.file.written;
    const add = (prefix: string, values: object | undefined): void => {
      for (const [k, v] of Object.entries(values ?? {})) if (typeof v === 'number') out[`${prefix}_${k}`] = v;
    };
    add('influx', this.influx?.stats());
    add('webhook', this.webhooks?.stats());
    if (this.syslog) {
      out['syslog_sent'] = this.syslog.sent;
      out['syslog_errors'] = this.syslog.errors;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.influx?.close();
    await this.syslog?.close();
  }
}
