/**
 * Child process for the flows benchmark (run pinned to one core by bench/flows.bench.ts):
 *   node dist/bench/flows-worker.js FILE
 * Reads and decodes the capture and runs every packet through the AnalysisPipeline (flow table, device inventory,
 * feature windows). Prints one JSON line: packets, loop wall and CPU seconds, RSS samples (every 25 ms), and what
 * the pipeline produced.
 */
import { readCapture } from '../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { AnalysisPipeline } from '../src/pipeline/analysis.js';
import { macVendor } from '../src/flows/oui.js';
import { newDecodedPacket } from '../src/records/packet.js';

async function main(): Promise<void> {
  const [file] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: flows-worker FILE');
  let windows = 0;
  const pipeline = new AnalysisPipeline({}, { onWindow: () => windows++ });
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  const rss: number[] = [];
  let n = 0;
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 25);
  // The MAC vendor registry (5.6 MB of JSON) is read and sampled on the first lookup: a sensor does it once at
  // start-up, so it is loaded here before the loop's clock starts (the whole-process figure still includes it).
  macVendor(0x001a01000000);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const source = await readCapture(file);
  await source.forEachFrame((f) => {
    decoder.decode(f, p);
    pipeline.process(p);
    n++;
  });
  pipeline.flush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  rss.push(process.memoryUsage.rss());
  const m = pipeline.metrics();
  process.stdout.write(
    `${JSON.stringify({
      packets: n,
      seconds,
      cpu_seconds: (cpu.user + cpu.system) / 1e6,
      rss,
      flows: m['flows_created'] ?? 0,
      devices: pipeline.inventory.size,
      windows,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
