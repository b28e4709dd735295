#!/usr/bin/env node
/**
 * The `wardwatch` command. Each stage's command is wired here as it lands (see README, "Status").
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describeError, WardwatchError } from '../errors.js';
import { simulateCommand } from '../simulate/command.js';
import { replayCommand, runCommand } from './run.js';
import { detectCommand, sensorCommand } from './services.js';
import { dashboardsCommand } from './dashboards.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { inventoryCommand } from './inventory.js';
import { modelsCommand } from './models.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('wardwatch')
    .description('Passive network sensor for hospital medical devices: learns each device\'s normal behaviour and flags deviations.')
    .version(pkg.version)
    .showHelpAfterError();

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
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`wardwatch: ${describeError(err)}\n`);
    process.exitCode = err instanceof WardwatchError && err.code === 'WW_CONFIG_INVALID' ? 2 : 1;
  });
