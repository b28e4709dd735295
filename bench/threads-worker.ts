/**
 * Child process of the two-threads benchmark (bench/threads.bench.ts):
 *   node dist/bench/threads-worker.js FILE THREADS
 * The sensor's frame loop without the broker: read → decode → the analysis runner of `analysis.threads` THREADS
 * (src/pipeline/runner.ts, as `SensorService` builds it) → each window encoded with the producer's codec and batched
 * as the producer batches them (src/transport/codec.ts; gzip and the network are left out). Prints one JSON line:
 * packets, wall and CPU seconds (every thread of the process), windows, batches the frame loop waited for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readCapture } from '../src/capture/pcap-file/reader.js';
import { FrameLoop } from '../src/compose/frame-loop.js';
import { macVendor } from '../src/flows/oui.js';
import { DEFAULT_ANALYSIS_THREADS } from '../src/pipeline/config.js';
import { createPipelineRunner } from '../src/pipeline/runner.js';
import { ThreadedPipeline } from '../src/pipeline/threaded.js';
import { encodeWindow, encodeWindowBatch, type EncodedMessage } from '../src/transport/codec.js';

/** CPU seconds of each thread of this process (/proc/self/task), the busiest first, with its name. */
function threadCpuSeconds(): [string, number][] {
  const tck = 100; // USER_HZ on Linux
  const out: [string, number][] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.push([name, (Number(f[11]) + Number(f[12])) / tck]);
    } catch {
      /* the thread ended */
    }
  }
  return out.sort((a, b) => b[1] - a[1]).slice(0, 4);
}

async function main(): Promise<void> {
  const [file, threadsText] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: threads-worker FILE THREADS');
  const threads = Number(threadsText ?? 1);
  macVendor(0x001a01000000); // the vendor registry, loaded once at start-up by a sensor (as in bench/flows-worker.ts)
  let windows = 0;
  let bytes = 0;
  let pending: EncodedMessage[] = [];
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const runner = createPipelineRunner({ ...DEFAULT_ANALYSIS_THREADS, threads, ...(process.env["WW_RING"] ? { ring_packets: Number(process.env["WW_RING"]) } : {}) }, {}, {
    onWindow: (w) => {
      windows++;
      pending.push(encodeWindow(w, 'binary'));
      if (pending.length === 500) {
        bytes += encodeWindowBatch(pending).length;
        pending = [];
      }
    },
  });
  // The commands' own frame loop (src/compose/frame-loop.ts): decode, the runner, its flush at the end.
  const n = (await new FrameLoop(await readCapture(file), runner).run()).packets;
  if (pending.length > 0) bytes += encodeWindowBatch(pending).length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const waits = runner instanceof ThreadedPipeline ? runner.waits : 0;
  const threadsCpu = threadCpuSeconds();
  await runner.close();
  process.stdout.write(`${JSON.stringify({ packets: n, seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, windows, bytes, waits, threads_cpu: threadsCpu })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
