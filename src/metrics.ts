/**
 * `/metrics` (Prometheus, through prom-client) and `/healthz`.
 *
 * Each process registers its stages' numbers (`MetricsRegistry.register(stage, provider)`: a flat `name → value`
 * record read at scrape time, the same record InfluxDB health points and the stop log use). At each scrape every
 * value becomes a prom-client metric, typed and described by `METRICS` below:
 *  - a counter (only grows) is `wardwatch_<stage>_<name>_total`, a gauge `wardwatch_<stage>_<name>`;
 *  - a sink's numbers carry the sink as a label: `influx_points_written` → `wardwatch_detector_sink_points_written_total{sink="influx"}`
 *    (sinks: influx, webhook, syslog, alerts_file);
 *  - every metric has a HELP line; prom-client's default process metrics (`process_*`, `nodejs_*`) come along.
 * Labels hold names (stage, sink), never a URL or a secret.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Counters every component keeps (received / sent / discarded / errors by stage, as Vector does). */
export class Counters<K extends string = string> {
  private readonly values = new Map<string, number>();

  constructor(readonly stage: string) {}

  add(name: K, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: K): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

/** A stage's current counters and gauges, read at scrape time. */
export type MetricsProvider = () => Record<string, number>;

type Kind = 'counter' | 'gauge';

/**
 * Type and HELP of every number a process exposes, by its name in the provider's record (a sink's numbers by
 * `<sink>_<name>`, e.g. the sensor's `health_influx_write_retries` as `influx_write_retries`; see SINK_PREFIXES). A name missing here is still exposed, as an undocumented gauge (a unit test lists
 * the sensor's and detector's names against this table).
 */
export const METRICS: Readonly<Record<string, readonly [Kind, string]>> = {
  // Capture and decode (sensor)
  packets: ['counter', 'Packets read from the capture (file or interface).'],
  packets_dropped: ['counter', 'Packets the capture lost (libpcap dropped + interface dropped; 0 for a file).'],
  pcap_received: ['counter', "libpcap's ps_recv: packets the kernel handed to the capture."],
  pcap_dropped: ['counter', "libpcap's ps_drop: packets dropped because the capture buffer was full."],
  pcap_ifdropped: ['counter', "libpcap's ps_ifdrop: packets the interface dropped."],
  capture_loss_recent: ['gauge', 'Share of packets lost over the last capture_loss.window_s (the /healthz criterion).'],
  capture_degraded: ['gauge', '1 while the capture loss is above capture_loss.degraded_fraction (/healthz 503).'],
  capture_loss_warnings: ['counter', 'Capture-loss warnings logged.'],
  decode_malformed: ['counter', 'Packets with a malformed header (counted, skipped).'],
  // Flow table and device inventory (sensor)
  flows_packets: ['counter', 'Packets the flow table saw.'],
  flows_packets_no_flow: ['counter', 'Packets that belong to no flow (not IP, or no transport header).'],
  flows_created: ['counter', 'Flows created.'],
  flows_evicted: ['counter', 'Flows evicted because the flow table was full (flows.max_flows).'],
  flows_ended_closed: ['counter', 'Flows ended by a TCP close or reset.'],
  flows_ended_idle_timeout: ['counter', 'Flows ended by their idle timeout.'],
  flows_ended_active_timeout: ['counter', 'Flows ended by the active timeout.'],
  flows_ended_evicted: ['counter', 'Flows ended by eviction.'],
  flows_ended_capture_end: ['counter', 'Flows ended by the end of the capture.'],
  flows_active: ['gauge', 'Flows in the flow table now.'],
  devices_created: ['counter', 'Devices added to the inventory.'],
  devices_overflow: ['counter', 'Devices not tracked because the inventory was full.'],
  devices_arp_conflicts: ['counter', 'ARP answers that contradict a known MAC/IP binding.'],
  devices_gateways_detected: ['counter', 'MAC addresses recognised as gateways (many IPs behind one MAC).'],
  devices_gateway_candidates_dropped: ['counter', 'Gateway candidates dropped from the bounded candidate table.'],
  devices_confirmed: ['gauge', 'Devices confirmed (seen long enough to be inventoried).'],
  devices_unconfirmed: ['gauge', 'Devices seen but not confirmed yet.'],
  devices_candidates: ['gauge', 'Candidate devices being watched.'],
  devices_candidates_seen: ['counter', 'Candidate devices ever seen.'],
  devices_candidates_evicted: ['counter', 'Candidate devices evicted from the bounded candidate table.'],
  devices_candidates_tracked: ['gauge', 'Candidate devices tracked now.'],
  devices_candidate_packets: ['counter', 'Packets of candidate (unconfirmed) devices.'],
  devices_sources_unconfirmed: ['gauge', 'Source addresses not confirmed as devices.'],
  features_windows_emitted: ['counter', 'Feature windows closed by the pipeline.'],
  // Kafka producer of feature windows (sensor)
  producer_enqueued: ['counter', 'Feature windows handed to the Kafka producer.'],
  producer_produced: ['counter', 'Feature windows acknowledged by Kafka (acks=all).'],
  producer_buffered: ['gauge', 'Feature windows waiting in memory for the broker.'],
  producer_spooled: ['counter', 'Feature windows written to the disk spool.'],
  producer_spool_pending: ['gauge', 'Feature windows in the disk spool, not delivered yet.'],
  producer_dropped: ['counter', 'Feature windows lost (spool full, or refused by the broker for good).'],
  producer_send_retries: ['counter', 'Failed sends to Kafka that were retried.'],
  producer_outages: ['counter', 'Broker outages the producer saw (a send failed or stalled).'],
  producer_broker_unreachable: ['gauge', '1 during a broker outage.'],
  producer_spooling: ['gauge', '1 while windows go to the disk spool.'],
  producer_messages: ['counter', 'Kafka messages sent (a window batch counts once).'],
  inventory_published: ['counter', 'Inventory entries published to the inventory topic.'],
  flows_kafka_offered: ['counter', 'Flow records offered to the flows topic publisher.'],
  flows_kafka_sent: ['counter', 'Flow records sent to the flows topic.'],
  flows_kafka_dropped: ['counter', 'Flow records dropped because the publisher queue was full.'],
  flows_kafka_send_errors: ['counter', 'Failed sends to the flows topic (retried).'],
  flows_kafka_queued: ['gauge', 'Flow records waiting to be sent.'],
  health_points: ['counter', 'ww_health points queued.'],
  health_points_dropped: ['counter', 'ww_health points given up because InfluxDB was never ready before the stop.'],
  // Kafka consumer and sink queue (detector)
  consumer_received: ['counter', 'Messages received from the features topic.'],
  consumer_processed: ['counter', 'Feature windows handed to the detector.'],
  consumer_dead_lettered: ['counter', 'Undecodable messages sent to the dead-letter topic.'],
  consumer_committed_batches: ['counter', 'Batches whose offsets were committed.'],
  consumer_handler_errors: ['counter', 'Batches that failed in the handler (redelivered).'],
  consumer_group_joins: ['counter', 'Times this member joined the consumer group.'],
  consumer_crashes_restarted: ['counter', 'Consumer crashes kafkajs restarted from.'],
  consumer_membership_lost: ['counter', 'Times the group forgot this member (it re-joined).'],
  consumer_outages: ['counter', 'Broker outages the consumer saw.'],
  consumer_broker_unreachable: ['gauge', '1 during a broker outage (kafkajs restarting the consumer, or no answer from the broker for 5 s and none to a probe).'],
  consumer_uncommitted_batches: ['gauge', 'Batches processed and not committed yet.'],
  consumer_running: ['gauge', '1 while the consumer runs.'],
  sink_queue_pending_batches: ['gauge', 'Scored batches accepted and not yet durable in every sink.'],
  sink_queue_pending_windows: ['gauge', 'Windows accepted and not yet durable in every sink.'],
  sink_queue_backpressure: ['gauge', '1 while the consumer waits for room in the sink queue.'],
  sink_queue_backpressure_waits: ['counter', 'Times the consumer waited for room in the sink queue.'],
  sink_queue_backpressure_ms: ['counter', 'Milliseconds the consumer waited for room in the sink queue.'],
  sink_queue_write_retries: ['counter', 'Failed sink writes the sink queue retried.'],
  sink_queue_writes: ['counter', 'Writes of the sink queue to the sinks (batches queued behind a write are written together).'],
  sink_queue_batches_written: ['counter', 'Scored batches the sink queue wrote to the sinks (more than its writes: batches were coalesced).'],
  detector_failed: ['gauge', '1 once the detector stopped for good (the process exits).'],
  start_failures: ['counter', 'Failed start attempts (retried).'],
  alerts_published: ['counter', 'Alerts published to the alerts topic (acks=all).'],
  alerts_publish_errors: ['counter', 'Failed publishes to the alerts topic (retried by the sink queue).'],
  inventory_devices: ['gauge', 'Devices known from the inventory topic.'],
  inventory_skipped: ['counter', 'Inventory messages skipped (undecodable).'],
  // Detector
  windows_received: ['counter', 'Feature windows the detector received.'],
  windows_scored: ['counter', 'Feature windows scored by a model.'],
  windows_learning: ['counter', 'Feature windows of devices still in learning (no model).'],
  windows_refused_schema: ['counter', 'Feature windows refused: another feature schema version.'],
  windows_replayed: ['counter', 'Feature windows already scored (redelivered), skipped.'],
  windows_over_threshold: ['counter', 'Windows scored over their threshold.'],
  windows_scan_guard: ['counter', 'Windows flagged by the scan guard.'],
  windows_novelty_guard: ['counter', 'Windows flagged by the novelty guard.'],
  windows_capture_loss: ['counter', 'Windows with capture loss noted.'],
  windows_capture_loss_over_threshold: ['counter', 'Windows over threshold while the capture lost packets.'],
  windows_rule_matched: ['counter', 'Windows matched by a behavioural rule.'],
  alerts_anomaly: ['counter', 'Anomaly alerts raised.'],
  alerts_new_device: ['counter', 'New-device alerts raised.'],
  alerts_behaviour: ['counter', 'Behavioural-rule alerts raised.'],
  alerts_new_device_summary: ['counter', 'New-device summary alerts raised.'],
  new_devices_summarised: ['counter', 'New devices folded into summary alerts.'],
  alerted_ranges_dropped: ['counter', 'Alerted time ranges dropped from the bounded list.'],
  state_entries_invalid: ['counter', 'Detector state entries that could not be restored.'],
  models_loaded: ['counter', 'Models loaded from the model store.'],
  model_load_errors: ['counter', 'Models that failed to load.'],
  // Sinks (by their own name; exposed as sink_<rest>{sink=...})
  influx_points_written: ['counter', 'Points InfluxDB acknowledged.'],
  influx_points_buffered: ['gauge', 'Points waiting for InfluxDB.'],
  influx_points_dropped: ['counter', 'Points dropped (buffer full, or given up at a stop).'],
  influx_points_rejected: ['counter', 'Points InfluxDB refused for good (4xx).'],
  influx_write_retries: ['counter', 'Failed writes that were retried.'],
  influx_batches_written: ['counter', 'Write requests InfluxDB acknowledged.'],
  influx_unreachable: ['gauge', '1 during an InfluxDB outage (from a failed write attempt to the next that works).'],
  influx_outages: ['counter', 'InfluxDB outages seen (each counted at its first failed attempt).'],
  webhook_incidents_opened: ['counter', 'Webhook incidents opened (device + kind).'],
  webhook_notices_sent: ['counter', 'Webhook notices delivered.'],
  webhook_notices_throttled: ['counter', 'Alerts of an open incident not sent (throttled).'],
  webhook_delivery_retries: ['counter', 'Failed webhook deliveries that were retried.'],
  webhook_dead_lettered: ['counter', 'Notices written to the dead-letter file.'],
  webhook_notices_queued: ['gauge', 'Webhook notices waiting for delivery.'],
  syslog_sent: ['counter', 'Syslog messages sent.'],
  syslog_errors: ['counter', 'Syslog send errors.'],
  alerts_file_written: ['counter', 'Alerts appended to the alerts file.'],
};

/** Prefixes of sink numbers, longest first: the number's name is the rest, the sink a label. */
const SINK_PREFIXES: readonly (readonly [string, string])[] = [
  ['health_influx_', 'influx'],
  ['alerts_file_', 'alerts_file'],
  ['influx_', 'influx'],
  ['webhook_', 'webhook'],
  ['syslog_', 'syslog'],
];

export interface MetricDescription {
  /** Full Prometheus name, `_total` on counters. */
  name: string;
  kind: Kind;
  help: string;
  labels: Record<string, string>;
}

/** How the number `key` of stage `stage` is exposed. */
export function describeMetric(stage: string, key: string): MetricDescription {
  let family = key;
  const labels: Record<string, string> = {};
  const sink = SINK_PREFIXES.find(([p]) => key.startsWith(p));
  if (sink) {
    family = `sink_${key.slice(sink[0].length)}`;
    labels['sink'] = sink[1];
  }
  const known = METRICS[sink ? `${sink[1]}_${key.slice(sink[0].length)}` : key];
  const kind = known?.[0] ?? 'gauge';
  const help = known?.[1] ?? `${key} of the ${stage} (undocumented).`;
  const name = `wardwatch_${stage}_${family}${kind === 'counter' ? '_total' : ''}`.replace(/[^a-zA-Z0-9_]/g, '_');
  return { name, kind, help, labels };
}

/** Resolution of `nodejs_eventloop_lag_*` (prom-client's `eventLoopMonitoringPrecision`). */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** All stages' metrics, by stage name, read at scrape time into a prom-client registry. */
export class MetricsRegistry {
  private readonly providers = new Map<string, MetricsProvider>();
  /** The prom-client registry behind `/metrics` (default process metrics included unless disabled). */
  readonly prom = new Registry();
  private readonly families = new Map<string, Counter | Gauge>();

