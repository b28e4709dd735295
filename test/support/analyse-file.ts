/** Test/script helper: a capture file through read → decode → AnalysisPipeline, collecting windows and flows. */
import { readCapture } from '../../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { AnalysisPipeline, type AnalysisPipelineOptions } from '../../src/pipeline/analysis.js';
import type { FeatureWindow } from '../../src/records/features.js';
import type { FlowRecord } from '../../src/records/flow.js';
import { newDecodedPacket } from '../../src/records/packet.js';

export interface AnalysedFile {
  windows: FeatureWindow[];
  flows: FlowRecord[];
  pipeline: AnalysisPipeline;
  packets: number;
}

export async function analyseFile(path: string, options: AnalysisPipelineOptions = {}): Promise<AnalysedFile> {
  const windows: FeatureWindow[] = [];
  const flows: FlowRecord[] = [];
  const pipeline = new AnalysisPipeline(options, { onWindow: (w) => windows.push(w), onFlow: (r) => flows.push(r) });
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const source = await readCapture(path);
  let packets = 0;
  await source.forEachFrame((frame) => {
    decoder.decode(frame, p);
    pipeline.process(p);
    packets++;
  });
  pipeline.flush();
  return { windows, flows, pipeline, packets };
}

/** The golden text of a capture: one feature window per line (JSON), in emission order. */
export function goldenText(windows: readonly FeatureWindow[]): string {
  return windows.map((w) => JSON.stringify(w)).join('\n') + '\n';
}
