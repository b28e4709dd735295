/**
 * Issue 22 item 9: `wardwatch sensor` with no broker to reach says so in one line of words (which broker, the cause,
 * what to check) after a bounded wait, and SIGTERM ends it within 5 s even while kafkajs is still retrying inside a
 * start attempt. The real CLI against a port nothing listens on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('wardwatch sensor with no reachable broker (real CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ww-unreachable-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one line naming the broker, the cause and what to check after 10 s; SIGTERM ends it within 5 s', async () => {
    const port = await closedPort();
    const config = path.join(dir, 'sensor.yaml');
    writeFileSync(config, `transport:\n  kind: kafka\n  kafka:\n    brokers: ["127.0.0.1:${port}"]\nservice:\n  metrics_listen: ""\n`);
    const child = spawn(process.execPath, [path.join(REPO, 'dist/src/cli/main.js'), 'sensor', '-c', config, '-r', path.join(REPO, 'captures', 'demo.pcap')], { cwd: dir, env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = Date.now();
    const notice = `sensor start: cannot reach kafka 127.0.0.1:${port} after 10 s`;
    while (!stderr.includes(notice)) {
      assert.ok(Date.now() - t0 < 30_000, `no notice after 30 s:\n${stderr}`);
      assert.equal(child.exitCode, null, `exited early:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const line = stderr.split('\n').find((l) => l.includes(notice))!;
    assert.match(line, /check that the broker runs and that transport\.kafka\.brokers \(or WARDWATCH_KAFKA_BROKERS\) names it; still retrying/);
    assert.match(line, /ECONNREFUSED|Connection error|connect/i, 'the cause is named');
    const stopAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const ms = Date.now() - stopAt;
    assert.ok(ms < 5000, `exited ${ms} ms after SIGTERM`);
    assert.equal(code, 0, stderr);
  });
});