  constructor(options: { process_metrics?: boolean } = {}) {
    // The event-loop delay histogram samples on a timer: prom-client's default of every 10 ms wakes an idle sensor
    // 100 times a second (measured: 101 main-thread wake-ups/s with nothing captured, 3.6/s at 1000 ms). Every 100 ms
    // still catches the stalls that matter to capture (the hand-off pool absorbs ~1 s at 300,000 packets/s).
    if (options.process_metrics !== false) collectDefaultMetrics({ register: this.prom, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  register(stage: string, provider: MetricsProvider): void {
    this.providers.set(stage, provider);
  }

  /** Every metric as `stage.name → value`, for InfluxDB health points and logs. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [stage, p] of this.providers) out[stage] = p();
    return out;
  }

  /** Prometheus text exposition format 0.0.4 (`contentType`). */
  async metrics(): Promise<string> {
    this.refresh();
    return this.prom.metrics();
  }

  get contentType(): string {
    return this.prom.contentType;
  }

  private family(d: MetricDescription): Counter | Gauge {
    let m = this.families.get(d.name);
    if (!m) {
      const config = { name: d.name, help: d.help, labelNames: Object.keys(d.labels), registers: [this.prom] };
      m = d.kind === 'counter' ? new Counter(config) : new Gauge(config);
      this.families.set(d.name, m);
    }
    return m;
  }

  /** Sets every family from the providers' current values (a series whose number is gone disappears). */
  private refresh(): void {
    for (const m of this.families.values()) m.reset();
    for (const [stage, values] of Object.entries(this.snapshot())) {
      for (const [key, value] of Object.entries(values)) {
        if (!Number.isFinite(value)) continue;
        const d = describeMetric(stage, key);
        const m = this.family(d);
        if (m instanceof Counter) {
          if (value >= 0) m.inc(d.labels, value);
        } else m.set(d.labels, value);
      }
    }
  }
}

export interface HealthReport {
  ok: boolean;
  /** Per component: 'ok' or what is wrong. */
  checks: Record<string, string>;
  /** Numbers behind the checks (e.g. the sensor's `capture_loss` over the last minute). */
  details?: Record<string, unknown>;
}

/**
 * `/metrics` (Prometheus) and `/healthz` (200 when every check is ok, else 503; JSON body) on a local port.
 * Bind it to loopback or the management interface, never the monitored one.
 */
export async function startMetricsServer(
  options: { host: string; port: number },
  registry: MetricsRegistry,
  health: () => HealthReport,
): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`wardwatch: metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    } else if (url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('wardwatch: /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
