/**
 * On-call webhooks. Alerts are folded into incidents (one per device + kind): the first alert pages (`trigger`), later
 * alerts of the same incident are throttled except for a `reminder` every `reminder_after_s` of packet time, and
 * after `resolve_after_windows` consecutive normal windows of the device a `resolve` is sent.
 *
 * Each endpoint has its own format and secret. Delivery: POST with a timeout; network errors, 429 and 5xx are retried
 * with exponential backoff and jitter (src/retry.ts); what still fails — or a 4xx — goes to the dead-letter file
 * (JSONL, one line per undelivered notice, with the reason) so nothing is lost silently. Every request carries
 * `X-Wardwatch-Delivery` (the same on retries) so a receiver can drop duplicates. Generic-format requests are signed:
 * `X-Wardwatch-Signature: sha256=HEX(HMAC-SHA256(secret, "<X-Wardwatch-Timestamp>.<body>"))`.
 * Secrets come from an environment variable or a file, and are never logged.
 */
import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Alert, WindowScore } from '../../records/alert.js';
import { ConfigError, ServiceError } from '../../errors.js';
import { componentLogger, redactUrl } from '../../log.js';
import { retry, type RetryOptions } from '../../retry.js';
import { DEFAULT_WEBHOOK_ENDPOINT, DEFAULT_WEBHOOK_SINK } from './config.js';
import {
  genericBody,
  incidentKey,
  pagerdutyBody,
  slackBody,
  teamsBody,
  type IncidentNotice,
  type WebhookFormat,
} from './format.js';

export interface WebhookEndpoint {
  /** Name used in logs, metrics and the dead-letter file. */
  name: string;
  url: string;
  format: WebhookFormat;
  /** Secret for the generic format's signature, or PagerDuty's routing key: from this environment variable ... */
  secret_env: string;
  /** ... or from this file (first line). */
  secret_file: string;
  timeout_ms: number;
  retry: RetryOptions;
  /** Extra request headers (e.g. an API gateway's key). */
  headers: Record<string, string>;
}

export interface WebhookSinkOptions {
  endpoints: WebhookEndpoint[];
  /** Re-page an open incident after this much packet time. 0 disables reminders. */
  reminder_after_s: number;
  /** Consecutive normal windows (score < 1) of the device that resolve its open incidents. */
  resolve_after_windows: number;
  /** JSONL file for notices that could not be delivered. */
  dead_letter_file: string;
}



export interface WebhookStats {
  incidents_opened: number;
  notices_sent: number;
  notices_throttled: number;
  delivery_retries: number;
  dead_lettered: number;
  /** Notices waiting for delivery now (gauge): deliveries run in order, one notice at a time, off the caller's path. */
  notices_queued: number;
}

interface Incident {
  key: string;
  last: Alert;
  count: number;
  last_notice_at: number;
  normal_windows: number;
}

