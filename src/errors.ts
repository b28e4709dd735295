/**
 * One error base for the whole sensor, modelled on kafkajs' `KafkaJSError` and fastify's coded errors:
 * every error has a stable `code` (listed in the README), says whether retrying can help (`retriable`),
 * and keeps the underlying `cause`. Stages throw subclasses that carry their context.
 */
export class WardwatchError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The configuration is invalid. `field` is the dotted path of the offending option. */
export class ConfigError extends WardwatchError {
  constructor(
    readonly field: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('WW_CONFIG_INVALID', `${field}: ${message}`, options);
  }
}

/**
 * The command line is wrong: an unknown command or option, a missing argument, an option without its value. The
 * CLI prints it as one line and exits 2 (the usual exit status of a usage error); `--help` lists what is allowed.
 */
export class UsageError extends WardwatchError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WW_USAGE', message, options);
  }
}

/** A capture file or interface cannot be read at all (not a capture, missing, permission). */
export class CaptureError extends WardwatchError {
  constructor(
    readonly source: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown; code?: string } = {},
  ) {
    super(options.code ?? 'WW_CAPTURE_UNREADABLE', `${source}: ${message}`, options);
  }
}

/** A service the sensor depends on (Kafka, InfluxDB, a webhook) could not be reached or refused a request. */
export class ServiceError extends WardwatchError {
  constructor(
    readonly service: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown; code?: string } = {},
  ) {
    super(options.code ?? 'WW_SERVICE_UNAVAILABLE', `${service}: ${message}`, { retriable: true, ...options });
  }
}

/** A model cannot be used: missing, corrupt, or trained on another feature schema version. */
export class ModelError extends WardwatchError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'WW_MODEL_INVALID', message, options);
  }
}

/** Short, single-line description of any thrown value, for CLI output and logs. */
export function describeError(err: unknown): string {
  if (err instanceof WardwatchError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
