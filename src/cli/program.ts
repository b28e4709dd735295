/**
 * The `wardwatch` command line: the commands, the options every command shares (logging), and how a command line
 * that cannot be parsed is reported (one line, `WW_USAGE`, exit 2). `main.ts` runs it.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { describeError, UsageError, WardwatchError } from '../errors.js';
import { configureLogging, LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { simulateCommand } from '../simulate/command.js';
import { replayCommand, runCommand } from './run.js';
import { detectCommand, sensorCommand } from './services.js';
import { dashboardsCommand } from './dashboards.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { inventoryCommand } from './inventory.js';
import { modelsCommand } from './models.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The long-running services: JSON logs at info by default (a collector reads them), not text at warn. */
const SERVICES = new Set(['sensor', 'detect']);

const LOGGING_HELP = [
  '',
  'Logging (stderr; stdout is for tables and results):',
  '  run, replay, train, evaluate, ... log text at warn; sensor and detect log JSON at info (for journald/Docker).',
  '  --log-level or WARDWATCH_LOG_LEVEL: fatal, error, warn, info, debug, trace, silent',
  '  --log-format or WARDWATCH_LOG_FORMAT: text or json',
  '',
  'Exit status: 0 done, 1 failed (one line: wardwatch: WW_CODE: ...), 2 usage or configuration error.',
  '',
].join('\n');

/** Every command under `cmd`, itself included. */
function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** `wardwatch inventory show` for the `--help` hint of a usage error. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * A commander parse error as one `WW_USAGE` line: commander's text without its `error: ` prefix, its suggestion
 * ("Did you mean --from?") on the same line, and where the allowed options are listed.
 */
export function usageError(err: CommanderError, cmd: Command): UsageError {
  const text = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  return new UsageError(`${text} (see '${commandPath(cmd)} --help')`, { cause: err });
}

export function buildProgram(): Command {
  const program = new Command('wardwatch')
    .description('Passive network sensor for hospital medical devices: learns each device\'s normal behaviour and flags deviations.')
    .version(pkg.version)
    .addOption(new Option('--log-level <level>', 'log level (default: warn; sensor/detect: info; env WARDWATCH_LOG_LEVEL)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log format (default: text; sensor/detect: json; env WARDWATCH_LOG_FORMAT)').choices(LOG_FORMATS))
    .addHelpText('after', LOGGING_HELP);

  program.addCommand(runCommand());
  program.addCommand(replayCommand());
  program.addCommand(sensorCommand());
  program.addCommand(detectCommand());
  program.addCommand(trainCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(simulateCommand());
  program.addCommand(inventoryCommand());
  program.addCommand(modelsCommand());
  program.addCommand(dashboardsCommand());

  program.hook('preAction', (_root, action) => {
    let top = action;
    while (top.parent && top.parent !== program) top = top.parent;
    const o = program.opts<{ logLevel?: string; logFormat?: string }>();
    configureLogging({ level: o.logLevel, format: o.logFormat, service: SERVICES.has(top.name()) });
  });

  // Commands are added with addCommand, which copies no settings: each one gets them here. A parse error is
  // thrown (not printed by commander and exited 1) and reported by `runCli` as one line.
  for (const cmd of allCommands(program)) {
    cmd
      .exitOverride((err) => {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') throw err;
        throw usageError(err, cmd);
      })
      .configureOutput({ outputError: () => undefined })
      .configureHelp({ showGlobalOptions: true });
  }
  return program;
}

/** Exit status of a failure: 2 for a usage or configuration error, 1 for anything else. */
export function exitStatus(err: unknown): number {
  return err instanceof WardwatchError && (err.code === 'WW_USAGE' || err.code === 'WW_CONFIG_INVALID') ? 2 : 1;
}

/** Runs one command line; resolves with the exit status (errors printed as one line on stderr). */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, --version: printed, exit 0. A command that needs a subcommand, run without one: its help
      // (on stderr), and a usage error's status.
      return err.code === 'commander.help' ? 2 : err.exitCode;
    }
    process.stderr.write(`wardwatch: ${describeError(err)}\n`);
    return exitStatus(err);
  }
}
