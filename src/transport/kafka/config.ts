/**
 * The Kafka components' options and their defaults, written once (the config schema reads them from here). No kafkajs
 * import: loading the configuration must not load the Kafka client (commands without Kafka do not need it).
 */
import { z } from 'zod';
import type { WindowCodecName } from '../codec.js';
import { DEFAULT_TOPICS } from './topics.js';

export interface KafkaConnectionOptions {
  brokers: string[];
  client_id: string;
  /** Time to establish a TCP connection to a broker. */
  connection_timeout_ms: number;
  /** Time to wait for a broker's answer to one request. */
  request_timeout_ms: number;
  /** kafkajs retrier: attempts after the first, and its backoff bounds (see kafkajs docs/RetryDetailed.md). */
  retry: { retries: number; initial_retry_time_ms: number; max_retry_time_ms: number };
  /** TLS: `true` for the system CAs, or PEM paths. */
  ssl?: boolean | { ca_file?: string; cert_file?: string; key_file?: string; reject_unauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export const DEFAULT_KAFKA_CONNECTION: Omit<KafkaConnectionOptions, 'brokers'> = {
  client_id: 'wardwatch',
  connection_timeout_ms: 3000,
  request_timeout_ms: 30_000,
  // At most 5 s between attempts: after a broker outage of a minute, a client at kafkajs' 30 s waited up to 30 s more
  // before trying again (the sensor delivered its buffered windows 29 s after the broker was back).
  retry: { retries: 8, initial_retry_time_ms: 300, max_retry_time_ms: 5000 },
};

export interface WindowProducerOptions {
  topic: string;
  /** Encoding of each window (inside batch messages too): binary (default, see docs/kafka.md) or JSON. */
  codec: WindowCodecName;
  /** Windows per produce request (all partitions together). */
  batch_max_messages: number;
  /**
   * Windows packed into one Kafka message (`ww-window-batch/1`, all of one partition); 1 sends v1 single-window
   * messages. Bounded by `message_max_bytes` as well.
   */
  message_max_windows: number;
  /** Encoded bytes of one batch message before compression (keep well under the broker's `message.max.bytes`). */
  message_max_bytes: number;
  /**
   * Encoded bytes per produce request. Keep it under the broker's `message.max.bytes` (1 MiB by default): a batch
   * the broker refuses as too large is split in halves, and a single window it refuses for good is dropped (counted).
   */
  batch_max_bytes: number;
  /** How long the sender waits for more windows before sending a partial batch. */
  linger_ms: number;
  compression: 'gzip' | 'none';
  /** zlib level of gzip (1 = fastest; see `setGzipLevel`: process-wide). */
  gzip_level: number;
  /** Encoded bytes kept in memory while the broker is unreachable, before spooling to disk. */
  memory_buffer_bytes: number;
  /**
   * On-disk spool folder (default `out/spool`, also the config's); empty string disables spooling (then a full memory
   * buffer drops). Windows found there at start are sent first, whatever topic they were meant for.
   */
  spool_dir: string;
  spool_max_bytes: number;
  /**
   * Awaited before each window send (e.g. the sensor publishes the inventory entries those windows need first);
   * a failure counts as a failed send (retried with backoff).
   */
  before_send?: () => Promise<void>;
  /** Backoff between failed sends (src/retry.ts, no jitter, until the broker answers): doubles from initial to max. */
  retry_initial_ms: number;
  retry_max_ms: number;
  /**
   * A send still unanswered after this long counts as a broker outage (logged, `broker_unreachable` 1) although
   * kafkajs is still retrying it inside the send.
   */
  stall_ms: number;
}

export const DEFAULT_WINDOW_PRODUCER: Omit<WindowProducerOptions, 'topic'> = {
  codec: 'binary',
  batch_max_messages: 2000,
  message_max_windows: 250,
  message_max_bytes: 128 * 1024,
  batch_max_bytes: 768 * 1024,
  linger_ms: 20,
  compression: 'gzip',
  gzip_level: 1,
  memory_buffer_bytes: 32 * 1024 * 1024,
  spool_dir: 'out/spool',
  spool_max_bytes: 1024 * 1024 * 1024,
  retry_initial_ms: 200,
  retry_max_ms: 5000,
  stall_ms: 5000,
};

/** The detector group member's settings (`transport.kafka.consumer`). */
export const DEFAULT_KAFKA_CONSUMER = {
  group_id: 'wardwatch-detectors',
  session_timeout_ms: 30_000,
  heartbeat_interval_ms: 3000,
  max_bytes_per_partition: 1024 * 1024,
};

const positive = z.number().int().positive();
const duration_ms = z.number().int().nonnegative();
const P = DEFAULT_WINDOW_PRODUCER;
const C = DEFAULT_KAFKA_CONNECTION;
const T = DEFAULT_TOPICS;

/** `transport.kafka`: connection, topics, the sensor's producer, the detectors' consumer; defaults are the constants above. */
export const KafkaOptionsSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
  client_id: z.string().min(1).default(C.client_id),
  connection_timeout_ms: positive.default(C.connection_timeout_ms),
  request_timeout_ms: positive.default(C.request_timeout_ms),
  retry: z
    .strictObject({
      retries: z.number().int().nonnegative().default(C.retry.retries),
      initial_retry_time_ms: positive.default(C.retry.initial_retry_time_ms),
      max_retry_time_ms: positive.default(C.retry.max_retry_time_ms),
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
      prefix: z.string().default(T.prefix),
      features: z.string().min(1).default(T.features),
      alerts: z.string().min(1).default(T.alerts),
      /** Ended flow records (`ww-flow-json/1`); empty (the default) = not published. */
      flows: z.string().default(T.flows),
      /** Compacted device inventory the sensor publishes and detectors read (class, criticality, names). */
      inventory: z.string().min(1).default(T.inventory),
      dead_letter: z.string().min(1).default(T.dead_letter),
      /** Compacted per-device detector state; the topic is `<prefix><detector_state>.<consumer.group_id>`. */
      detector_state: z.string().min(1).default('detector-state'),
      partitions: positive.default(T.partitions),
      replication_factor: positive.default(T.replication_factor),
      retention_ms: positive.default(T.retention_ms),
    })
    .prefault({}),
  producer: z
    .strictObject({
      codec: z.enum(['binary', 'json']).default(P.codec),
      compression: z.enum(['gzip', 'none']).default(P.compression),
      /** zlib level 1..9 of gzip; 1 is 3× cheaper than zlib's default 6 for ~30 % more bytes (docs/kafka.md). */
      gzip_level: z.number().int().min(1).max(9).default(P.gzip_level),
      /** Windows per produce request. */
      batch_max_messages: positive.default(P.batch_max_messages),
      /** Windows per Kafka message (`ww-window-batch/1`); 1 = v1 single-window messages (docs/kafka.md). */
      message_max_windows: positive.max(65535).default(P.message_max_windows),
      message_max_bytes: positive.default(P.message_max_bytes),
      batch_max_bytes: positive.default(P.batch_max_bytes),
      linger_ms: duration_ms.default(P.linger_ms),
      memory_buffer_bytes: positive.default(P.memory_buffer_bytes),
      spool_dir: z.string().default(P.spool_dir),
      spool_max_bytes: positive.default(P.spool_max_bytes),
    })
    .prefault({}),
  consumer: z
    .strictObject({
      group_id: z.string().min(1).default(DEFAULT_KAFKA_CONSUMER.group_id),
      session_timeout_ms: positive.default(DEFAULT_KAFKA_CONSUMER.session_timeout_ms),
      heartbeat_interval_ms: positive.default(DEFAULT_KAFKA_CONSUMER.heartbeat_interval_ms),
      max_bytes_per_partition: positive.default(DEFAULT_KAFKA_CONSUMER.max_bytes_per_partition),
    })
    .prefault({}),
});
