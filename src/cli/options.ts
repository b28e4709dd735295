/**
 * Command-line values every command parses the same way: one parser each, so that `run --from`, `train --from`,
 * `evaluate --train-before` and `sensor --speed` accept the same inputs and name the option in their error.
 */
import { ConfigError } from '../errors.js';
import type { ConfigPatch } from '../config/load.js';

/** `max`, `1x`, `10x`, `0.5x` → undefined (as fast as possible) or the factor. */
export function parseSpeed(text: string): number | undefined {
  if (text === 'max') return undefined;
  const m = /^(\d+(?:\.\d+)?)x$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new ConfigError('--speed', `'${text}' is not a speed: use max, 1x, 10x, 0.5x ...`);
  return Number(m[1]);
}

/**
 * `--from`, `--to`, `--train-before`: ISO-8601 (`2026-01-05T09:00:00Z`; a date alone is midnight UTC) or epoch
 * seconds → epoch seconds. `field` names the option in the error.
 */
export function parseTime(text: string, field: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(t)) throw new ConfigError(field, `'${text}' is not a time: use ISO-8601 (2026-01-05T09:00:00Z) or epoch seconds`);
  return ms / 1000;
}

/** The config patch of `--models-dir` and `--backend` (train, evaluate): only what was given overrides `detect`. */
export function detectPatch(o: { modelsDir?: string | undefined; backend?: string | undefined }): ConfigPatch {
  const detect: Record<string, string> = {};
  if (o.modelsDir !== undefined) detect['models_dir'] = o.modelsDir;
  if (o.backend !== undefined) detect['backend'] = o.backend;
  return Object.keys(detect).length ? { detect } : {};
}
