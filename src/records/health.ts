/**
 * Contract: a sensor process (and, `DetectorHealth` below, a detector process) → InfluxDB `ww_health` (written with `healthPoint` of src/sinks/influx/points.ts, tag
 * `component: sensor`) → the dashboards' sensor-health panels (docs/dashboards.md, `HEALTH_FIELDS` in
 * src/dashboards/panels.ts). Written every 10 s by `wardwatch run`/`replay` (packet time: a replay gives the same
 * points whatever its speed) and by `wardwatch sensor` (packet time for a file, wall time for a live interface).
 *
 * Counters are cumulative since the process started (the panels take per-interval differences, so a restart does
 * not draw a negative spike); gauges are the value at the point's time. Both commands compute the fields with
 * `sensorHealth` below, so they mean the same thing whichever process wrote them. Beside these fields a point carries
 * the stages' own counters (`AnalysisPipeline.metrics()`, and for `sensor` the producer's and libpcap's), under
 * their /metrics names.
 */
export interface SensorHealth {
  /** Gauge, packets/s: packets the sensor processed per second since the previous point (0 for the first point). */
  packets_per_s: number;
  /**
   * Counter, packets: packets the capture lost. Live: libpcap's `pcap_dropped + pcap_ifdropped` (ps_drop + ps_ifdrop,
   * docs/capture-decode.md); 0 for a file (every frame of a file is read).
   */
  packets_dropped: number;
  /**
   * Gauge, fraction 0..1: of the packets that reached the capture since the previous point (processed + dropped),
   * the share it dropped (since start for the first point); 0 for a file and when nothing arrived. The same measure
   * as `FeatureWindow.capture_loss` and the `/healthz` loss check, over the point's interval.
   */
  capture_loss: number;
  /** Counter, frames: frames the decoder could not decode (malformed, truncated). */
  decode_errors: number;
  /** Gauge, fraction 0..1: flow-table occupancy, active flows ÷ `flows.max_flows`. */
  flow_table_fill: number;
  /**
   * Gauge, feature windows: windows waiting to reach the detectors. `run`/`replay` (in-process bus): 0. `sensor`: the
   * Kafka producer's undelivered windows (buffered in memory + pending in the on-disk spool) — the sensor's honest
   * share of the lag; the consumer-group lag of the detectors is not measured here.
   */
  kafka_lag: number;
  /** Counter, write attempts: retried writes of the process's sinks (InfluxDB, webhooks). */
  sink_retries: number;
}

/** A sensor's counters at one moment: what `sensorHealth` turns into a `ww_health` point. */
export interface SensorHealthSample {
  /** Time of the sample, seconds since the epoch (packet time for a file, wall time for a live interface). */
  at: number;
  /** Packets processed (decoded and handed to the pipeline), cumulative. */
  packets: number;
  /** Packets the capture lost, cumulative (0 for a file). */
  packets_dropped: number;
  /** Decoder's malformed frames, cumulative. */
  decode_errors: number;
  /** Active flows now, and the flow table's bound (`flows.max_flows`). */
  flows_active: number;
  max_flows: number;
  /** Windows not yet delivered to the detectors now (0 on the in-process bus). */
  windows_undelivered: number;
  /** Retried sink writes, cumulative. */
  sink_retries: number;
}

/**
 * The `ww_health` fields at `now`; `previous` is the sample of the previous point (or the sensor's counters at start):
 * without it `packets_per_s` is 0 and `capture_loss` covers everything since start.
 */
export function sensorHealth(now: SensorHealthSample, previous?: Pick<SensorHealthSample, 'at' | 'packets' | 'packets_dropped'>): SensorHealth {
  const dt = previous ? now.at - previous.at : 0;
  const packets = now.packets - (previous?.packets ?? 0);
  const dropped = now.packets_dropped - (previous?.packets_dropped ?? 0);
  return {
    packets_per_s: previous && dt > 0 ? Math.max(0, packets) / dt : 0,
    packets_dropped: now.packets_dropped,
    capture_loss: dropped > 0 && packets + dropped > 0 ? dropped / (Math.max(0, packets) + dropped) : 0,
    decode_errors: now.decode_errors,
    flow_table_fill: now.max_flows > 0 ? now.flows_active / now.max_flows : 0,
    kafka_lag: now.windows_undelivered,
    sink_retries: now.sink_retries,
  };
}

/** Retried writes of a sink set, from its stats (`SinkSet.stats()`: `influx_write_retries`, `webhook_delivery_retries`). */
export function sinkRetries(stats: Readonly<Record<string, number>>): number {
  return (stats['influx_write_retries'] ?? 0) + (stats['webhook_delivery_retries'] ?? 0);
}

/**
 * Contract: a detector process (`wardwatch detect`, one member of the detector group) → InfluxDB `ww_health`, tag
 * `component: detector`, `sensor` = the process's `sensor.id`, every 10 s of wall time and at its stop. Beside these
 * fields a point carries the detector's /metrics counters (consumer, sink queue, detector, sinks).
 */
export interface DetectorHealth {
  /**
   * Gauge, messages: the consumer-group lag of this member's partitions of the feature topic, read from Kafka (each
   * partition's high watermark − the group's committed offset); summed over the group's members it is the group's lag.
   */
  consumer_lag: number;
  /** Gauge, partitions of the feature topic assigned to this member. */
  partitions_assigned: number;
  /** Counter, windows: windows this detector scored with a model (`windows_scored`), and received in all. */
  windows_scored: number;
  windows_received: number;
  /** Counter, alerts: alerts and notices it wrote to its sinks. */
  alerts_written: number;
  /** Counter, write attempts: retried writes of its sinks (InfluxDB, webhooks), as `SensorHealth.sink_retries`. */
  sink_retries: number;
  /** Counter: points InfluxDB's writer dropped (buffer full, given up at a stop) and webhook notices dead-lettered. */
  sink_dropped: number;
  /** Gauge, windows: scored windows waiting for the sinks (the sink queue). */
  sink_queue_windows: number;
}

/** Dropped sink writes of a sink set, from its stats: InfluxDB points dropped and webhook notices dead-lettered. */
export function sinkDrops(stats: Readonly<Record<string, number>>): number {
  return (stats['influx_points_dropped'] ?? 0) + (stats['webhook_dead_lettered'] ?? 0);
}
