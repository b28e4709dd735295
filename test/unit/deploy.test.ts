/**
 * The deploy/ quick start: the compose file parses, every file or folder it mounts or builds from exists in the
 * repository, and the wardwatch config it mounts is valid. (No Docker engine runs here; this checks what can be.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const deploy = path.join(repo, 'deploy');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  volumes?: string[];
  command?: string[];
}

describe('deploy/ quick start', () => {
  const compose = parse(readFileSync(path.join(deploy, 'compose.yaml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

  it('has Kafka, InfluxDB, Grafana, a sensor and a detector', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['detector', 'grafana', 'influxdb', 'kafka', 'sensor']);
    assert.deepEqual(compose.services['sensor']?.command?.slice(0, 1), ['sensor']);
    assert.deepEqual(compose.services['detector']?.command?.slice(0, 1), ['detect']);
  });

  it('mounts and builds only from paths that exist in the repository', () => {
    const named = new Set(Object.keys(compose.volumes ?? {}));
    let checked = 0;
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (named.has(host)) continue;
        assert.ok(existsSync(path.resolve(deploy, host)), `${name} mounts ${host}, which is missing`);
        checked++;
      }
      if (svc.build) {
        assert.ok(existsSync(path.resolve(deploy, svc.build.context, svc.build.dockerfile)), `${name}: Dockerfile ${svc.build.dockerfile}`);
        checked++;
      }
    }
    assert.ok(checked >= 7);
    // Grafana gets the generated provisioning files.
    assert.ok(existsSync(path.join(repo, 'dashboards', 'provisioning', 'datasources', 'wardwatch-influxdb.yaml')));
  });

  it('the mounted wardwatch config is valid', () => {
    const c = loadConfig(path.join(deploy, 'compose', 'wardwatch.yaml'), {});
    assert.equal(c.transport.kind, 'kafka');
    assert.equal(c.sinks.influx?.url, 'http://influxdb:8086');
  });

  it('the Dockerfile copies only what exists', () => {
    const docker = readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');
    for (const m of docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(path.join(repo, src)), `Dockerfile copies ${src}`);
    }
  });
});
