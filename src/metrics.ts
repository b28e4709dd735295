/**
 * Counters every component keeps (received / sent / discarded / errors by stage, as Vector does), readable as
 * a plain object for InfluxDB health points and as Prometheus text for `/metrics`.
 */
export class Counters<K extends string = string> {
  private readonly values = new Map<string, number>();

  constructor(readonly stage: string) {}

  add(name: K, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: K): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  /** Prometheus exposition lines: `wardwatch_<stage>_<name>_total`. */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const [name, value] of [...this.values].sort(([a], [b]) => a.localeCompare(b))) {
      const metric = `wardwatch_${this.stage}_${name}_total`.replace(/[^a-zA-Z0-9_]/g, '_');
      lines.push(`# TYPE ${metric} counter`, `${metric} ${value}`);
    }
    return lines.join('\n');
  }
}

/** A stage's current counters and gauges, read at scrape time. */
export type MetricsProvider = () => Record<string, number>;

/**
 * All stages' metrics, by stage name, read at scrape time. Every value is exposed as a Prometheus gauge
 * (`wardwatch_<stage>_<name>`); counters among them only grow, so `rate()` works on them as usual.
 */
export class MetricsRegistry {
  private readonly providers = new Map<string, MetricsProvider>();

  register(stage: string, provider: MetricsProvider): void {
    this.providers.set(stage, provider);
  }

  /** Every metric as `stage.name → value`, for InfluxDB health points and logs. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [stage, p] of this.providers) out[stage] = p();
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const [stage, values] of Object.entries(this.snapshot())) {
      for (const [name, value] of Object.entries(values).sort(([a], [b]) => a.localeCompare(b))) {
        if (!Number.isFinite(value)) continue;
        const metric = `wardwatch_${stage}_${name}`.replace(/[^a-zA-Z0-9_]/g, '_');
        lines.push(`# TYPE ${metric} gauge`, `${metric} ${value}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}

export interface HealthReport {
  ok: boolean;
  /** Per component: 'ok' or what is wrong. */
  checks: Record<string, string>;
  /** Numbers behind the checks (e.g. the sensor's `capture_loss` over the last minute). */
  details?: Record<string, unknown>;
}

/**
 * `/metrics` (Prometheus) and `/healthz` (200 when every check is ok, else 503; JSON body) on a local port.
 * Bind it to loopback or the management interface, never the monitored one.
 */
export async function startMetricsServer(
  options: { host: string; port: number },
  registry: MetricsRegistry,
  health: () => HealthReport,
): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(registry.toPrometheus());
    } else if (url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('wardwatch: /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
