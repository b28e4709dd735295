/**
 * What a command needs to capture from a live interface, beside the capture stage itself: its options parsed and
 * checked (`-i`, `-f`, `--snaplen`, `--buffer-size`, the names and meanings `wardwatch sensor` uses, over the config's
 * `capture` section), the interfaces libpcap can open, capture errors that say what to do, and a stop on
 * SIGINT/SIGTERM. Defaults are not restated here: they are written once in src/capture/live/config.ts.
 */
import { LiveCaptureSource, type LiveCaptureOptions } from '../capture/live/cap-source.js';
import { DEFAULT_LIVE_CAPTURE, liveCaptureOptions, type LiveCaptureConfig } from '../capture/live/config.js';
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

/**
 * A capture file argument or `-i IFACE`, never both; the live-only options (`-f`, `--snaplen`, `--buffer-size`) only
 * with `-i`. Without either, `defaultFile`. Live options: the config's `capture` section with the command line over
 * it (src/capture/live/config.ts: the defaults are written there once).
 */
export function chooseCapture(file: string | undefined, o: LiveCliOptions, defaultFile: string, section: LiveCaptureConfig = DEFAULT_LIVE_CAPTURE): CaptureChoice {
  if (o.interface === undefined) {
    const liveOnly = o.filter !== undefined ? '--filter' : o.snaplen !== undefined ? '--snaplen' : o.bufferSize !== undefined ? '--buffer-size' : undefined;
    if (liveOnly) throw new ConfigError(liveOnly, 'applies to live capture only: add -i INTERFACE (and no capture file)');
    return { file: file ?? defaultFile };
  }
  if (file !== undefined) throw new ConfigError('--interface', `give a capture file ('${file}') or -i ${o.interface}, not both`);
  if (o.interface.trim() === '') throw new ConfigError('--interface', 'needs an interface name, e.g. -i eth1 (list them with --list-interfaces)');
  return { live: liveCaptureOptions(section, { ...o, interface: o.interface.trim() }) };
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
