/**
 * The syslog sink's options (`sinks.syslog` in the config file) with their defaults, written once, here; the
 * top-level schema (src/config/schema.ts) composes this.
 */
import { z } from 'zod';
import type { SyslogOptions } from './sink.js';

export const DEFAULT_SYSLOG: SyslogOptions = { host: '127.0.0.1', port: 514, protocol: 'udp', facility: 20, hostname: '', app_version: '0.1.0' };

export const SyslogSinkSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().positive().max(65535).default(DEFAULT_SYSLOG.port),
  protocol: z.enum(['udp', 'tcp']).default(DEFAULT_SYSLOG.protocol),
  facility: z.number().int().min(0).max(23).default(DEFAULT_SYSLOG.facility),
});
