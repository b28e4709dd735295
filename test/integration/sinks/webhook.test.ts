/**
 * Webhooks against a local HTTP receiver on loopback: each format's body, the generic format's HMAC signature,
 * retries (500 then 200 → accepted once), dead-lettering, and incident throttling / reminder / resolve.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebhookSink, type WebhookEndpoint } from '../../../src/sinks/webhook/sink.js';
import { ConfigError } from '../../../src/errors.js';
import type { WindowScore } from '../../../src/records/alert.js';
import { makeAlert } from '../../support/alerts.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

class Receiver {
  readonly received: Received[] = [];
  /** Status to answer per request path, consumed in order; 200 when empty. */
  readonly script = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const status = this.script.get(req.url ?? '')?.shift() ?? 200;
        this.received.push({ path: req.url ?? '', headers: req.headers, body, status });
        res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  accepted(p: string): Received[] {
    return this.received.filter((r) => r.path === p && r.status === 200);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const FAST = { retries: 3, initial_delay_ms: 20, max_delay_ms: 100, multiplier: 2, jitter: 0.2 };

describe('webhook sink (local HTTP receiver)', () => {
  let rx: Receiver;
  let dir: string;
  beforeEach(async () => {
    rx = new Receiver();
    await rx.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-webhook-'));
    process.env['WW_TEST_WEBHOOK_SECRET'] = 's3cret-for-tests';
    process.env['WW_TEST_PD_KEY'] = 'R0UTINGKEY0000000000000000000000';
  });
  afterEach(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = (name: string, format: WebhookEndpoint['format'], extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
    name,
    url: `${rx.url}/${name}`,
    format,
    secret_env: '',
    secret_file: '',
    timeout_ms: 2000,
    retry: FAST,
    headers: {},
    ...extra,
  });

  it('sends each format with the fields on-call needs, and signs the generic one', async () => {
    const sink = new WebhookSink({
      dead_letter_file: path.join(dir, 'dlq.jsonl'),
      endpoints: [
        endpoint('generic', 'generic', { secret_env: 'WW_TEST_WEBHOOK_SECRET' }),
        endpoint('slack', 'slack'),
        endpoint('pd', 'pagerduty', { secret_env: 'WW_TEST_PD_KEY' }),
        endpoint('teams', 'teams'),
      ],
    });
    const alert = makeAlert(2); // severity high
    await sink.onAlerts([alert]);

    const [g] = rx.accepted('/generic');
    assert.ok(g);
    const ts = g.headers['x-wardwatch-timestamp'] as string;
    const expected = `sha256=${createHmac('sha256', 's3cret-for-tests').update(`${ts}.${g.body}`).digest('hex')}`;
    assert.equal(g.headers['x-wardwatch-signature'], expected);
    const gb = JSON.parse(g.body) as { event: string; incident_key: string; title: string; alert: { alert_id: string; top_features: unknown[] } };
    assert.equal(gb.event, 'trigger');
    assert.equal(gb.incident_key, `wardwatch:${alert.device_id}:anomaly`);
    assert.equal(gb.alert.alert_id, alert.alert_id);
    assert.equal(gb.title, 'HIGH: Pump 2 (infusion pump, Baxter Healthcare): contacted 12 new destination ports');
    assert.equal(gb.alert.top_features.length, 2);

    const [sl] = rx.accepted('/slack');
    const sb = JSON.parse(sl!.body) as { text: string; blocks: { text: { text: string } }[] };
    assert.match(sb.text, /^HIGH: Pump 2 /);
    assert.match(sb.blocks[1]!.text.text, /12 new destination ports; expected ≤ 1/);
    assert.match(sb.blocks[1]!.text.text, /Anomalous since /);
    assert.equal(sl!.headers['x-wardwatch-signature'], undefined, 'only the generic format is signed');

    const [pd] = rx.accepted('/pd');
    const pb = JSON.parse(pd!.body) as { routing_key: string; event_action: string; dedup_key: string; payload: { severity: string; source: string; summary: string } };
    assert.equal(pb.routing_key, 'R0UTINGKEY0000000000000000000000');
    assert.equal(pb.event_action, 'trigger');
    assert.equal(pb.dedup_key, `wardwatch:${alert.device_id}:anomaly`);
    assert.equal(pb.payload.severity, 'error');
    assert.equal(pb.payload.source, alert.device_id);

    const [tm] = rx.accepted('/teams');
    const tb = JSON.parse(tm!.body) as { type: string; attachments: { contentType: string; content: { type: string; body: { text: string }[] } }[] };
    assert.equal(tb.type, 'message');
    assert.equal(tb.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.ok(tb.attachments[0]!.content.body.some((b) => /New destination ports: 22, 23, 445/.test(b.text)));
  });

  it('retries a 500 and the receiver accepts the alert exactly once', async () => {
    rx.script.set('/generic', [500]);
    const sink = new WebhookSink({ dead_letter_file: path.join(dir, 'dlq.jsonl'), endpoints: [endpoint('generic', 'generic')] });
    await sink.onAlerts([makeAlert(1)]);
    assert.equal(rx.received.length, 2);
    assert.equal(rx.accepted('/generic').length, 1);
    assert.equal(rx.received[0]!.headers['x-wardwatch-delivery'], rx.received[1]!.headers['x-wardwatch-delivery'], 'same delivery id on the retry');
    assert.equal(sink.stats().delivery_retries, 1);
    assert.equal(sink.stats().dead_lettered, 0);
    assert.equal(existsSync(path.join(dir, 'dlq.jsonl')), false);
  });

  it('dead-letters what it cannot deliver: retries exhausted, or a 4xx at once', async () => {
    rx.script.set('/down', [503, 503, 503, 503]);
    // A Slack-style URL: its path is the secret, it must not reach the dead-letter file.
    rx.script.set('/services/T0SECRET/B0SECRET/XSECRETX', [400]);
    const dlq = path.join(dir, 'dlq.jsonl');
    const sink = new WebhookSink({
      dead_letter_file: dlq,
      endpoints: [
        endpoint('down', 'generic'),
        endpoint('bad', 'slack', { url: `${rx.url}/services/T0SECRET/B0SECRET/XSECRETX` }),
        endpoint('pd', 'pagerduty', { secret_env: 'WW_TEST_PD_KEY', url: 'http://user:P4SSW0RD@127.0.0.1:9/nothing' }),
      ],
    });
    await sink.onAlerts([makeAlert(2)]);
    assert.equal(rx.received.filter((r) => r.path === '/down').length, 4, '1 try + 3 retries');
    assert.equal(rx.received.filter((r) => r.path === '/services/T0SECRET/B0SECRET/XSECRETX').length, 1, 'no retry on 400');
    const text = readFileSync(dlq, 'utf8');
    for (const secret of ['SECRET', 'P4SSW0RD', '/nothing']) assert.ok(!text.includes(secret), `the dead-letter file holds '${secret}'`);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { endpoint: string; url: string; reason: string; body: string });
    assert.equal(lines.find((l) => l.endpoint === 'bad')!.url, `${rx.url}/[redacted]`);
    assert.equal(lines.find((l) => l.endpoint === 'pd')!.url, 'http://[redacted]@127.0.0.1:9/[redacted]');
    assert.deepEqual(lines.map((l) => l.endpoint).sort(), ['bad', 'down', 'pd']);
    assert.equal(lines.find((l) => l.endpoint === 'down')!.reason, 'HTTP 503');
    assert.equal(lines.find((l) => l.endpoint === 'bad')!.reason, 'HTTP 400');
    const pdLine = lines.find((l) => l.endpoint === 'pd')!;
    assert.ok(!pdLine.body.includes('R0UTINGKEY'), 'the routing key is not written to disk');
    assert.match(pdLine.body, /"dedup_key"/);
    assert.equal(sink.stats().dead_lettered, 3);
  });

  it('pages once per incident, reminds after the configured time, resolves after normal windows', async () => {
    const sink = new WebhookSink({
      dead_letter_file: path.join(dir, 'dlq.jsonl'),
      reminder_after_s: 600,
      resolve_after_windows: 3,
      endpoints: [endpoint('pd', 'pagerduty', { secret_env: 'WW_TEST_PD_KEY' })],
    });
    const base = 1_800_000_000;
    const device = makeAlert(0, 'r', base);
    const at = (i: number) => ({ ...makeAlert(0, 'r', base), alert_id: `x${i}`, ts: base + i * 10, since: base });
    await sink.onAlerts([device, at(1), at(2), at(3)]);
    assert.equal(rx.received.length, 1, 'one page for four alerts of one incident');
    assert.equal(sink.stats().notices_throttled, 3);
    await sink.onAlerts([at(61)]); // 610 s after the page: reminder
    assert.equal(rx.received.length, 2);
    const scores = (from: number, n: number, score: number): WindowScore[] =>
      Array.from({ length: n }, (_, k) => ({ device_id: device.device_id, window_start: base + (from + k) * 10, window_end: base + (from + k + 1) * 10, score, threshold: 0.2, model: 'm', learning: false, device_class: 'unknown' }));
    await sink.onScores([...scores(62, 2, 0.4), ...scores(64, 1, 3), ...scores(65, 2, 0.5)]);
    assert.equal(rx.received.length, 2, 'an anomalous window resets the count');
    await sink.onScores(scores(67, 1, 0.3));
    assert.equal(rx.received.length, 3);
    const bodies = rx.received.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string });
    assert.deepEqual(bodies.map((b) => b.event_action), ['trigger', 'trigger', 'resolve']);
    assert.equal(new Set(bodies.map((b) => b.dedup_key)).size, 1, 'one dedup key for the whole incident');
    assert.deepEqual(sink.openIncidents(), []);
    await sink.onAlerts([at(80)]);
    assert.equal(rx.received.length, 4, 'a new incident pages again');
  });

  it('a missing secret is a config error naming the field', () => {
    delete process.env['WW_TEST_PD_KEY'];
    assert.throws(
      () => new WebhookSink({ endpoints: [endpoint('oncall', 'pagerduty', { secret_env: 'WW_TEST_PD_KEY' })] }),
      (err: unknown) => err instanceof ConfigError && err.field === 'sinks.webhooks.oncall.secret_env' && /WW_TEST_PD_KEY is not set/.test(err.message),
    );
  });
});
