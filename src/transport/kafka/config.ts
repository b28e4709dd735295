/**
 * The Kafka components' options and their defaults, written once (the config schema reads them from here). No kafkajs
 * import: loading the configuration must not load the Kafka client (commands without Kafka do not need it).
 */
import type { WindowCodecName } from '../codec.js';

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
