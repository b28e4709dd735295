/**
 * Child process for the flows benchmark (run pinned to one core by bench/flows.bench.ts):
 *   node dist/bench/flows-worker.js FILE
 * Reads and decodes the capture and runs every packet through the AnalysisPipeline (flow table, device inventory,
 * feature windows). Prints one JSON line: packets, loop wall and CPU seconds, RSS samples (every 25 ms), and what
 * the pipeline produced.
 */
import { windowsFromCapture } from '../src/compose/embedded.js';
import { macVendor } from '../src/flows/oui.js';

async function main(): Promise<void> {
  const [file] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: flows-worker FILE');
  let windows = 0;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 25);
  // The MAC vendor registry (5.6 MB of JSON) is read and sampled on the first lookup: a sensor does it once at
  // start-up, so it is loaded here before the loop's clock starts (the whole-process figure still includes it).
  macVendor(0x001a01000000);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  // The commands' own frame loop and analysis stage (src/compose/embedded.ts), windows counted, not kept.
  const r = await windowsFromCapture(file, { collect: false, onWindow: () => windows++ });
  const n = r.packets;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  rss.push(process.memoryUsage.rss());
  const m = r.metrics;
  process.stdout.write(
    `${JSON.stringify({
      packets: n,
      seconds,
      cpu_seconds: (cpu.user + cpu.system) / 1e6,
      rss,
      flows: m['flows_created'] ?? 0,
      devices: m['devices_created'] ?? 0,
      windows,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