function readSecret(ep: WebhookEndpoint): string {
  if (ep.secret_env) {
    const v = process.env[ep.secret_env];
    if (!v) throw new ConfigError(`sinks.webhooks.${ep.name}.secret_env`, `environment variable ${ep.secret_env} is not set`);
    return v;
  }
  if (ep.secret_file) {
    try {
      return readFileSync(ep.secret_file, 'utf8').split('\n')[0]!.trim();
    } catch (err) {
      throw new ConfigError(`sinks.webhooks.${ep.name}.secret_file`, `cannot read ${ep.secret_file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return '';
}

function settled(sent: Promise<void>[]): Promise<void> {
  return sent.length === 0 ? Promise.resolve() : Promise.all(sent).then(() => undefined);
}

export function signGeneric(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookSink {
  private readonly log = componentLogger('webhook-sink');
  private readonly o: WebhookSinkOptions;
  private readonly secrets = new Map<string, string>();
  private readonly incidents = new Map<string, Incident>();
  /** Devices whose open incidents changed since `takeDirtyIncidents` (their state goes with their partition). */
  private readonly dirtyDevices = new Set<string>();
  private readonly s: WebhookStats = { incidents_opened: 0, notices_sent: 0, notices_throttled: 0, delivery_retries: 0, dead_lettered: 0, notices_queued: 0 };
  /** The last queued notice's delivery: notices are delivered in the order they were decided. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: Partial<WebhookSinkOptions>) {
    this.o = { ...DEFAULT_WEBHOOK_SINK, ...options, endpoints: (options.endpoints ?? []).map((e) => ({ ...DEFAULT_WEBHOOK_ENDPOINT, ...e })) };
    for (const ep of this.o.endpoints) {
      const secret = readSecret(ep);
      if (ep.format === 'pagerduty' && !secret) throw new ConfigError(`sinks.webhooks.${ep.name}`, 'the pagerduty format needs its routing key in secret_env or secret_file');
      this.secrets.set(ep.name, secret);
    }
  }

  stats(): WebhookStats {
    return { ...this.s };
  }

  /**
   * The open incidents of each device whose incidents changed since the last call (null: it has none left), as
   * opaque state: a Kafka detector writes it with its detector state before it commits, so the member that takes a
   * partition over continues the device's incidents (`restoreIncidents`) instead of paging them again or never
   * resolving them.
   */
  takeDirtyIncidents(): Map<string, Buffer | null> {
    const out = new Map<string, Buffer | null>();
    for (const d of this.dirtyDevices) {
      const list = [...this.incidents.values()].filter((i) => i.last.device_id === d);
      out.set(d, list.length === 0 ? null : Buffer.from(JSON.stringify({ v: 1, incidents: list }), 'utf8'));
    }
    this.dirtyDevices.clear();
    return out;
  }

  /**
   * Replaces every open incident with the state read back (`takeDirtyIncidents`' values by device, as of the group's
   * last commit): what was decided for batches not committed is decided again when they are fetched again.
   */
  restoreIncidents(entries: ReadonlyMap<string, Buffer>): number {
    this.incidents.clear();
    this.dirtyDevices.clear();
    let n = 0;
    for (const [device, buf] of entries) {
      try {
        const st = JSON.parse(buf.toString('utf8')) as { v: number; incidents: Incident[] };
        if (st.v !== 1 || !Array.isArray(st.incidents)) throw new Error(`incident state version ${String(st.v)}`);
        for (const inc of st.incidents) {
          this.incidents.set(inc.key, inc);
          n++;
        }
      } catch (err) {
        this.log.warn({ device_id: device, err: (err as Error).message }, 'webhook incident state skipped');
      }
    }
    return n;
  }

  /** Open incidents (device + kind), for status pages and tests. */
  openIncidents(): string[] {
    return [...this.incidents.keys()];
  }

  /**
   * Alerts from the detector: pages new incidents, throttles the rest, reminds when due. The incidents are updated
   * before this returns (synchronously); the promise resolves once the notices it queued are delivered or
   * dead-lettered, so a caller may go on without waiting for a slow endpoint.
   */
  onAlerts(alerts: readonly Alert[]): Promise<void> {
    const sent: Promise<void>[] = [];
    for (const a of alerts) {
      if (a.kind === 'new_device') continue; // informational: dashboards, not pages
      const key = incidentKey(a);
      this.dirtyDevices.add(a.device_id);
      const open = this.incidents.get(key);
      if (!open) {
        const inc: Incident = { key, last: a, count: 1, last_notice_at: a.ts, normal_windows: 0 };
        this.incidents.set(key, inc);
        this.s.incidents_opened++;
        sent.push(this.notify({ event: 'trigger', incident_key: key, alert: a, at: a.ts, alert_count: 1 }));
        continue;
      }
      if (a.alert_id === open.last.alert_id) continue; // redelivered alert
      open.last = a;
      open.count++;
      open.normal_windows = 0;
      if (this.o.reminder_after_s > 0 && a.ts - open.last_notice_at >= this.o.reminder_after_s) {
        open.last_notice_at = a.ts;
        sent.push(this.notify({ event: 'reminder', incident_key: key, alert: a, at: a.ts, alert_count: open.count }));
      } else {
        this.s.notices_throttled++;
      }
    }
    return settled(sent);
  }

  /** Every scored window: consecutive normal windows resolve the device's open incidents (queued as `onAlerts` does). */
  onScores(scores: readonly WindowScore[]): Promise<void> {
    if (this.incidents.size === 0) return Promise.resolve();
    const sent: Promise<void>[] = [];
    for (const sc of scores) {
      for (const inc of this.incidents.values()) {
        if (inc.last.device_id !== sc.device_id || sc.window_start < inc.last.ts) continue;
        this.dirtyDevices.add(sc.device_id);
        if (!sc.learning && sc.score < 1) inc.normal_windows++;
        else inc.normal_windows = 0;
        if (inc.normal_windows >= this.o.resolve_after_windows) {
          this.incidents.delete(inc.key);
          sent.push(this.notify({ event: 'resolve', incident_key: inc.key, alert: inc.last, at: sc.window_end, alert_count: inc.count }));
        }
      }
    }
    return settled(sent);
  }

  /**
   * A scored batch: its alerts and window scores in time order (an alert at its `ts`, a score at its window's start;
   * an alert before the score of the same time), so that what opens and what resolves an incident does not depend on
   * how the windows were batched (`run`'s batches of 2,048 windows and a Kafka detector's fetches give the same
   * notices). Per device, batches come in time order, so the whole stream is handled in time order.
   */
  onBatch(scores: readonly WindowScore[], alerts: readonly Alert[]): Promise<void> {
    const events: { t: number; alert?: Alert; score?: WindowScore }[] = [...alerts.map((a) => ({ t: a.ts, alert: a })), ...scores.map((sc) => ({ t: sc.window_start, score: sc }))];
    // Stable: alerts (listed first) before scores of the same time, each kind in its own order.
    events.sort((x, y) => x.t - y.t);
    const sent: Promise<void>[] = [];
    for (const e of events) sent.push(e.alert ? this.onAlerts([e.alert]) : this.onScores([e.score!]));
    return settled(sent);
  }

  /** Queues a notice behind the ones decided before it; resolves when every endpoint has it or dead-lettered it. */
  private notify(n: IncidentNotice): Promise<void> {
    this.s.notices_queued++;
    const done = this.tail
      .then(() => Promise.all(this.o.endpoints.map((ep) => this.deliver(ep, n))))
      .then(() => undefined)
      .finally(() => this.s.notices_queued--);
    this.tail = done.catch(() => undefined);
    return done;
  }

  private async deliver(ep: WebhookEndpoint, n: IncidentNotice): Promise<void> {
    const secret = this.secrets.get(ep.name) ?? '';
    const payload =
      ep.format === 'generic' ? genericBody(n) : ep.format === 'slack' ? slackBody(n) : ep.format === 'pagerduty' ? pagerdutyBody(n, secret) : teamsBody(n);
    const body = JSON.stringify(payload);
    const deliveryId = `${n.alert.alert_id}:${n.event}:${Math.round(n.at)}`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'wardwatch-webhook/1',
      'x-wardwatch-delivery': deliveryId,
      'x-wardwatch-event': n.event,
      ...ep.headers,
    };
    if (ep.format === 'generic' && secret) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers['x-wardwatch-timestamp'] = ts;
      headers['x-wardwatch-signature'] = signGeneric(secret, ts, body);
    }
    let lastError = '';
    try {
      await retry(
        async (attempt) => {
          let status = 0; // 0: no answer (network error, timeout)
          try {
            const res = await fetch(ep.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(ep.timeout_ms) });
            await res.arrayBuffer().catch(() => undefined);
            if (res.ok) {
              this.s.notices_sent++;
              this.log.info({ endpoint: ep.name, event: n.event, incident: n.incident_key, status: res.status }, 'webhook delivered');
              return;
            }
            status = res.status;
            lastError = `HTTP ${res.status}`;
          } catch (err) {
            // A network error or timeout (fetch throws a TypeError): retriable. It may quote the URL, which for Slack
            // or Teams is the secret.
            lastError = (err instanceof Error ? err.message : String(err)).split(ep.url).join(redactUrl(ep.url));
          }
          this.log.warn({ endpoint: ep.name, event: n.event, attempt: attempt + 1, error: lastError }, 'webhook delivery failed');
          // 429 and 5xx may pass; another 4xx will not.
          const retriable = status === 0 || status === 429 || status >= 500;
          throw new ServiceError(`webhook ${ep.name}`, lastError, { retriable, code: 'WW_WEBHOOK_UNDELIVERED' });
        },
        ep.retry,
        { onRetry: () => void this.s.delivery_retries++ },
      );
      return;
    } catch {
      // Retries used up, or an answer no retry changes: the notice goes to the dead-letter file with the last reason.
    }
    this.deadLetter(ep, n, body, lastError);
  }

  private deadLetter(ep: WebhookEndpoint, n: IncidentNotice, body: string, reason: string): void {
    this.s.dead_lettered++;
    // The endpoint's URL may be the secret itself (Slack, Teams): the record names the endpoint and shows its host only.
    const scrubbed = reason.split(ep.url).join(redactUrl(ep.url));
    const line = JSON.stringify({ at: new Date().toISOString(), endpoint: ep.name, url: redactUrl(ep.url), format: ep.format, event: n.event, incident_key: n.incident_key, reason: scrubbed, body: ep.format === 'pagerduty' ? body.replace(JSON.stringify(this.secrets.get(ep.name) ?? ''), '"[redacted]"') : body });
    try {
      mkdirSync(path.dirname(this.o.dead_letter_file), { recursive: true });
      appendFileSync(this.o.dead_letter_file, `${line}\n`);
      this.log.error({ endpoint: ep.name, event: n.event, incident: n.incident_key, reason: scrubbed, dead_letter_file: this.o.dead_letter_file }, 'webhook undeliverable: written to the dead-letter file');
    } catch (err) {
      this.log.error({ endpoint: ep.name, err, line }, 'webhook undeliverable AND the dead-letter file cannot be written');
    }
  }
}
