/**
 * Child process for the decode benchmark (run pinned to one core by bench/decode.bench.ts):
 *   node dist/bench/decode-worker.js FILE MODE
 * MODE: `read` (file reader only), `l2l4` (reader + L2–L4 decode), `full` (+ application metadata).
 * Prints one JSON line: packets, loop wall and CPU seconds, RSS samples (every 25 ms).
 */
import { readCapture } from '../src/capture/pcap-file/reader.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { newDecodedPacket } from '../src/records/packet.js';

async function main(): Promise<void> {
  const [file, mode] = process.argv.slice(2);
  if (file === undefined || (mode !== 'read' && mode !== 'l2l4' && mode !== 'full')) {
    throw new Error('usage: decode-worker FILE read|l2l4|full');
  }
  const decoder = new PacketDecoder({ app_metadata: mode === 'full' });
  const p = newDecodedPacket();
  const rss: number[] = [];
  let n = 0;
  let checksum = 0;
  // RSS is sampled from a timer (it fires between buffer refills), keeping the per-packet handler minimal.
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 25);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const source = await readCapture(file);
  if (mode === 'read') {
    await source.forEachFrame((f) => {
      checksum = (checksum + f.cap_len) | 0;
      n++;
    });
  } else {
    await source.forEachFrame((f) => {
      decoder.decode(f, p);
      checksum = (checksum + p.src_port) | 0; // 32-bit: a growing double captured by this closure would be boxed per update
      n++;
    });
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  rss.push(process.memoryUsage.rss());
  const snap = decoder.counters.snapshot();
  process.stdout.write(`${JSON.stringify({ packets: n, seconds, cpu_seconds: cpuSeconds, rss, checksum, malformed: snap.malformed })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
