import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { loadConfig, overrideConfig, parseConfig, resolveConfigPaths } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('parses the fully commented example config in deploy/', () => {
    const c = loadConfig(path.join(repo, 'deploy', 'wardwatch.example.yaml'), {});
    assert.equal(c.sensor.id, 'ward-3-sensor');
    assert.deepEqual(c.transport.kafka?.brokers, ['kafka-1.hospital.internal:9092']);
    assert.equal(c.transport.kafka?.topics.replication_factor, 3);
    assert.equal(c.sinks.webhooks.endpoints.length, 2);
    assert.equal(c.sinks.webhooks.endpoints[1]?.format, 'pagerduty');
    assert.equal(c.sinks.syslog?.protocol, 'udp');
  });

  it('the example config names every top-level and second-level option of the schema', () => {
    const example = parseYaml(readFileSync(path.join(repo, 'deploy', 'wardwatch.example.yaml'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    const sections = objectShape(ConfigSchema);
    assert.ok(sections, 'the config schema is an object');
    const missing: string[] = [];
    let checked = 0;
    for (const [key, section] of Object.entries(sections)) {
      if (!(key in example)) missing.push(key);
      for (const sub of Object.keys(objectShape(section) ?? {})) {
        checked++;
        if (!(sub in (example[key] ?? {}))) missing.push(`${key}.${sub}`);
      }
    }
    assert.deepEqual(missing, [], 'options missing from deploy/wardwatch.example.yaml');
    assert.ok(checked >= 45, `${checked} second-level options checked`);
  });

  it('the example config states the real defaults of flows, devices, features and detect', () => {
    const example = loadConfig(path.join(repo, 'deploy', 'wardwatch.example.yaml'), {});
    // Its paths, as any written in a config file, are relative to its folder (issue 22 item 12b).
    const defaults = resolveConfigPaths(ConfigSchema.parse({}), path.join(repo, 'deploy')) as ReturnType<typeof ConfigSchema.parse>;
    for (const section of ['flows', 'devices', 'features', 'detect'] as const) assert.deepEqual(example[section], defaults[section], section);
  });

  it('has working defaults with no file at all', () => {
    const c = loadConfig(undefined, {});
    assert.equal(c.transport.kind, 'memory');
    assert.equal(c.sinks.influx, undefined);
    assert.equal(c.sinks.files.alerts_file, 'out/alerts.jsonl');
    assert.equal(c.service.metrics_listen, '127.0.0.1:9464');
  });

  it('a parsed config, every sink on, validates again when a command patches it (defaults such as retries: Infinity round-trip)', () => {
    const config = loadConfig(path.join(repo, 'deploy', 'wardwatch.example.yaml'), {});
    assert.equal(config.sinks.influx?.retry.retries, Infinity);
    const patched = overrideConfig(config, { detect: { models_dir: 'elsewhere' } });
    assert.equal(patched.detect.models_dir, 'elsewhere');
    assert.deepEqual(patched.sinks, config.sinks);
    // And in YAML: `.inf` is Infinity.
    const inf = parseConfig(parseYaml('sinks:\n  influx:\n    url: http://127.0.0.1:8086\n    retry:\n      retries: .inf\n'), 'yaml');
    assert.equal(inf.sinks.influx?.retry.retries, Infinity);
  });

  it('environment overrides endpoints and secrets', () => {
    const c = parseConfig({ sinks: { influx: { url: 'http://file:8086' } } }, 'test', {
      WARDWATCH_KAFKA_BROKERS: 'k1:9092, k2:9092',
      WARDWATCH_INFLUX_URL: 'http://env:8086',
      WARDWATCH_INFLUX_PASSWORD: 'pw',
    });
    assert.equal(c.transport.kind, 'kafka');
    assert.deepEqual(c.transport.kafka?.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(c.sinks.influx?.url, 'http://env:8086');
    assert.equal(c.sinks.influx?.password, 'pw');
  });

  it('names the field and what is allowed', () => {
    let e = configError(() => parseConfig({ transport: { kind: 'rabbitmq' } }, 'x.yaml', {}));
    assert.equal(e.field, 'transport.kind');
    assert.match(e.message, /must be one of "memory", "kafka" in x\.yaml/);
    e = configError(() => parseConfig({ sinks: { influx: { url: 'http://h:8086', batch_point: 5 } } }, 'x.yaml', {}));
    assert.equal(e.field, 'sinks.influx.batch_point');
    assert.match(e.message, /unknown option batch_point/);
    e = configError(() => parseConfig({ transport: { kind: 'kafka' } }, 'x.yaml', {}));
    assert.equal(e.field, 'transport.kafka');
    assert.match(e.message, /add transport\.kafka\.brokers/);
    e = configError(() => parseConfig({ transport: { kafka: { brokers: ['no-port'] } } }, 'x.yaml', {}));
    assert.equal(e.field, 'transport.kafka.brokers.0');
    assert.match(e.message, /host:port/);
    e = configError(() => parseConfig({ sinks: { webhooks: { endpoints: [{ name: 'a', url: 'http://x', format: 'generic' }, { name: 'a', url: 'http://y', format: 'slack' }] } } }, 'x.yaml', {}));
    assert.equal(e.field, 'sinks.webhooks.endpoints.1.name');
    assert.equal(e.code, 'WW_CONFIG_INVALID');
  });

  it('reports unreadable and malformed files clearly', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-cfg-'));
    try {
      assert.match(configError(() => loadConfig(path.join(dir, 'missing.yaml'), {})).message, /cannot read .*missing\.yaml: no such file/);
      writeFileSync(path.join(dir, 'bad.yaml'), 'sensor:\n  id: [unclosed\n');
      assert.match(configError(() => loadConfig(path.join(dir, 'bad.yaml'), {})).message, /is not valid YAML at line \d+/);
      writeFileSync(path.join(dir, 'list.yaml'), '- a\n- b\n');
      assert.match(configError(() => loadConfig(path.join(dir, 'list.yaml'), {})).message, /must be a YAML mapping/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The shape of an object schema, through optional / default / prefault / pipe wrappers; undefined for a non-object. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let cur: z.ZodType | undefined = schema;
  while (cur) {
    const def = cur._zod.def as { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === 'object') return def.shape;
    cur = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  }
  return undefined;
}
