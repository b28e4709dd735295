/**
 * What the live-capture tests and the live benchmark share: a veth pair that carries nothing but the frames replayed
 * into it (no addresses, IPv6 off), whether the tools they need are there, and a free loopback port for /metrics.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** True when `cmd` is on PATH. */
export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why a live test cannot run here ('' when it can): root, tcpreplay and iproute2 are needed. */
export function liveCaptureMissing(more: string[] = []): string {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const cmd of ['tcpreplay', 'ip', ...more]) if (!has(cmd)) return `${cmd} not installed`;
  return '';
}

/** Creates the veth pair `a`–`b` (replacing a leftover one), both ends up, with nothing of their own on the wire. */
export function createVethPair(a: string, b: string): void {
  spawnSync('ip', ['link', 'del', a], { stdio: 'ignore' });
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  for (const i of [a, b]) {
    execFileSync('sysctl', ['-q', '-w', `net.ipv6.conf.${i}.disable_ipv6=1`]);
    execFileSync('ip', ['link', 'set', i, 'up']);
  }
}

export function deleteVethPair(a: string): void {
  spawnSync('ip', ['link', 'del', a], { stdio: 'ignore' });
}

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  await new Promise((r) => srv.close(r));
  return typeof a === 'object' && a ? a.port : 0;
}
