/**
 * Issue 22 item 4: the capture addon's install step (scripts/install-capture.sh, npm postinstall, run by
 * scripts/demo.sh through setup) on a machine where it cannot be built says so in ONE line — what is missing, how to
 * enable live capture, where the build log is — and exits 0; the compiler's and node-gyp's output go to the log.
 * Run in a scratch copy of the script and the addon sources, so the repository's own build is left alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADDON = path.join('src', 'capture', 'live', 'addon');

describe('install-capture.sh without what the addon needs', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ww-install-capture-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function scratch(name: string, capture: string): string {
    const root = path.join(dir, name);
    mkdirSync(path.join(root, 'scripts'), { recursive: true });
    mkdirSync(path.join(root, ADDON), { recursive: true });
    copyFileSync(path.join(repo, 'scripts', 'install-capture.sh'), path.join(root, 'scripts', 'install-capture.sh'));
    copyFileSync(path.join(repo, ADDON, 'binding.gyp'), path.join(root, ADDON, 'binding.gyp'));
    writeFileSync(path.join(root, ADDON, 'capture.c'), capture);
    return root;
  }

  function install(root: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string; stdout: string } {
    const r = spawnSync('bash', [path.join(root, 'scripts', 'install-capture.sh')], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 170_000 });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  }

  it('a failing build (pcap.h missing at compile time): one line naming the error and the log; gyp output in the log', () => {
    const source = readFileSync(path.join(repo, ADDON, 'capture.c'), 'utf8').replace('#include <pcap/pcap.h>', '#include <pcap/wardwatch-missing.h>');
    assert.match(source, /wardwatch-missing\.h/, 'the addon source includes pcap/pcap.h');
    const root = scratch('build-fails', source);
    const r = install(root);
    assert.equal(r.code, 0, 'never fails the install');
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    const log = path.join(root, '.cache', 'capture-addon-build.log');
    assert.match(
      lines[0]!,
      /^\[wardwatch postinstall\] live capture is unavailable: building the capture addon failed \(fatal error: pcap\/wardwatch-missing\.h: No such file or directory\) \(files, replay and the demo work\); to enable it: install libpcap-dev, python3, make and g\+\+, then run 'npm run rebuild:capture' \(build log: .+\)$/,
    );
    assert.ok(lines[0]!.endsWith(`(build log: ${log})`), lines[0]);
    const text = readFileSync(log, 'utf8');
    assert.match(text, /gyp ERR!/);
    assert.match(text, /live capture unavailable: building the capture addon failed/);
  });

  it('no libpcap headers: one line, checked before any build', () => {
    const root = scratch('no-headers', readFileSync(path.join(repo, ADDON, 'capture.c'), 'utf8'));
    // A C compiler that has no pcap/pcap.h (as on a machine without libpcap-dev).
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'cc'), '#!/bin/sh\necho "<stdin>:1:10: fatal error: pcap/pcap.h: No such file or directory" >&2\nexit 1\n');
    chmodSync(path.join(bin, 'cc'), 0o755);
    const r = install(root, { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    assert.equal(r.code, 0);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^\[wardwatch postinstall\] live capture is unavailable: libpcap headers \(pcap\/pcap\.h, package libpcap-dev\) not found .*\(build log: .+capture-addon-build\.log\)$/);
    assert.match(readFileSync(path.join(root, '.cache', 'capture-addon-build.log'), 'utf8'), /fatal error: pcap\/pcap\.h: No such file or directory/);
  });
});
