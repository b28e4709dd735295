/**
 * Capture stage: sources of `CapturedFrame`s.
 *
 *   const source = await readCapture('ward3.pcapng.gz');       // files: pcap / pcapng, gzip or not
 *   const source = new LiveCaptureSource({ interface: 'eth1', bpf_filter: 'not port 22' });  // live (receive-only)
 *   const counters = await source.forEachFrame((frame) => { ... });   // frame valid only during the call
 *
 * Both implement `CaptureSource` (forEachFrame / stop / progress / counters; a live source also `stats()`, its drop
 * counters, which `CaptureLossMonitor` watches: warning, /healthz; src/capture/loss.ts).
 */
export { readCapture, PcapFileSource, MAX_RECORD_BYTES, type CaptureFileFormat, type PcapFileOptions } from './pcap-file/reader.js';
export { LiveCaptureSource, type LiveCaptureOptions, type LiveCaptureStats } from './live/cap-source.js';
export { LiveCaptureOptionsSchema, DEFAULT_LIVE_CAPTURE, liveCaptureOptions, type LiveCaptureConfig } from './live/config.js';
export { newCaptureCounters, type CaptureCountersSnapshot, type CaptureDropStats, type CaptureProgress, type CaptureSource, type FrameHandler } from './source.js';
export { CaptureLossMonitor, CaptureLossOptionsSchema, parseCaptureLossOptions, droppedOf, lossFraction, type CaptureLoss, type CaptureLossOptions, type CaptureSettings } from './loss.js';
