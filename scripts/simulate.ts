#!/usr/bin/env node
/**
 * `node dist/scripts/simulate.js --help`: writes a simulated hospital capture and its ground-truth labels
 * (to be wired as `wardwatch simulate`). Exit codes: 0 ok, 2 invalid options, 1 other failure.
 */
import { describeError, WardwatchError } from '../src/errors.js';
import { simulateCommand } from '../src/simulate/command.js';

simulateCommand()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`simulate: ${describeError(err)}\n`);
    process.exitCode = err instanceof WardwatchError && err.code === 'WW_CONFIG_INVALID' ? 2 : 1;
  });
