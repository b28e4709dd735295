/**
 * The in-process bus's options (`transport.memory` in the config file), defaults from src/transport/memory/bus.ts.
 */
import { z } from 'zod';
import { DEFAULT_MEMORY_BUS } from './bus.js';

export const MemoryBusSchema = z.strictObject({
  /** Windows handed to the detector at once (a live capture or a paced replay; a file at full speed batches 2,048). */
  batch_max_windows: z.number().int().positive().default(DEFAULT_MEMORY_BUS.batch_max_windows),
  /** Windows that may wait for the detector; beyond this, windows are dropped (counted, logged). */
  max_buffered: z.number().int().positive().default(DEFAULT_MEMORY_BUS.max_buffered),
});
