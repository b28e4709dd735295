/**
 * Real services for tests. A test that needs Kafka or InfluxDB calls `requireKafka()` / `requireInflux()` in its
 * `before` hook: the service is started when it is not running (installing what is missing), or the hook FAILS
 * with the tail of the service's log. Nothing here ever skips.
 *
 * Point the suite at existing services instead with WARDWATCH_TEST_KAFKA_BROKERS / WARDWATCH_TEST_INFLUX_URL.
 */
import { randomBytes } from 'node:crypto';
import { logTail } from '../../scripts/services/common.js';
import { DEFAULT_KAFKA, kafkaBrokers, kafkaReady, startKafka, stopKafka } from '../../scripts/services/kafka.js';
import { DEFAULT_INFLUX, influxReady, influxUrl, startInflux, stopInflux } from '../../scripts/services/influxdb.js';

const startedHere = new Set<'kafka' | 'influxdb'>();
let kafkaStart: Promise<string[]> | undefined;
let influxStart: Promise<string> | undefined;

function progress(msg: string): void {
  process.stderr.write(`      [services] ${msg}\n`);
}

/** Broker list of a ready Kafka broker (started if needed). */
export function requireKafka(): Promise<string[]> {
  kafkaStart ??= (async () => {
    const external = process.env['WARDWATCH_TEST_KAFKA_BROKERS'];
    if (external) {
      const [host, port] = (external.split(',')[0] ?? '').split(':');
      if (!(await kafkaReady({ ...DEFAULT_KAFKA, host: host ?? '127.0.0.1', port: Number(port) }))) {
        throw new Error(`WARDWATCH_TEST_KAFKA_BROKERS=${external} does not answer a metadata request`);
      }
      return external.split(',');
    }
    if (!(await kafkaReady())) {
      try {
        await startKafka({}, progress);
        startedHere.add('kafka');
      } catch (err) {
        throw new Error(`Kafka could not be started: ${(err as Error).message}\n--- kafka log tail ---\n${logTail('kafka')}`, { cause: err });
      }
    }
    return kafkaBrokers();
  })();
  return kafkaStart;
}

/** URL of a ready InfluxDB 1.x (started if needed). */
export function requireInflux(): Promise<string> {
  influxStart ??= (async () => {
    const external = process.env['WARDWATCH_TEST_INFLUX_URL'];
    if (external) {
      const res = await fetch(`${external}/ping`).catch((e: unknown) => {
        throw new Error(`WARDWATCH_TEST_INFLUX_URL=${external} does not answer /ping: ${String(e)}`);
      });
      if (res.status !== 204) throw new Error(`WARDWATCH_TEST_INFLUX_URL=${external} /ping answered ${res.status}`);
      return external;
    }
    if (!(await influxReady())) {
      try {
        await startInflux({}, progress);
        startedHere.add('influxdb');
      } catch (err) {
        throw new Error(`InfluxDB could not be started: ${(err as Error).message}\n--- influxdb log tail ---\n${logTail('influxdb')}`, { cause: err });
      }
    }
    return influxUrl(DEFAULT_INFLUX);
  })();
  return influxStart;
}

/** Stops what this test run started, when in CI or asked to (WARDWATCH_STOP_SERVICES=1). */
export async function stopServicesStartedHere(): Promise<void> {
  if (process.env['CI'] !== 'true' && process.env['WARDWATCH_STOP_SERVICES'] !== '1') return;
  if (startedHere.has('kafka')) await stopKafka();
  if (startedHere.has('influxdb')) await stopInflux();
  startedHere.clear();
}

/** A name no other test uses: `<prefix>-<time>-<random>`; Influx-safe characters only. */
export function freshName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
