/**
 * Detector → the alerts topic (`<prefix>alerts`): every alert and notice the detector writes to its sinks, one
 * `ww-alert-json/1` message each (the Alert record of src/records/alert.ts), keyed by device id, so that a SIEM or a
 * second tool can consume them from Kafka. Sent with acks=all as part of a batch's durable step, before its offsets
 * are committed: at-least-once, like the other sinks — a batch fetched again after a failover publishes its alerts
 * again, with the same `alert_id` (a consumer de-duplicates by it, as the InfluxDB and file sinks do).
 */
import type { Kafka, Producer } from 'kafkajs';
import type { Alert } from '../../records/alert.js';
import { settledWithin } from '../../retry.js';
import { FORMAT_HEADER, encodeAlert } from '../codec.js';
import { kafkaFailure } from './client.js';

export class KafkaAlertPublisher {
  private producer: Producer;
  private connected = false;
  /** Alerts acknowledged by the broker, and failed publish attempts (retried by the caller). */
  sent = 0;
  errors = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: string[],
    readonly topic: string,
  ) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /** Publishes the alerts (acks=all); throws a coded Kafka error (retriable when the broker may come back). */
  async publish(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: alerts.map((a) => {
          const m = encodeAlert(a);
          return { key: m.key, value: m.value, headers: { [FORMAT_HEADER]: m.format } };
        }),
      });
      this.sent += alerts.length;
    } catch (err) {
      this.errors++;
      // The next attempt uses a new producer (as KafkaStateStore does: a broken connection or an idempotent producer
      // out of step can hold the old one's sends until the request timeout, or for good).
      const old = this.producer;
      const wasConnected = this.connected;
      this.producer = this.newProducer();
      this.connected = false;
      if (wasConnected) await settledWithin(old.disconnect(), 2000);
      throw kafkaFailure(this.brokers, `publish alerts to ${this.topic}`, err);
    }
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.connected) await settledWithin(this.producer.disconnect(), timeoutMs);
    this.connected = false;
  }
}
