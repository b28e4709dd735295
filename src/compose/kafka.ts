/**
 * The Kafka parts of the distributed deployment, built from `transport.kafka` (the builder's half that loads
 * kafkajs; src/compose/topology.ts builds the rest): the client, the topics, the sensor's window producer and
 * publishers, the detector's consumer, state store, inventory reader and alerts publisher. `wardwatch sensor`,
 * `detect`, `train --from-kafka`, tests and benchmarks build them here, with the same names and settings.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { WardwatchConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createKafka, kafkaFailure } from '../transport/kafka/client.js';
import { KafkaWindowProducer } from '../transport/kafka/producer.js';
import { KafkaWindowConsumer } from '../transport/kafka/consumer.js';
import { KafkaStateStore } from '../transport/kafka/state.js';
import { KafkaInventoryPublisher, KafkaInventoryReader } from '../transport/kafka/inventory.js';
import { KafkaRecordPublisher } from '../transport/kafka/records.js';
import { KafkaAlertPublisher } from '../transport/kafka/alerts.js';
import { ensureTopics, topicNames, type TopicNames } from '../transport/kafka/topics.js';

export type KafkaSection = NonNullable<WardwatchConfig['transport']['kafka']>;

/** A kafkajs client for `transport.kafka` (connection, TLS, SASL, retry; logs through pino, secrets redacted). */
export function kafkaFromConfig(k: KafkaSection): Kafka {
  return createKafka({
    brokers: k.brokers,
    client_id: k.client_id,
    connection_timeout_ms: k.connection_timeout_ms,
    request_timeout_ms: k.request_timeout_ms,
    retry: k.retry,
    ...(k.ssl !== undefined ? { ssl: k.ssl } : {}),
    ...(k.sasl ? { sasl: k.sasl } : {}),
  });
}

/** `transport.kafka`, or the error a command that needs Kafka gives without it. */
export function requireKafka(config: WardwatchConfig): KafkaSection {
  const k = config.transport.kafka;
  if (!k) throw new ConfigError('transport.kafka', 'this command needs Kafka: set transport.kafka.brokers (or WARDWATCH_KAFKA_BROKERS)');
  return k;
}

/** The Kafka parts of one process, sharing one client. */
export class KafkaParts {
  readonly section: KafkaSection;
  readonly kafka: Kafka;
  readonly topics: TopicNames;

  constructor(readonly config: WardwatchConfig) {
    this.section = requireKafka(config);
    this.kafka = kafkaFromConfig(this.section);
    this.topics = topicNames({ ...this.section.topics });
  }

  get brokers(): string[] {
    return this.section.brokers;
  }

  /** The detector group's compacted state topic: one per group, so that another group never inherits its state. */
  get stateTopic(): string {
    const k = this.section;
    return `${k.topics.prefix}${k.topics.detector_state}.${k.consumer.group_id}`;
  }

  /** Creates the feature, alert, dead-letter, inventory (and flows) topics when missing, and whatever `more` creates. */
  async ensureTopics(more?: (admin: Admin) => Promise<void>): Promise<void> {
    const k = this.section;
    // Few retries inside an attempt: the start's own retrier (retryingStart) backs off, logs each failure with its
    // cause and says in words when the broker stays unreachable; kafkajs' default would hold one attempt for minutes.
    const admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2000 } });
    try {
      await admin.connect();
    } catch (err) {
      // The first connection: wrong credentials or an untrusted certificate show up here, as one clear line.
      throw kafkaFailure(k.brokers, 'connect', err, k);
    }
    try {
      const t = this.topics;
      await ensureTopics(admin, [t.features, t.alerts, t.dead_letter, t.inventory, ...(t.flows ? [t.flows] : [])], k.topics, [t.inventory]);
      await more?.(admin);
    } catch (err) {
      // e.g. "This server does not host this topic-partition" while topics are being created: retriable, coded.
      throw kafkaFailure(k.brokers, 'create topics', err, k);
    } finally {
      await admin.disconnect();
    }
  }

  /** The sensor's inventory publisher (entries detectors need, before the windows that need them). */
  inventoryPublisher(): KafkaInventoryPublisher {
    return new KafkaInventoryPublisher(this.kafka, this.brokers, this.topics.inventory);
  }

  /** The sensor's feature-window producer (`transport.kafka.producer`); `before_send` runs before each send. */
  windowProducer(before_send?: () => Promise<void>): KafkaWindowProducer {
    return new KafkaWindowProducer(this.kafka, this.brokers, { topic: this.topics.features, ...this.section.producer, ...(before_send ? { before_send } : {}) });
  }

  /** Ended flows' records (`topics.flows`), when that topic is set. */
  flowPublisher(): KafkaRecordPublisher | undefined {
    return this.topics.flows ? new KafkaRecordPublisher(this.kafka, this.brokers, { topic: this.topics.flows, max_queued: 200_000, batch_max: 2000, linger_ms: 100 }) : undefined;
  }

  /** A member of the detector group on the feature topic (`transport.kafka.consumer`). */
  windowConsumer(): KafkaWindowConsumer {
    const k = this.section;
    return new KafkaWindowConsumer(this.kafka, {
      topic: this.topics.features,
      group_id: k.consumer.group_id,
      dead_letter_topic: this.topics.dead_letter,
      session_timeout_ms: k.consumer.session_timeout_ms,
      heartbeat_interval_ms: k.consumer.heartbeat_interval_ms,
      max_bytes_per_partition: k.consumer.max_bytes_per_partition,
      brokers: k.brokers,
    });
  }

  /** The detector's reader of the sensors' inventory topic. */
  inventoryReader(): KafkaInventoryReader {
    return new KafkaInventoryReader(this.kafka, this.brokers, this.topics.inventory);
  }

  /** The detector's publisher of every alert on the alerts topic. */
  alertPublisher(): KafkaAlertPublisher {
    return new KafkaAlertPublisher(this.kafka, this.brokers, this.topics.alerts);
  }

  /** The detector group's state store (compacted; per-device scoring state and webhook incidents). */
  stateStore(): KafkaStateStore {
    const t = this.section.topics;
    return new KafkaStateStore(this.kafka, this.brokers, { topic: this.stateTopic, partitions: t.partitions, replication_factor: t.replication_factor });
  }
}
