/**
 * The webhook sink's options (`sinks.webhooks` in the config file) with their defaults, written once, here; the
 * top-level schema (src/config/schema.ts) composes this.
 */
import { z } from 'zod';
import { retryOptionsSchema } from '../../retry.js';
import type { WebhookEndpoint, WebhookSinkOptions } from './sink.js';

export const DEFAULT_WEBHOOK_ENDPOINT: Omit<WebhookEndpoint, 'name' | 'url' | 'format'> = {
  secret_env: '',
  secret_file: '',
  timeout_ms: 5000,
  retry: { retries: 5, initial_delay_ms: 500, max_delay_ms: 30_000, multiplier: 2, jitter: 0.2 },
  headers: {},
};

export const DEFAULT_WEBHOOK_SINK: WebhookSinkOptions = {
  endpoints: [],
  reminder_after_s: 3600,
  resolve_after_windows: 6,
  dead_letter_file: 'out/webhooks.dead-letter.jsonl',
};

const positive = z.number().int().positive();
const E = DEFAULT_WEBHOOK_ENDPOINT;

export const WebhookEndpointSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _'),
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['generic', 'slack', 'pagerduty', 'teams']),
  secret_env: z.string().default(E.secret_env),
  secret_file: z.string().default(E.secret_file),
  timeout_ms: positive.default(E.timeout_ms),
  retry: retryOptionsSchema(E.retry).prefault({}),
  headers: z.record(z.string(), z.string()).default(E.headers),
});

export const WebhookSinkSchema = z
  .strictObject({
    endpoints: z.array(WebhookEndpointSchema).default([]),
    reminder_after_s: z.number().int().nonnegative().default(DEFAULT_WEBHOOK_SINK.reminder_after_s),
    resolve_after_windows: positive.default(DEFAULT_WEBHOOK_SINK.resolve_after_windows),
    dead_letter_file: z.string().default(DEFAULT_WEBHOOK_SINK.dead_letter_file),
  })
  .superRefine((c, ctx) => {
    const names = c.endpoints.map((e) => e.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'name'], message: `duplicate endpoint name '${n}': names must be unique` });
    });
  });
