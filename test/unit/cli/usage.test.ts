/**
 * Issue 22 item 7: every kind of command line commander cannot parse is one line `wardwatch: WW_USAGE: …` with exit
 * status 2 (the README's promise), in-process through `runCli` as `wardwatch` runs it.
 */
import assert from 'node:assert/strict';
import { runCli } from '../../../src/cli/program.js';

async function cli(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const err: string[] = [];
  const out: string[] = [];
  const write = { err: process.stderr.write.bind(process.stderr), out: process.stdout.write.bind(process.stdout) };
  process.stderr.write = ((s: string) => (err.push(String(s)), true));
  process.stdout.write = ((s: string) => (out.push(String(s)), true));
  try {
    const code = await runCli(['node', 'wardwatch', ...args]);
    return { code, stderr: err.join(''), stdout: out.join('') };
  } finally {
    process.stderr.write = write.err;
    process.stdout.write = write.out;
  }
}

describe('usage errors: one line, WW_USAGE, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /^wardwatch: WW_USAGE: unknown command 'frobnicate' \(see 'wardwatch --help'\)$/],
    ['unknown option', ['run', '--frob'], /^wardwatch: WW_USAGE: unknown option '--frob' \(see 'wardwatch run --help'\)$/],
    ['unknown option with a suggestion', ['replay', 'x.pcap', '--sped', '2x'], /^wardwatch: WW_USAGE: unknown option '--sped' \(Did you mean --speed\?\) \(see 'wardwatch replay --help'\)$/],
    ['missing argument', ['replay'], /^wardwatch: WW_USAGE: missing required argument 'capture' \(see 'wardwatch replay --help'\)$/],
    ['missing argument of a subcommand', ['inventory', 'show'], /^wardwatch: WW_USAGE: missing required argument 'device' \(see 'wardwatch inventory show --help'\)$/],
    ['option without its value', ['run', '--alerts'], /^wardwatch: WW_USAGE: option '--alerts <file>' argument missing \(see 'wardwatch run --help'\)$/],
    ['too many arguments', ['run', 'a.pcap', 'b.pcap'], /^wardwatch: WW_USAGE: too many arguments for 'run'\. Expected 1 argument but got 2\. \(see 'wardwatch run --help'\)$/],
    ['a value not among the choices', ['--log-format', 'yaml', 'run'], /^wardwatch: WW_USAGE: option '--log-format <format>' argument 'yaml' is invalid\. Allowed choices are text, json\. \(see 'wardwatch --help'\)$/],
  ];
  for (const [kind, args, message] of cases) {
    it(kind, async () => {
      const r = await cli(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr.trimEnd(), message);
    });
  }

  it('--help and --version still exit 0 with their text on stdout', async () => {
    const h = await cli('run', '--help');
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: wardwatch run/);
    assert.match(h.stdout, /--log-format <format>/, 'the global logging options are in every command\'s help');
    const v = await cli('--version');
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('a command that needs a subcommand, given none: its help on stderr, exit 2', async () => {
    const r = await cli('inventory');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: wardwatch inventory/);
  });
});
