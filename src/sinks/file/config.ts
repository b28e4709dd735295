/**
 * The file sinks' options (`sinks.files` in the config file): alerts.jsonl and the optional flows.jsonl, rotated by
 * size; defaults from the alert file sink (src/sinks/file/alerts.ts), written once there.
 */
import { z } from 'zod';
import { DEFAULT_ALERT_FILE } from './alerts.js';

export const FileSinksSchema = z.strictObject({
  alerts_file: z.string().default(DEFAULT_ALERT_FILE.file),
  /** Ended flows as JSON lines; empty (the default) = not written. */
  flows_file: z.string().default(''),
  max_bytes: z.number().int().positive().default(DEFAULT_ALERT_FILE.max_bytes),
  keep: z.number().int().nonnegative().default(DEFAULT_ALERT_FILE.keep),
});
