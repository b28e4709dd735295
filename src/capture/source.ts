/**
 * The capture-source interface shared by files (classic pcap, pcapng, gzip) and live interfaces (libpcap via `cap`).
 *
 * A source calls a handler once per frame with ONE reused `CapturedFrame` whose `data`/`data_offset` point into the
 * source's own buffer: the frame is valid only during the call. A handler that returns a promise pauses the source
 * until it settles (backpressure for files; a live source cannot pause the wire, libpcap's buffer absorbs bursts).
 */
import type { CapturedFrame } from '../records/packet.js';

export type FrameHandler = (frame: CapturedFrame) => void | Promise<void>;

export interface CaptureProgress {
  /** Bytes of the underlying file read so far (compressed bytes for a .gz file); live: bytes captured. */
  bytes_read: number;
  /** File size in bytes; 0 for a live source. */
  bytes_total: number;
  /** Frames handed to the handler so far. */
  frames: number;
}

export interface CaptureSource {
  /** Human-readable description: the file path or `live:<interface>`. */
  readonly description: string;
  /** Calls `handler` for every frame until the end of the file or `stop()`; resolves with the final counters. */
  forEachFrame(handler: FrameHandler): Promise<CaptureCountersSnapshot>;
  /** Asks the source to stop after the current frame; `forEachFrame` then resolves. */
  stop(): void;
  progress(): CaptureProgress;
  /** Counters so far (frames, bytes, and each malformed-input reason). */
  counters(): CaptureCountersSnapshot;
  /**
   * Only sources that can lose frames (a live interface): frames handed over and libpcap's drop counters, cumulative
   * since the capture started (read now; the last values after `stop()`). Absent for files: nothing is dropped.
   */
  stats?(): CaptureDropStats;
}

/** A live source's counters (`LiveCaptureSource.stats()`; the fields are described in docs/capture-decode.md). */
export interface CaptureDropStats {
  /** Frames handed to the sensor. */
  received: number;
  /** libpcap ps_recv: frames that passed the BPF filter (on Linux including those dropped). */
  pcap_received: number;
  /** libpcap ps_drop: frames dropped because the capture buffer was full (the sensor did not read fast enough). */
  pcap_dropped: number;
  /** libpcap ps_ifdrop: the interface's own receive drops. */
  pcap_ifdropped: number;
}

/**
 * Reasons a capture source skips input, counted per reason. Everything here is a number of occurrences; none of
 * them aborts the read except where noted (after which the rest of the file cannot be framed).
 */
export interface CaptureCountersSnapshot {
  /** Frames handed to the handler. */
  frames: number;
  /** Captured bytes handed to the handler (sum of cap_len). */
  frame_bytes: number;
  /** The file ended inside a record header or record body (the partial record is dropped; read ends). */
  truncated_record: number;
  /** A record's captured length exceeds the file's/interface's snaplen (the record is skipped). */
  record_exceeds_snaplen: number;
  /** A record or block length beyond any plausible size (> 16 MiB): the file cannot be framed further; read ends. */
  record_too_large: number;
  /** orig_len smaller than cap_len (orig_len is raised to cap_len). */
  orig_len_below_cap_len: number;
  /** Sub-second part out of range (≥ 1 s); kept as read. */
  bad_timestamp: number;
  /** pcapng: block length not a multiple of 4, < 12, or the block's trailing length differs. */
  pcapng_bad_block_length: number;
  /** pcapng: a packet block names an interface no IDB described (the packet is skipped). */
  pcapng_unknown_interface: number;
  /** pcapng: a packet block's captured length runs past the block (the packet is skipped). */
  pcapng_packet_exceeds_block: number;
  /** pcapng: an option runs past its block (remaining options of that block are ignored). */
  pcapng_bad_option: number;
  /** pcapng: a section header with an unknown byte-order magic or major version (read ends). */
  pcapng_bad_section: number;
  /** pcapng: blocks of other types (statistics, name resolution, secrets, custom…) skipped. Not an error. */
  pcapng_skipped_blocks: number;
  /** gzip: the compressed stream is corrupt or cut short (read ends at the last good byte). */
  gzip_corrupt: number;
  /** Live: frames longer than the libpcap buffer (65535) and cut by it. */
  live_truncated: number;
  /** Live: frames cut to the configured snaplen. */
  live_snapped: number;
}

/**
 * Why a capture file was not read to its end, in words, when it was not (else undefined): the file ends inside a
 * record (tcpdump: "truncated dump file"; tshark: "cut short in the middle of a packet"), or its gzip stream is cut
 * short or corrupt. The frames before the cut were all read; the partial record is dropped.
 */
export function captureCutShort(c: Pick<CaptureCountersSnapshot, 'truncated_record' | 'gzip_corrupt'>): string | undefined {
  if (c.gzip_corrupt > 0) return 'the gzip stream is cut short or corrupt: read up to the last good byte, the rest is lost (a file still being written or copied?)';
  if (c.truncated_record > 0) return 'the file ends in the middle of a packet record (truncated dump file: cut while being written or copied?); every record before the cut was read, the partial one dropped';
  return undefined;
}

export function newCaptureCounters(): CaptureCountersSnapshot {
  return {
    frames: 0,
    frame_bytes: 0,
    truncated_record: 0,
    record_exceeds_snaplen: 0,
    record_too_large: 0,
    orig_len_below_cap_len: 0,
    bad_timestamp: 0,
    pcapng_bad_block_length: 0,
    pcapng_unknown_interface: 0,
    pcapng_packet_exceeds_block: 0,
    pcapng_bad_option: 0,
    pcapng_bad_section: 0,
    pcapng_skipped_blocks: 0,
    gzip_corrupt: 0,
    live_truncated: 0,
    live_snapped: 0,
  };
}

/** Reusable frame object a source fills in place. */
export function newCapturedFrame(): CapturedFrame {
  return {
    ts_sec: 0,
    ts_nsec: 0,
    cap_len: 0,
    orig_len: 0,
    linktype: 0,
    interface_id: 0,
    data: Buffer.alloc(0),
    data_offset: 0,
  };
}
