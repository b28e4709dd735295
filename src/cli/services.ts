/**
 * `wardwatch sensor` and `wardwatch detect`: the two long-running processes of a Kafka deployment, with /metrics and
 * /healthz, structured logs, and a graceful stop on SIGINT/SIGTERM (flush the producer / finish the batch, commit,
 * close the sinks).
 */
import { Command } from 'commander';
import { DEFAULT_LIVE_CAPTURE, liveCaptureOptions, type LiveCaptureCliOptions } from '../capture/live/config.js';
import { loadConfig } from '../config/load.js';
import { explainCaptureError } from './live.js';
import { componentLogger } from '../log.js';
import { MetricsRegistry, startMetricsServer, type HealthReport } from '../metrics.js';
import { ConfigError, type WardwatchError } from '../errors.js';
import { parseSpeed } from './options.js';

const log = componentLogger('cli');

/** `/healthz` while running: the component's own report; once stopping, 503 with `<what>: stopping`. */
function stoppable(what: string, stopping: () => boolean, report: () => HealthReport = () => ({ ok: true, checks: { [what]: 'ok' } })): () => HealthReport {
  return () => {
    const r = report();
    return stopping() ? { ...r, ok: false, checks: { ...r.checks, [what]: 'stopping' } } : r;
  };
}

async function serveMetrics(listen: string, registry: MetricsRegistry, health: () => HealthReport): Promise<(() => Promise<void>) | undefined> {
  if (!listen) return undefined;
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new ConfigError('service.metrics_listen', `'${listen}' is not host:port`);
  const server = await startMetricsServer({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }, registry, health);
  log.info({ url: server.url }, '/metrics and /healthz listening');
  return server.close;
}

/**
 * After a long-running command's work ended: whatever a client library still holds open (a reconnect timer, a socket)
 * must not keep the process up, so it exits within `ms` with the exit code set by then (main: 1 after an error).
 */
function exitSoon(ms = 1000): void {
  setTimeout(() => process.exit(), ms).unref();
}

/** Resolves when `p` settles or after `ms`, whichever is first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (sig: NodeJS.Signals): void => {
      if (seen) process.exit(130);
      seen = true;
      log.warn({ signal: sig }, 'stopping: flushing and committing (send again to exit at once)');
      resolve(sig);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** How long a detector that failed for good may take to close before the process exits anyway. */
const DEFAULT_FAILED_STOP_MS = 5000;

