/**
 * Structured JSON logs (pino). One root logger, one child per component (`log.child({ component: 'kafka-producer' })`).
 * Secrets are redacted by path; payload bytes and patient data are never passed to a logger in the first place.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  '*.*.secret',
  'token',
  '*.token',
  '*.*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'sasl.password',
  'routing_key',
  '*.routing_key',
];

function defaultLevel(): LevelWithSilent {
  const env = process.env['WARDWATCH_LOG_LEVEL'];
  if (env && ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(env)) return env as LevelWithSilent;
  return 'info';
}

/** Root logger writing JSON lines to stderr (stdout is kept for command output such as alert tables). */
export const rootLogger: Logger = pino(
  { name: 'wardwatch', level: defaultLevel(), redact: { paths: REDACT, censor: '[redacted]' } },
  pino.destination({ fd: 2, sync: true }),
);

export function componentLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}

/**
 * A URL as logs and dead-letter records may show it: scheme and host only. Credentials (`user:pass@`), the path and
 * the query are replaced by `[redacted]`: a webhook URL (Slack, Teams) is itself the secret, and an InfluxDB URL may
 * carry credentials. Not a URL at all: `[redacted]`.
 */
export function redactUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return '[redacted]';
  }
  const cred = u.username !== '' || u.password !== '' ? '[redacted]@' : '';
  const path = u.pathname === '' || u.pathname === '/' ? '' : '/[redacted]';
  const query = u.search !== '' ? '?[redacted]' : '';
  return `${u.protocol}//${cred}${u.host}${path}${query}`;
}
