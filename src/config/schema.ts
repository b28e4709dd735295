/**
 * The configuration schema (zod), composed of the components' own schemas, each beside its component with its
 * defaults written once there (e.g. src/transport/kafka/config.ts, src/sinks/influx/config.ts); only the process-level
 * sections (`sensor`, `service`) are defined here. Unknown keys are rejected; units are in option names.
 * `loadConfig` (load.ts) parses YAML, applies environment overrides, and turns validation failures into a
 * `ConfigError` naming the field and what is allowed; src/compose/topology.ts builds every part from the result.
 */
import os from 'node:os';
import { z } from 'zod';
import { LiveCaptureOptionsSchema } from '../capture/live/config.js';
import { CaptureLossOptionsSchema } from '../capture/loss.js';
import { DetectConfig } from '../detect/config.js';
import { FeatureOptionsSchema } from '../features/config.js';
import { AnalysisThreadsOptionsSchema } from '../pipeline/config.js';
import { DeviceIdentityOptionsSchema, FlowTableOptionsSchema } from '../flows/config.js';
import { InfluxOptionsSchema } from '../sinks/influx/config.js';
import { WebhookSinkSchema } from '../sinks/webhook/config.js';
import { FileSinksSchema } from '../sinks/file/config.js';
import { SyslogSinkSchema } from '../sinks/syslog/config.js';
import { KafkaOptionsSchema } from '../transport/kafka/config.js';
import { MemoryBusSchema } from '../transport/memory/config.js';

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
        kafka: KafkaOptionsSchema.optional(),
        memory: MemoryBusSchema.prefault({}),
      })
      .prefault({}),
    sinks: z
      .strictObject({
        /** InfluxDB (src/sinks/influx/config.ts): alerts, window metrics, health, inventory for Grafana. */
        influx: InfluxOptionsSchema.optional(),
        /** On-call webhooks (src/sinks/webhook/config.ts). */
        webhooks: WebhookSinkSchema.prefault({}),
        /** alerts.jsonl and flows.jsonl (src/sinks/file/config.ts). */
        files: FileSinksSchema.prefault({}),
        /** Syslog/CEF to a SIEM (src/sinks/syslog/config.ts). */
        syslog: SyslogSinkSchema.optional(),
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
  });

export type WardwatchConfig = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
