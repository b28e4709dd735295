/**
 * Loading the configuration: YAML file → environment overrides → schema (defaults, validation).
 *
 * Environment variables override endpoints and secrets (they win over the file):
 *   WARDWATCH_SENSOR_ID            sensor.id
 *   WARDWATCH_KAFKA_BROKERS        transport.kafka.brokers (comma-separated; also sets transport.kind: kafka)
 *   WARDWATCH_KAFKA_SASL_PASSWORD  transport.kafka.sasl.password
 *   WARDWATCH_INFLUX_URL           sinks.influx.url
 *   WARDWATCH_INFLUX_USERNAME      sinks.influx.username
 *   WARDWATCH_INFLUX_PASSWORD      sinks.influx.password
 * Webhook secrets are named per endpoint (`secret_env`), never written in the file.
 */
import { readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { ConfigSchema, type ConfigInput, type WardwatchConfig } from './schema.js';

type Obj = Record<string, unknown>;

function section(root: Obj, path: string[]): Obj {
  let cur = root;
  for (const key of path) {
    const next = cur[key];
    if (next === undefined || next === null) cur[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) throw new ConfigError(path.join('.'), 'must be a mapping');
    cur = cur[key] as Obj;
  }
  return cur;
}

export function applyEnvironment(raw: Obj, env: NodeJS.ProcessEnv = process.env): Obj {
  const out = structuredClone(raw);
  const set = (path: string[], value: unknown): void => {
    section(out, path.slice(0, -1))[path.at(-1)!] = value;
  };
  if (env['WARDWATCH_SENSOR_ID']) set(['sensor', 'id'], env['WARDWATCH_SENSOR_ID']);
  if (env['WARDWATCH_KAFKA_BROKERS']) {
    set(['transport', 'kafka', 'brokers'], env['WARDWATCH_KAFKA_BROKERS'].split(',').map((s) => s.trim()).filter(Boolean));
    set(['transport', 'kind'], 'kafka');
  }
  if (env['WARDWATCH_KAFKA_SASL_PASSWORD']) set(['transport', 'kafka', 'sasl', 'password'], env['WARDWATCH_KAFKA_SASL_PASSWORD']);
  if (env['WARDWATCH_INFLUX_URL']) set(['sinks', 'influx', 'url'], env['WARDWATCH_INFLUX_URL']);
  if (env['WARDWATCH_INFLUX_USERNAME']) set(['sinks', 'influx', 'username'], env['WARDWATCH_INFLUX_USERNAME']);
  if (env['WARDWATCH_INFLUX_PASSWORD']) set(['sinks', 'influx', 'password'], env['WARDWATCH_INFLUX_PASSWORD']);
  return out;
}

/** The most useful single message for a zod failure: the first issue, with its path and what is allowed. */
function toConfigError(error: z.ZodError, source: string): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    return new ConfigError(issue.path.length ? `${field}.${issue.keys[0]}` : issue.keys[0]!, `unknown option${issue.keys.length > 1 ? 's' : ''} ${keys} in ${source} (check the spelling against deploy/wardwatch.example.yaml)`);
  }
  if (issue.code === 'invalid_value' && 'values' in issue) message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new ConfigError(field, `${message} in ${source}${more}`);
}

/** Validates an already-parsed object (after environment overrides). */
export function parseConfig(raw: unknown, source = 'configuration', env: NodeJS.ProcessEnv = process.env): WardwatchConfig {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError('(root)', `${source} must be a YAML mapping of sections (sensor, transport, sinks, ...)`);
  }
  const result = ConfigSchema.safeParse(applyEnvironment((raw ?? {}) as Obj, env));
  if (!result.success) throw toConfigError(result.error, source);
  return result.data;
}

/**
 * The options that name a file or folder. A relative path written in a config file is relative to that file's
 * folder (as nginx's include, Prometheus' rule_files): `detect.models_dir: models` in /etc/wardwatch/site.yaml is
 * /etc/wardwatch/models, whatever the working directory. An option the file does not set keeps its default,
 * relative to the working directory (`out/alerts.jsonl`); a command-line option (`--models-dir`) is relative to the
 * working directory too. `[]` stands for every element of a list.
 */
export const PATH_OPTIONS: readonly (readonly string[])[] = [
  ['detect', 'models_dir'],
  ['devices', 'state_file'],
  ['sinks', 'files', 'alerts_file'],
  ['sinks', 'files', 'flows_file'],
  ['sinks', 'webhooks', 'dead_letter_file'],
  ['sinks', 'webhooks', 'endpoints', '[]', 'secret_file'],
  ['transport', 'kafka', 'producer', 'spool_dir'],
  ['transport', 'kafka', 'ssl', 'ca_file'],
  ['transport', 'kafka', 'ssl', 'cert_file'],
  ['transport', 'kafka', 'ssl', 'key_file'],
];

/** `raw` with the relative paths of PATH_OPTIONS made absolute against `dir` (empty strings, i.e. "off", kept). */
export function resolveConfigPaths(raw: unknown, dir: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out = structuredClone(raw) as Obj;
  const visit = (node: unknown, keys: readonly string[]): void => {
    if (node === null || typeof node !== 'object') return;
    const [key, ...rest] = keys;
    if (key === '[]') {
      if (Array.isArray(node)) for (const item of node) visit(item, rest);
      return;
    }
    if (Array.isArray(node) || key === undefined) return;
    const obj = node as Obj;
    if (rest.length > 0) return visit(obj[key], rest);
    const value = obj[key];
    if (typeof value === 'string' && value !== '' && !nodePath.isAbsolute(value)) obj[key] = nodePath.resolve(dir, value);
  };
  for (const keys of PATH_OPTIONS) visit(out, keys);
  return out;
}

/**
 * Reads and validates a YAML config file (relative paths in it resolved against its folder: PATH_OPTIONS); without
 * a path, the defaults (plus environment).
 */
export function loadConfig(path?: string, env: NodeJS.ProcessEnv = process.env): WardwatchConfig {
  if (!path) return parseConfig({}, 'defaults', env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw new ConfigError('--config', `${path} is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return parseConfig(resolveConfigPaths(raw, nodePath.dirname(nodePath.resolve(path))), path, env);
}

/** A command's overrides of the configuration (its options), as a partial config: `{ detect: { models_dir } }`. */
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type ConfigPatch = DeepPartial<ConfigInput>;

function merged(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch) || base === null || typeof base !== 'object' || Array.isArray(base)) return patch;
  const out: Obj = { ...(base as Obj) };
  for (const [k, v] of Object.entries(patch as Obj)) if (v !== undefined) out[k] = merged(out[k], v);
  return out;
}

/**
 * A validated configuration with a command's options over it (a deep merge: `patch` wins), validated again as one,
 * so that a bad option fails as a bad config value does, naming the field. An empty patch returns `config`.
 */
export function overrideConfig(config: WardwatchConfig, patch: ConfigPatch, source = 'the command line'): WardwatchConfig {
  if (Object.keys(patch).length === 0) return config;
  const result = ConfigSchema.safeParse(merged(config, patch));
  if (!result.success) throw toConfigError(result.error, source);
  return result.data;
}
