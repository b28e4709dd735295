/**
 * Structured logs (pino). One root logger, one child per component (`log.child({ component: 'kafka-producer' })`).
 * Secrets are redacted by path; payload bytes and patient data are never passed to a logger in the first place.
 * The CLI picks level and format once (`configureLogging`): the services (`sensor`, `detect`) log JSON at info, the
 * commands people run at a terminal (`run`, `replay`, `train`, ...) log text at warn; `--log-level`/`--log-format`
 * or WARDWATCH_LOG_LEVEL/WARDWATCH_LOG_FORMAT choose otherwise.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { ConfigError } from './errors.js';
import { printable } from './terminal.js';

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

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Before `configureLogging` (a library user, a test): JSON at WARDWATCH_LOG_LEVEL, else info, as it always was. */
function initialLevel(): LevelWithSilent {
  const env = process.env['WARDWATCH_LOG_LEVEL'];
  return env && (LOG_LEVELS as readonly string[]).includes(env) ? (env as LevelWithSilent) : 'info';
}

let format: LogFormat = 'json';
const stderr = pino.destination({ fd: 2, sync: true });
const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const TEXT_OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component']);

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as a line for people: `wardwatch: warn: influx-writer: points refused (rejected=12 database=ww)`.
 * Control characters are shown as `?` (a value may come from the wire).
 */
export function textLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = PINO_LEVELS[Number(o['level'])] ?? String(o['level']);
  const component = typeof o['component'] === 'string' ? `${o['component']}: ` : '';
  const msg = typeof o['msg'] === 'string' ? o['msg'] : '';
  // A field the message already says (a path, a broker) is not repeated.
  const fields = Object.entries(o)
    .filter(([k, v]) => !TEXT_OMIT.has(k) && !(typeof v === 'string' && v.length > 0 && msg.includes(v)))
    .map(([k, v]) => `${k}=${textValue(v)}`);
  return printable(`wardwatch: ${level}: ${component}${msg}${fields.length ? ` (${fields.join(' ')})` : ''}`) + '\n';
}

const taps = new Set<(json: string) => void>();

/**
 * Every log line (pino's JSON, secrets already redacted) is also given to `tap` until the returned function is called:
 * for a test that checks what a fault logs in-process (one line at its start, one at its end).
 */
export function tapLogs(tap: (json: string) => void): () => void {
  taps.add(tap);
  return () => void taps.delete(tap);
}

/** Root logger writing to stderr (stdout is kept for command output such as alert tables): JSON lines, or text. */
export const rootLogger: Logger = pino(
  { name: 'wardwatch', level: initialLevel(), redact: { paths: REDACT, censor: '[redacted]' } },
  {
    write: (line: string) => {
      for (const tap of taps) tap(line);
      stderr.write(format === 'json' ? line : textLogLine(line));
    },
  },
);

export interface LogSettings {
  /** `--log-level`; else WARDWATCH_LOG_LEVEL; else info for a service, warn for the other commands. */
  level?: string | undefined;
  /** `--log-format`; else WARDWATCH_LOG_FORMAT; else json for a service, text for the other commands. */
  format?: string | undefined;
  /** `sensor` and `detect`: long-running services whose logs a collector reads (journald, Docker, Loki). */
  service: boolean;
}

/**
 * The CLI's logging, chosen once before a command runs. Child loggers made before (module-level `componentLogger`)
 * follow: they inherit the root's level, and every line goes through the one destination.
 */
export function configureLogging(s: LogSettings, env: NodeJS.ProcessEnv = process.env): { level: LevelWithSilent; format: LogFormat } {
  const level = s.level ?? env['WARDWATCH_LOG_LEVEL'] ?? (s.service ? 'info' : 'warn');
  const levelFrom = s.level !== undefined ? '--log-level' : 'WARDWATCH_LOG_LEVEL';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(levelFrom, `'${level}' is not a log level: use one of ${LOG_LEVELS.join(', ')}`);
  const fmt = s.format ?? env['WARDWATCH_LOG_FORMAT'] ?? (s.service ? 'json' : 'text');
  const formatFrom = s.format !== undefined ? '--log-format' : 'WARDWATCH_LOG_FORMAT';
  if (!(LOG_FORMATS as readonly string[]).includes(fmt)) throw new ConfigError(formatFrom, `'${fmt}' is not a log format: use text or json`);
  rootLogger.level = level;
  format = fmt as LogFormat;
  return { level: level as LevelWithSilent, format };
}

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
