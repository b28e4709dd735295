/**
 * Test/script helper: a capture file through the commands' own frame loop and analysis stage
 * (src/compose/embedded.ts `windowsFromCapture`), collecting windows and flows.
 */
import { windowsFromCapture } from '../../src/compose/embedded.js';
import type { AnalysisPipelineOptions } from '../../src/pipeline/analysis.js';
import type { InventoryEntry } from '../../src/records/device.js';
import type { FeatureWindow } from '../../src/records/features.js';
import type { FlowRecord } from '../../src/records/flow.js';

export interface AnalysedFile {
  windows: FeatureWindow[];
  flows: FlowRecord[];
  /** The inventory's confirmed devices at the end. */
  inventory: InventoryEntry[];
  packets: number;
}

export async function analyseFile(path: string, options: AnalysisPipelineOptions = {}): Promise<AnalysedFile> {
  const flows: FlowRecord[] = [];
  const r = await windowsFromCapture(path, { ...options, onFlow: (f) => flows.push(f) });
  return { windows: r.windows, flows, inventory: r.inventory, packets: r.packets };
}

/** The golden text of a capture: one feature window per line (JSON), in emission order. */
export function goldenText(windows: readonly FeatureWindow[]): string {
  return windows.map((w) => JSON.stringify(w)).join('\n') + '\n';
}
