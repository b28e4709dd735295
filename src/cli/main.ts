#!/usr/bin/env node
/**
 * The `wardwatch` command (package.json "bin"). The commands are in program.ts.
 */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
