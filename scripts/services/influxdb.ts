/**
 * A real InfluxDB 1.x (`influxd` from Debian's `influxdb` package) on loopback for tests and the quick start,
 * with a generated config: loopback ports only, a fresh temp data dir per start, usage reporting disabled.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  isAlive,
  launchService,
  logPath,
  onPath,
  pauseService,
  portOpen,
  readState,
  resumeFromState,
  run,
  stopService,
  type ServiceState,
} from './common.js';

export interface InfluxInstanceOptions {
  instance: string;
  host: string;
  /** HTTP API port. */
  port: number;
  /** RPC port used by backup/restore (bound to loopback, unused by wardwatch). */
  rpc_port: number;
}

export const DEFAULT_INFLUX: InfluxInstanceOptions = {
  instance: 'influxdb',
  host: '127.0.0.1',
  port: Number(process.env['WARDWATCH_TEST_INFLUX_PORT'] ?? 18086),
  rpc_port: Number(process.env['WARDWATCH_TEST_INFLUX_RPC_PORT'] ?? 18088),
};

export function influxUrl(o: InfluxInstanceOptions = DEFAULT_INFLUX): string {
  return `http://${o.host}:${o.port}`;
}

/** Installs Debian's influxdb package when `influxd` is missing and we are root; otherwise says what to run. */
export async function ensureInfluxd(log: (msg: string) => void = () => {}): Promise<void> {
  if (await onPath('influxd')) return;
  if (process.getuid?.() !== 0) {
    throw new Error('influxd is not installed: run `sudo apt-get install influxdb` (Debian/Ubuntu) or scripts/setup.sh as root');
  }
  log('installing influxdb with apt-get ...');
  await run('apt-get', ['update', '-q']);
  await run('apt-get', ['install', '-y', '-q', 'influxdb'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

function config(o: InfluxInstanceOptions, dataDir: string): string {
  return `reporting-disabled = true
bind-address = "${o.host}:${o.rpc_port}"

[meta]
  dir = "${dataDir}/meta"
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = "${dataDir}/data"
  wal-dir = "${dataDir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = true
  check-interval = "30m"

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "${o.host}:${o.port}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  max-body-size = 0

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
`;
}

export async function influxReady(o: InfluxInstanceOptions = DEFAULT_INFLUX): Promise<boolean> {
  if (!(await portOpen(o.host, o.port))) return false;
  try {
    const res = await fetch(`${influxUrl(o)}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

export async function startInflux(
  options: Partial<InfluxInstanceOptions> = {},
  log: (msg: string) => void = () => {},
): Promise<ServiceState> {
  const o = { ...DEFAULT_INFLUX, ...options };
  const existing = readState(o.instance);
  if (existing && isAlive(existing.pid) && (await influxReady(o))) return existing;
  if (existing) await stopInflux(o.instance);
  if (await portOpen(o.host, o.port)) {
    throw new Error(`influxdb: port ${o.host}:${o.port} is taken by a process this script did not start; stop it or set WARDWATCH_TEST_INFLUX_PORT`);
  }
  await ensureInfluxd(log);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `wardwatch-${o.instance}-`));
  const conf = path.join(dataDir, 'influxdb.conf');
  writeFileSync(conf, config(o, dataDir));
  writeFileSync(logPath(o.instance), `--- ${new Date().toISOString()} starting ${o.instance} in ${dataDir}\n`);
  log(`starting InfluxDB ${o.instance} on ${influxUrl(o)} (data ${dataDir})`);
  return launchService({ ...influxLaunch(o, conf), host: o.host, ports: { http: o.port, rpc: o.rpc_port }, data_dir: dataDir });
}

function influxLaunch(o: InfluxInstanceOptions, conf: string) {
  return { instance: o.instance, label: `influxdb ${influxUrl(o)}`, command: 'influxd', args: ['-config', conf], ready: () => influxReady(o), ready_timeout_ms: 30_000 };
}

/** Stops influxd but keeps its data dir, as an operator's restart would; `resumeInflux` starts it again. */
export function pauseInflux(instance = DEFAULT_INFLUX.instance): Promise<void> {
  return pauseService(instance);
}

export function resumeInflux(options: Partial<InfluxInstanceOptions> = {}): Promise<ServiceState> {
  const o = { ...DEFAULT_INFLUX, ...options };
  return resumeFromState(o.instance, 'influxdb', (dataDir) => influxLaunch(o, path.join(dataDir, 'influxdb.conf')));
}

export function stopInflux(instance = DEFAULT_INFLUX.instance): Promise<boolean> {
  return stopService(instance);
}