export function sensorCommand(): Command {
  return new Command('sensor')
    .description('Capture from a live interface (receive-only) or a file, and produce feature windows to Kafka.')
    .option('-c, --config <file>', 'YAML configuration (transport.kafka is required)')
    .option('-i, --interface <name>', 'live capture interface (SPAN/TAP port; overrides capture.interface)')
    .option('-r, --read <file>', 'read a pcap/pcapng file instead of an interface')
    .option('-f, --filter <bpf>', 'BPF capture filter (live; overrides capture.bpf_filter)')
    .option('--snaplen <bytes>', `bytes kept per frame (live; overrides capture.snaplen_bytes, default ${DEFAULT_LIVE_CAPTURE.snaplen_bytes})`)
    .option('--buffer-size <bytes>', `kernel capture ring in bytes (live; overrides capture.buffer_size_bytes, default ${DEFAULT_LIVE_CAPTURE.buffer_size_bytes})`)
    .option('--run-id <id>', 'tag windows with a run id (file replays)')
    .option('--speed <speed>', "file replays: max, or N× the capture's own pace (1x = real time)", 'max')
    .option('--threads <n>', 'analysis threads: 1, or 2 to run device identity, flows and features on a second core (overrides analysis.threads, default 1)')
    .addHelpText('after', '\nExamples:\n  wardwatch sensor -c /etc/wardwatch/wardwatch.yaml -i eth1 -f "not port 22"\n  WARDWATCH_KAFKA_BROKERS=kafka:9092 wardwatch sensor -r ward3.pcapng --speed 1x\n')
    .action(async (o: LiveCaptureCliOptions & { config?: string; read?: string; runId?: string; speed: string; threads?: string }) => {
      const config = loadConfig(o.config);
      if (o.threads !== undefined && !/^[12]$/.test(o.threads.trim())) throw new ConfigError('--threads', `'${o.threads}' is not 1 or 2`);
      const threads = o.threads !== undefined ? Number(o.threads) : undefined;
      const iface = o.interface ?? (o.read ? undefined : config.capture.interface || undefined);
      if (!iface === !o.read) throw new ConfigError('--interface/--read', 'give exactly one of --interface NAME (or capture.interface) or --read FILE');
      const speed = parseSpeed(o.speed);
      if (speed !== undefined && !o.read) throw new ConfigError('--speed', 'a replay pace applies to --read FILE only (a live interface runs at its own pace)');
      // The Kafka services are loaded by the commands that use them (kafkajs is not needed by run, replay, train, …).
      const { SensorService, DEFAULT_SENSOR_STOP_MS } = await import('../compose/sensor.js');
      const sensor = new SensorService(
        config,
        {
          ...(o.read ? { file: o.read, ...(speed !== undefined ? { speed } : {}) } : { live: liveCaptureOptions(config.capture, { ...o, interface: iface }) }),
          ...(threads !== undefined ? { threads } : {}),
        },
        o.runId ?? '',
      );
      const registry = new MetricsRegistry();
      registry.register('sensor', () => sensor.metrics());
      let stopping = false;
      // /healthz: 503 while stopping, once the producer stopped for good (wrong credentials, untrusted certificate),
      // or while the live capture loses more than capture_loss.degraded_fraction.
      const report = (): HealthReport => {
        const r = sensor.healthReport();
        const f = sensor.producer.failure;
        return f ? { ...r, ok: false, checks: { ...r.checks, producer: `failed: ${f.code}: ${f.message}` } } : { ...r, checks: { ...r.checks, producer: 'ok' } };
      };
      const closeMetrics = await serveMetrics(config.service.metrics_listen, registry, stoppable('sensor', () => stopping, report));
      const done = sensor.run();
      const producerFailed = new Promise<WardwatchError>((r) => sensor.producer.onFailure(r));
      const sig = stopSignal();
      const first = await Promise.race([done.then(() => 'ended' as const, () => 'failed' as const), sig.then(() => 'signal' as const), producerFailed.then(() => 'failed' as const)]);
      stopping = true;
      // A signal or a failure must end the process within 5 s (the rest goes to the spool); a file that ended waits
      // for the broker.
      await sensor.stop(first === 'ended' ? 300_000 : DEFAULT_SENSOR_STOP_MS);
      const failure = await done.then(
        () => sensor.producer.failure,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      await closeMetrics?.();
      log.info(sensor.metrics(), 'sensor stopped');
      exitSoon();
      // A capture that failed (interface gone, file unreadable) or a producer that stopped for good ends the process
      // with its coded error, not exit 0.
      if (failure !== undefined) throw explainCaptureError(failure, iface ?? '');
    });
}

export function detectCommand(): Command {
  return new Command('detect')
    .description('Consume feature windows from Kafka as one member of the detector group, score them, write alerts to the sinks.')
    .option('-c, --config <file>', 'YAML configuration (transport.kafka is required)')
    .addHelpText('after', '\nExamples:\n  wardwatch detect -c /etc/wardwatch/wardwatch.yaml          # run one per partition share; add more to scale out\n')
    .action(async (o: { config?: string }) => {
      const config = loadConfig(o.config);
      const { DetectorService } = await import('../compose/detector.js');
      const detector = new DetectorService(config);
      const registry = new MetricsRegistry();
      registry.register('detector', () => detector.metrics());
      let stopping = false;
      // /healthz: 200 only while the consumer runs; 503 while starting (retrying), once it failed for good, or stopping.
      const closeMetrics = await serveMetrics(config.service.metrics_listen, registry, stoppable('detector', () => stopping, () => detector.healthReport()));
      const sig = stopSignal();
      // A start error no retry can fix, or a failure for good once running (consumer crashed, state refused).
      const fatal = new Promise<Error>((resolve) => {
        detector.onFailure(resolve);
        detector.start().catch((err: unknown) => resolve(err instanceof Error ? err : new Error(String(err))));
      });
      const failure = await Promise.race([fatal, sig.then(() => undefined)]);
      stopping = true;
      // A failed detector does not wait for its sinks (what it did not commit is fetched again after the restart).
      await within(detector.stop(), failure ? DEFAULT_FAILED_STOP_MS : 60_000);
      await closeMetrics?.();
      log.info(detector.metrics(), 'detector stopped');
      exitSoon();
      if (failure) throw failure;
    });
}
