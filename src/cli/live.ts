/**
 * What a command needs to capture from a live interface, beside the capture stage itself: its options parsed and
 * checked (`-i`, `-f`, `--snaplen`, `--buffer-size`, the names and meanings `wardwatch sensor` uses), the interfaces
 * libpcap can open, capture errors that say what to do, and a stop on SIGINT/SIGTERM. Defaults are not restated
 * here: an option not given is left to `LiveCaptureSource` (src/capture/live/cap-source.ts).
 */
import { LiveCaptureSource, type LiveCaptureOptions } from '../capture/live/cap-source.js';
import { CaptureError, ConfigError } from '../errors.js';

/** The live-capture options as commander hands them over (strings; undefined when not given). */
export interface LiveCliOptions {
  interface?: string;
  filter?: string;
  snaplen?: string;
  bufferSize?: string;
}

/** What a command reads: a capture file or a live interface. */
export type CaptureChoice = { file: string; live?: undefined } | { file?: undefined; live: LiveCaptureOptions };

/** libpcap's snaplen range as `LiveCaptureOptions.snaplen_bytes` documents it. */
const SNAPLEN_MIN = 64;
const SNAPLEN_MAX = 65535;

function integerOption(text: string, field: string, min: number, max: number, what: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(field, `'${text}' is not ${what}`);
  return n;
}

/**
 * A capture file argument or `-i IFACE`, never both; the live-only options (`-f`, `--snaplen`, `--buffer-size`) only
 * with `-i`. Without either, `defaultFile`.
 */
export function chooseCapture(file: string | undefined, o: LiveCliOptions, defaultFile: string): CaptureChoice {
  if (o.interface === undefined) {
    const liveOnly = o.filter !== undefined ? '--filter' : o.snaplen !== undefined ? '--snaplen' : o.bufferSize !== undefined ? '--buffer-size' : undefined;
    if (liveOnly) throw new ConfigError(liveOnly, 'applies to live capture only: add -i INTERFACE (and no capture file)');
    return { file: file ?? defaultFile };
  }
  if (file !== undefined) throw new ConfigError('--interface', `give a capture file ('${file}') or -i ${o.interface}, not both`);
  return { live: liveCaptureOptions(o) };
}

/** `-i/-f/--snaplen/--buffer-size` → `LiveCaptureOptions` (checked; an option not given keeps the source's default). */
export function liveCaptureOptions(o: LiveCliOptions): LiveCaptureOptions {
  const name = o.interface?.trim() ?? '';
  if (name === '') throw new ConfigError('--interface', 'needs an interface name, e.g. -i eth1 (list them with --list-interfaces)');
  return {
    interface: name,
    ...(o.filter !== undefined && o.filter.trim() !== '' ? { bpf_filter: o.filter } : {}),
    ...(o.snaplen !== undefined ? { snaplen_bytes: integerOption(o.snaplen, '--snaplen', SNAPLEN_MIN, SNAPLEN_MAX, `a snaplen: bytes kept per frame, ${SNAPLEN_MIN}..${SNAPLEN_MAX}`) } : {}),
    ...(o.bufferSize !== undefined ? { buffer_size_bytes: integerOption(o.bufferSize, '--buffer-size', 1, 2 ** 31 - 1, 'a buffer size in bytes, e.g. 33554432 for 32 MiB') } : {}),
  };
}

/** The interfaces libpcap can open, one per line (`name  description`). Throws `WW_CAPTURE_BINDING` without the binding. */
export function interfaceList(): string {
  const list = LiveCaptureSource.interfaces();
  const width = Math.max(0, ...list.map((i) => i.name.length));
  return list.map((i) => (i.description ? `${i.name.padEnd(width)}  ${i.description}` : i.name)).join('\n') + '\n';
}

/**
 * A live capture's failure to open, with what to do about it: no permission → `WW_CAPTURE_PERMISSION` (run as root
 * or give node CAP_NET_RAW); no such interface → the interfaces there are. Anything else is returned as it was.
 */
export function explainCaptureError(err: unknown, iface: string, interfaces: () => string[] = () => LiveCaptureSource.interfaces().map((i) => i.name)): unknown {
  if (!(err instanceof CaptureError) || err.code !== 'WW_CAPTURE_INTERFACE') return err;
  if (/operation not permitted|permission|EPERM|EACCES/i.test(err.message)) {
    return new CaptureError(
      `live:${iface}`,
      'no permission to capture: run as root, or give node CAP_NET_RAW: sudo setcap cap_net_raw+eip "$(readlink -f "$(command -v node)")" (systemd: AmbientCapabilities=CAP_NET_RAW)',
      { cause: err, code: 'WW_CAPTURE_PERMISSION' },
    );
  }
  if (/no such device/i.test(err.message)) {
    let names: string[];
    try {
      names = interfaces();
    } catch {
      return err;
    }
    return new CaptureError(`live:${iface}`, `no such interface; libpcap can capture on: ${names.join(', ') || '(none)'}`, { cause: err, code: 'WW_CAPTURE_INTERFACE' });
  }
  return err;
}

/**
 * Aborts `signal` on the first SIGINT/SIGTERM (saying so on `out`); a second one exits at once (130). `dispose`
 * removes the handlers.
 */
export function stopOnSignal(label: string, out: NodeJS.WritableStream = process.stderr): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    out.write(`${label}: ${sig}: stopping: closing the open windows, writing the sinks (send it again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
