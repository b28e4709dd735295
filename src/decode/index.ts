/**
 * Decode stage: `CapturedFrame` → reused `DecodedPacket`.
 *
 *   const decoder = new PacketDecoder();            // { app_metadata: false } for L2–L4 only
 *   const packet = newDecodedPacket();              // from src/records/packet.ts, reused for every frame
 *   decoder.decode(frame, packet);                  // false when packet.decode_error is set
 *   decoder.counters.snapshot();                    // frames, clean, malformed, errors per reason, fragments, apps
 */
export { PacketDecoder, type PacketDecoderOptions } from './decoder.js';
export { DecodeCounters, decodeErrorName, type DecodeCountersSnapshot, type DecodeErrorName } from './counters.js';
