/**
 * Issue 22 item 2: the README's commands are runnable as written. Each is `npx wardwatch …` (npm runs this package's
 * own bin from the repository folder; plain `wardwatch` is not on PATH after set-up), and each complete command line
 * (not a synopsis such as `wardwatch run [capture]`) names a real command with options it accepts: parsed by the real
 * program with every action replaced by a no-op.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/program.js';

/** Shell-like words: quotes group, a `#` comment ends the line. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s#.*$/, '').matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Every `wardwatch …` the README shows: lines of code blocks, and inline code spans. */
function readmeCommands(): string[] {
  const text = readFileSync('README.md', 'utf8');
  const found: string[] = [];
  let block = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      block = !block;
      continue;
    }
    if (block) {
      if (/^(sudo )?(npx )?wardwatch -?[a-z]/.test(line)) found.push(line);
    } else {
      for (const m of line.matchAll(/`((?:sudo )?(?:npx )?wardwatch -?[a-z][^`]*)`/g)) found.push(m[1]!.replace(/\\\|/g, '|'));
    }
  }
  return found;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

describe('README commands', () => {
  const commands = readmeCommands();

  it('are all written npx wardwatch … (runnable from the repository folder as written)', () => {
    assert.ok(commands.length >= 30, `${commands.length} commands found`);
    const plain = commands.filter((c) => !/^(sudo )?npx wardwatch\b/.test(c));
    assert.deepEqual(plain, [], 'commands without npx');
  });

  it('each complete command line names a real command and options it accepts', async () => {
    // A synopsis (`<capture>`, `[-o DIR]`, `a|b`) or a mention by name in prose (`npx wardwatch run -i`: under three
    // words after the command) is not a command line to run.
    const complete = commands.filter((c) => !/[<>[\]|…]/.test(c) && words(c).slice(c.startsWith('sudo ') ? 3 : 2).length >= 3);
    assert.ok(complete.length >= 12, `${complete.length} complete command lines`);
    const problems: string[] = [];
    for (const line of complete) {
      const args = words(line).slice(line.startsWith('sudo ') ? 3 : 2);
      const program = buildProgram();
      for (const cmd of allCommands(program)) {
        cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
        if (cmd.commands.length === 0) cmd.action(() => undefined);
      }
      try {
        await program.parseAsync(args, { from: 'user' });
      } catch (err) {
        // A command with subcommands named alone (`npx wardwatch inventory`) shows its help: a real command.
        if ((err as { code?: string }).code !== 'commander.help') problems.push(`${line}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
