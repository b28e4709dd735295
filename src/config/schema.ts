/**
 * The one configuration schema (zod): every option with its default, in one place. Unknown keys are rejected;
 * units are in option names. `loadConfig` (load.ts) parses YAML, applies environment overrides, and turns
 * validation failures into a `ConfigError` naming the field and what is allowed.
 *
 * Sections are added as stages land; each mirrors the options object of its component. Defaults live with the
 * component (e.g. DEFAULT_WINDOW_PRODUCER, DEFAULT_WEBHOOK_ENDPOINT) and are read from there, never restated.
 */
import os from 'node:os';
import { z } from 'zod';
import { LiveCaptureOptionsSchema } from '../capture/live/config.js';
import { CaptureLossOptionsSchema } from '../capture/loss.js';
import { DetectConfig } from '../detect/config.js';
import { FeatureOptionsSchema } from '../features/config.js';
import { AnalysisThreadsOptionsSchema } from '../pipeline/config.js';
import { DeviceIdentityOptionsSchema, FlowTableOptionsSchema } from '../flows/config.js';
import type { RetryOptions } from '../retry.js';
import { DEFAULT_WEBHOOK_ENDPOINT } from '../sinks/webhook/sink.js';
import { DEFAULT_KAFKA_CONNECTION, DEFAULT_WINDOW_PRODUCER } from '../transport/kafka/config.js';

const duration_ms = z.number().int().nonnegative();
const positive = z.number().int().positive();

/** A component's `retry` section (src/retry.ts documents the backoff), with that component's defaults. */
const retrySchema = (d: RetryOptions) =>
  z.strictObject({
    retries: z.number().int().nonnegative().default(d.retries),
    initial_delay_ms: duration_ms.default(d.initial_delay_ms),
    max_delay_ms: duration_ms.default(d.max_delay_ms),
    multiplier: z.number().min(1).default(d.multiplier),
    jitter: z.number().min(0).max(1).default(d.jitter),
  });

export const KafkaSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
  client_id: z.string().min(1).default('wardwatch'),
  connection_timeout_ms: positive.default(3000),
  request_timeout_ms: positive.default(30_000),
  retry: z
    .strictObject({
      retries: z.number().int().nonnegative().default(DEFAULT_KAFKA_CONNECTION.retry.retries),
      initial_retry_time_ms: positive.default(DEFAULT_KAFKA_CONNECTION.retry.initial_retry_time_ms),
      max_retry_time_ms: positive.default(DEFAULT_KAFKA_CONNECTION.retry.max_retry_time_ms),
    })
    .prefault({}),
  ssl: z
    .union([
      z.boolean(),
      z.strictObject({ ca_file: z.string().optional(), cert_file: z.string().optional(), key_file: z.string().optional(), reject_unauthorized: z.boolean().default(true) }),
    ])
    .optional(),
  sasl: z.strictObject({ mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']), username: z.string().min(1), password: z.string().default('') }).optional(),
  topics: z
    .strictObject({
      prefix: z.string().default('wardwatch.'),
      features: z.string().min(1).default('features'),
      alerts: z.string().min(1).default('alerts'),
      /** Ended flow records (`ww-flow-json/1`); empty (the default) = not published. */
      flows: z.string().default(''),
      /** Compacted device inventory the sensor publishes and detectors read (class, criticality, names). */
      inventory: z.string().min(1).default('inventory'),
      dead_letter: z.string().min(1).default('dead-letter'),
      /** Compacted per-device detector state; the topic is `<prefix><detector_state>.<consumer.group_id>`. */
      detector_state: z.string().min(1).default('detector-state'),
      partitions: positive.default(6),
      replication_factor: positive.default(1),
      retention_ms: positive.default(7 * 24 * 3600 * 1000),
    })
    .prefault({}),
  producer: z
    .strictObject({
      codec: z.enum(['binary', 'json']).default('binary'),
      compression: z.enum(['gzip', 'none']).default('gzip'),
      /** zlib level 1..9 of gzip; 1 is 3× cheaper than zlib's default 6 for ~30 % more bytes (docs/kafka.md). */
      gzip_level: z.number().int().min(1).max(9).default(1),
      /** Windows per produce request. */
      batch_max_messages: positive.default(2000),
      /** Windows per Kafka message (`ww-window-batch/1`); 1 = v1 single-window messages (docs/kafka.md). */
      message_max_windows: positive.max(65535).default(250),
      message_max_bytes: positive.default(128 * 1024),
      batch_max_bytes: positive.default(768 * 1024),
      linger_ms: duration_ms.default(20),
      memory_buffer_bytes: positive.default(32 * 1024 * 1024),
      spool_dir: z.string().default(DEFAULT_WINDOW_PRODUCER.spool_dir),
      spool_max_bytes: positive.default(1024 * 1024 * 1024),
    })
    .prefault({}),
  consumer: z
    .strictObject({
      group_id: z.string().min(1).default('wardwatch-detectors'),
      session_timeout_ms: positive.default(30_000),
      heartbeat_interval_ms: positive.default(3000),
      max_bytes_per_partition: positive.default(1024 * 1024),
    })
    .prefault({}),
});

