/**
 * Issue 22 item 12b: a relative path written in a config file is relative to the file's folder, not to the working
 * directory of the process that reads it; options the file does not set keep their working-directory defaults.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PATH_OPTIONS } from '../../src/config/load.js';
import { DEFAULT_MODELS_DIR } from '../../src/detect/config.js';

describe('config: paths relative to the config file', () => {
  let dir: string;
  let cwd: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-cfgpath-'));
    cwd = process.cwd();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves every path option the file sets against its folder, from another working directory', () => {
    const site = path.join(dir, 'etc', 'ww');
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(site, { recursive: true });
    mkdirSync(elsewhere);
    writeFileSync(
      path.join(site, 'site.yaml'),
      [
        'detect: { models_dir: models }',
        'devices: { state_file: ../state/inventory.json }',
        'sinks:',
        '  files: { alerts_file: out/alerts.jsonl, flows_file: "" }',
        '  webhooks:',
        '    dead_letter_file: dl.jsonl',
        '    endpoints:',
        '      - { name: soc, url: "https://soc.example/h", format: generic, secret_file: secrets/soc }',
        '      - { name: abs, url: "https://soc.example/h", format: generic, secret_file: /run/secrets/abs }',
        'transport:',
        '  kind: kafka',
        '  kafka:',
        '    brokers: ["k:9092"]',
        '    ssl: { ca_file: tls/ca.pem, cert_file: tls/c.pem, key_file: tls/k.pem }',
        '    producer: { spool_dir: spool }',
        '',
      ].join('\n'),
    );
    process.chdir(elsewhere);
    let c: ReturnType<typeof loadConfig>;
    try {
      c = loadConfig('../etc/ww/site.yaml', {});
    } finally {
      process.chdir(cwd);
    }
    assert.equal(c.detect.models_dir, path.join(site, 'models'));
    assert.equal(c.devices.state_file, path.join(dir, 'etc', 'state', 'inventory.json'));
    assert.equal(c.sinks.files.alerts_file, path.join(site, 'out', 'alerts.jsonl'));
    assert.equal(c.sinks.files.flows_file, '', 'empty (off) stays empty');
    assert.equal(c.sinks.webhooks.dead_letter_file, path.join(site, 'dl.jsonl'));
    assert.deepEqual(
      c.sinks.webhooks.endpoints.map((e) => e.secret_file),
      [path.join(site, 'secrets', 'soc'), '/run/secrets/abs'],
    );
    const ssl = c.transport.kafka?.ssl;
    assert.ok(ssl && typeof ssl === 'object');
    assert.deepEqual([ssl.ca_file, ssl.cert_file, ssl.key_file], ['ca.pem', 'c.pem', 'k.pem'].map((f) => path.join(site, 'tls', f)));
    assert.equal(c.transport.kafka?.producer.spool_dir, path.join(site, 'spool'));
  });

  it('options the file does not set keep their defaults, relative to the working directory', () => {
    writeFileSync(path.join(dir, 'min.yaml'), 'sensor: { id: s1 }\n');
    const c = loadConfig(path.join(dir, 'min.yaml'), {});
    assert.equal(c.detect.models_dir, DEFAULT_MODELS_DIR);
    assert.equal(c.sinks.files.alerts_file, 'out/alerts.jsonl');
    assert.equal(c.devices.state_file, 'out/inventory.json');
  });

  it('PATH_OPTIONS names every file and folder option of the schema', () => {
    // Every `<name>_file` / `<name>_dir` option declared in a config schema under src/.
    const declared = new Set<string>();
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const f = path.join(d, name);
        if (statSync(f).isDirectory()) walk(f);
        else if (f.endsWith('.ts')) for (const m of readFileSync(f, 'utf8').matchAll(/\b([a-z_]+_(?:file|dir)): z\./g)) declared.add(m[1]!);
      }
    };
    walk('src');
    assert.ok(declared.size >= 8, [...declared].join(', '));
    const resolved = new Set(PATH_OPTIONS.map((p) => p.at(-1)!));
    assert.deepEqual([...declared].filter((k) => !resolved.has(k)), [], 'path options not resolved against the config file');
  });
});
