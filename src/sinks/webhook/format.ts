/**
 * Webhook bodies. One incident (device + kind) produces a `trigger`, optional `reminder`s, and a `resolve` when the
 * device is back to normal. Formats:
 *  - `generic`: wardwatch's own JSON (schema in docs/webhooks.md), signed with HMAC-SHA256 when a secret is set;
 *  - `slack`: Slack incoming-webhook message (text + blocks);
 *  - `pagerduty`: PagerDuty Events API v2 (`trigger`/`resolve`, `dedup_key` stable per device+kind);
 *  - `teams`: Microsoft Teams (Workflows/incoming webhook) message with an Adaptive Card attachment.
 */
import type { Alert, Severity } from '../../records/alert.js';

export type WebhookFormat = 'generic' | 'slack' | 'pagerduty' | 'teams';
export type IncidentEvent = 'trigger' | 'reminder' | 'resolve';

export const GENERIC_SCHEMA_VERSION = 1;

export interface IncidentNotice {
  event: IncidentEvent;
  /** Stable per device + kind: `wardwatch:<device_id>:<kind>`. */
  incident_key: string;
  /** The alert that opened or refreshed the incident (for `resolve`: the last alert of the incident). */
  alert: Alert;
  /** Packet time the notice refers to (seconds since the epoch): the alert's time, or when it was resolved. */
  at: number;
  /** Alerts folded into this incident so far. */
  alert_count: number;
}

export function incidentKey(a: Pick<Alert, 'device_id' | 'kind'>): string {
  return `wardwatch:${a.device_id}:${a.kind}`;
}

const iso = (s: number): string => new Date(s * 1000).toISOString();

function deviceLabel(a: Alert): string {
  const name = a.device_name || a.device_id;
  const what = [a.device_class.replace(/_/g, ' '), a.vendor].filter((x) => x && x !== 'unknown').join(', ');
  return what ? `${name} (${what})` : name;
}

function headline(n: IncidentNotice): string {
  const a = n.alert;
  if (n.event === 'resolve') return `RESOLVED: ${deviceLabel(a)} is back to its baseline`;
  const prefix = n.event === 'reminder' ? `STILL ANOMALOUS (${n.alert_count} alerts)` : a.severity.toUpperCase();
  return `${prefix}: ${deviceLabel(a)}: ${a.summary}`;
}

function detailLines(a: Alert): string[] {
  const lines = [
    `Device: ${deviceLabel(a)} [${a.device_id}], criticality ${a.criticality}`,
    `Anomalous since ${iso(a.since)}; score ${a.score.toFixed(2)} (threshold 1.0 = model limit), ${a.windows_over} of ${a.windows_considered} windows over`,
  ];
  for (const f of a.top_features.slice(0, 5)) lines.push(`- ${f.text}`);
  if (a.new_peers.length) lines.push(`New peers: ${a.new_peers.slice(0, 8).join(', ')}`);
  if (a.new_dst_ports.length) lines.push(`New destination ports: ${a.new_dst_ports.slice(0, 12).join(', ')}`);
  lines.push(`Sensor ${a.sensor_id}${a.run_id ? `, run ${a.run_id}` : ''}; model ${a.model}; alert ${a.alert_id}`);
  return lines;
}

export function genericBody(n: IncidentNotice): Record<string, unknown> {
  return {
    schema_version: GENERIC_SCHEMA_VERSION,
    event: n.event,
    incident_key: n.incident_key,
    at: iso(n.at),
    alert_count: n.alert_count,
    title: headline(n),
    alert: n.alert,
  };
}

export function slackBody(n: IncidentNotice): Record<string, unknown> {
  const title = headline(n);
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: detailLines(n.alert).join('\n').slice(0, 2900) } },
    ],
  };
}

const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'warning',
  info: 'info',
};

/** PagerDuty Events API v2. `routing_key` is the integration key (a secret). Reminders are sent as triggers with the same dedup_key (PagerDuty folds them into the open incident). */
export function pagerdutyBody(n: IncidentNotice, routingKey: string): Record<string, unknown> {
  const a = n.alert;
  if (n.event === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key: n.incident_key };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: n.incident_key,
    payload: {
      summary: headline(n).slice(0, 1024),
      source: a.device_id,
      severity: PD_SEVERITY[a.severity],
      timestamp: iso(a.ts),
      component: a.device_class,
      group: a.sensor_id,
      class: a.kind,
      custom_details: {
        device_name: a.device_name,
        vendor: a.vendor,
        criticality: a.criticality,
        since: iso(a.since),
        score: a.score,
        top_features: a.top_features.map((f) => f.text),
        new_peers: a.new_peers,
        new_dst_ports: a.new_dst_ports,
        alert_id: a.alert_id,
        model: a.model,
        alert_count: n.alert_count,
      },
    },
  };
}

export function teamsBody(n: IncidentNotice): Record<string, unknown> {
  const title = headline(n);
  return {
    type: 'message',
    summary: title.slice(0, 150),
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: title },
            ...detailLines(n.alert).map((text) => ({ type: 'TextBlock', wrap: true, spacing: 'Small', text })),
          ],
        },
      },
    ],
  };
}
