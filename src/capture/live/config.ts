/**
 * Options of live capture (libpcap through wardwatch's addon, src/capture/live/addon), with their defaults written
 * once, here. The top-level schema (src/config/schema.ts) composes this as `capture`; `wardwatch sensor -i` and
 * `wardwatch run -i` take the same values from their command-line options (which override the file).
 *
 * The defaults were chosen by measurement (bench/live.bench.ts with WW_BENCH_LIVE_SWEEP=1; the last sweep run is
 * BENCHMARKS.md "Live capture" at commit 60da300): veth + tcpreplay of
 * the 200-device simulator workload at 25 k to top speed and 50,000-packet bursts, against tcpdump.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';

const MiB = 1024 * 1024;

export const LiveCaptureOptionsSchema = z.strictObject({
  /** Interface to capture from (a SPAN/TAP port); empty = none (the command line gives it). */
  interface: z.string().default(''),
  /** BPF filter in pcap-filter syntax; empty = everything. */
  bpf_filter: z.string().default(''),
  /**
   * Bytes kept per frame. 65535 keeps whole frames, also frames the capture NIC merged (GRO/LRO) beyond the MTU, so
   * an application header is never cut (a DICOM A-ASSOCIATE-RQ with many presentation contexts spans several KB).
   * It costs nothing in ring capacity: without immediate mode the kernel packs frames at their captured length, not
   * in snaplen-sized slots. Payload bytes are read by the decoders and never kept.
   */
  snaplen_bytes: z.number().int().min(64).max(262_144).default(65_535),
  /**
   * Kernel capture ring (libpcap buffer). 64 MiB holds well over a second of the simulator's mix (305 B average) at
   * 100,000 packets/s, so a burst or a stall of the sensor is absorbed (16 MiB lost 45 % of a 1.2 M packets/s
   * stream of 300,000 frames, 64 MiB none); tcpdump's default is 2 MiB.
   */
  buffer_size_bytes: z.number().int().min(MiB).max(2048 * MiB).default(64 * MiB),
  /**
   * libpcap immediate mode: deliver every frame at once. Off by default: on Linux it switches the ring to
   * fixed-size slots of snaplen bytes (TPACKET_V2), so the same buffer holds ~1,000 frames at snaplen 65535 instead of
   * ~180,000: measured, it lost 0.4 % at 50,000 packets/s, 4 % at 100,000 and ~90 % of every burst. Only a sensor that
   * must see a frame within a few ms needs it.
   */
  immediate: z.boolean().default(false),
  /** Without immediate mode: the most a frame waits in a partly filled ring block before it is read (latency bound). */
  block_timeout_ms: z.number().int().min(1).max(10_000).default(100),
  /**
   * The capture thread's hand-off to JavaScript: chunks of this many bytes (one JavaScript call each), of which
   * `chunks` exist. When JavaScript is busy (compiling at start, closing a window, collecting garbage), full chunks
   * wait for it and the kernel ring keeps being drained. 48 × 2 MiB: a second pool of ~300,000 frames of the
   * simulator's mix beside the ring; its memory is committed only when a burst first fills it. Measured: 300,000
   * frames at 1.2 M packets/s lost 6 % with 16 chunks, none with 48 (the sweep run, BENCHMARKS.md at commit 60da300).
   */
  chunk_bytes: z.number().int().min(256 * 1024).max(64 * MiB).default(2 * MiB),
  chunks: z.number().int().min(2).max(1024).default(48),
});

export type LiveCaptureConfig = z.infer<typeof LiveCaptureOptionsSchema>;

/** The defaults, as the schema gives them. */
export const DEFAULT_LIVE_CAPTURE: LiveCaptureConfig = LiveCaptureOptionsSchema.parse({});

/** Command-line overrides of the capture section (`-i`, `-f`, `--snaplen`, `--buffer-size`), as commander gives them. */
export interface LiveCaptureCliOptions {
  interface?: string;
  filter?: string;
  snaplen?: string;
  bufferSize?: string;
}

/**
 * The capture options a command uses: the config file's `capture` section with the command line's values over it,
 * validated by the same schema (a bad value names its option, e.g. `--snaplen`).
 */
export function liveCaptureOptions(section: LiveCaptureConfig, cli: LiveCaptureCliOptions): LiveCaptureConfig & { interface: string } {
  const num = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text.trim())) throw new ConfigError(flag, `'${text}' is not a whole number of bytes`);
    return Number(text);
  };
  const merged = {
    ...section,
    ...(cli.interface !== undefined ? { interface: cli.interface } : {}),
    ...(cli.filter !== undefined ? { bpf_filter: cli.filter } : {}),
    ...(cli.snaplen !== undefined ? { snaplen_bytes: num('--snaplen', cli.snaplen) } : {}),
    ...(cli.bufferSize !== undefined ? { buffer_size_bytes: num('--buffer-size', cli.bufferSize) } : {}),
  };
  const r = LiveCaptureOptionsSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const flag = key === 'snaplen_bytes' ? '--snaplen' : key === 'buffer_size_bytes' ? '--buffer-size' : `capture.${key}`;
    throw new ConfigError(flag, issue.message);
  }
  if (r.data.interface === '') throw new ConfigError('--interface', 'no capture interface: give -i NAME (or capture.interface in the config)');
  return r.data;
}