export const InfluxSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  database: z.string().min(1).default('wardwatch'),
  username: z.string().default(''),
  password: z.string().default(''),
  retention_policy: z.string().default('wardwatch_30d'),
  retention_duration: z.string().regex(/^(INF|\d+[smhdw])$/, 'an InfluxDB duration such as 30d, 52w or INF').default('30d'),
  /** Duration of the `wardwatch_replay` policy that replays with a run id write to (src/sinks/influx/points.ts). */
  replay_retention_duration: z.string().regex(/^(INF|\d+[smhdw])$/, 'an InfluxDB duration such as 52w or INF').default('INF'),
  batch_points: positive.default(5000),
  flush_interval_ms: positive.default(1000),
  max_buffer_points: positive.default(500_000),
  timeout_ms: positive.default(10_000),
});

export const WebhookEndpointSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _'),
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['generic', 'slack', 'pagerduty', 'teams']),
  secret_env: z.string().default(''),
  secret_file: z.string().default(''),
  timeout_ms: positive.default(5000),
  retry: retrySchema(DEFAULT_WEBHOOK_ENDPOINT.retry).prefault({}),
  headers: z.record(z.string(), z.string()).default({}),
});

export const ConfigSchema = z
  .strictObject({
    sensor: z
      .strictObject({
        /** Names this sensor in every record, tag and message. */
        id: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, ., - and _').default(os.hostname().replace(/[^a-zA-Z0-9_.-]/g, '-') || 'sensor'),
      })
      .prefault({}),
    /** Flow table: timeouts, cap (src/flows/config.ts). */
    flows: FlowTableOptionsSchema.prefault({}),
    /** Live capture: interface, filter, snaplen, ring size, hand-off (src/capture/live/config.ts). */
    capture: LiveCaptureOptionsSchema.prefault({}),
    /** Capture loss of a live sensor: the warning's rate, the /healthz degraded threshold (src/capture/loss.ts). */
    capture_loss: CaptureLossOptionsSchema.prefault({}),
    /** Device identity: subnets, keying, gateways, caps, inventory file (src/flows/config.ts). */
    devices: DeviceIdentityOptionsSchema.prefault({}),
    /** Feature windows (src/features/config.ts). */
    features: FeatureOptionsSchema.prefault({}),
    /** The analysis stage on one thread or two (src/pipeline/config.ts). */
    analysis: AnalysisThreadsOptionsSchema.prefault({}),
    /** Baseline model, thresholds, alerting rule, model store (src/detect/config.ts). */
    detect: DetectConfig.prefault({}),
    transport: z
      .strictObject({
        kind: z.enum(['memory', 'kafka']).default('memory'),
        kafka: KafkaSchema.optional(),
        memory: z.strictObject({ batch_max_windows: positive.default(512), max_buffered: positive.default(1_000_000) }).prefault({}),
      })
      .prefault({}),
    sinks: z
      .strictObject({
        influx: InfluxSchema.optional(),
        webhooks: z
          .strictObject({
            endpoints: z.array(WebhookEndpointSchema).default([]),
            reminder_after_s: z.number().int().nonnegative().default(3600),
            resolve_after_windows: positive.default(6),
            dead_letter_file: z.string().default('out/webhooks.dead-letter.jsonl'),
          })
          .prefault({}),
        files: z
          .strictObject({
            alerts_file: z.string().default('out/alerts.jsonl'),
            flows_file: z.string().default(''),
            max_bytes: positive.default(100 * 1024 * 1024),
            keep: z.number().int().nonnegative().default(5),
          })
          .prefault({}),
        syslog: z
          .strictObject({
            host: z.string().min(1),
            port: positive.max(65535).default(514),
            protocol: z.enum(['udp', 'tcp']).default('udp'),
            facility: z.number().int().min(0).max(23).default(20),
          })
          .optional(),
      })
      .prefault({}),
    service: z
      .strictObject({
        /** host:port of /metrics and /healthz; empty disables. Never the monitored interface. */
        metrics_listen: z.string().default('127.0.0.1:9464'),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.transport.kind === 'kafka' && !c.transport.kafka) {
      ctx.addIssue({ code: 'custom', path: ['transport', 'kafka'], message: 'transport.kind is kafka but there is no transport.kafka section: add transport.kafka.brokers (or set WARDWATCH_KAFKA_BROKERS), or use kind: memory' });
    }
    const names = c.sinks.webhooks.endpoints.map((e) => e.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['sinks', 'webhooks', 'endpoints', i, 'name'], message: `duplicate endpoint name '${n}': names must be unique` });
    });
  });

export type WardwatchConfig = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
