/**
 * The feature stage's per-device history ("peers and ports never seen in this device's history") is saved with the
 * inventory: a pipeline restarted from a saved inventory flags as new exactly what a continuous run flags.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { DeviceInventory } from '../../src/flows/device-inventory.js';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import type { FeatureOptions } from '../../src/features/config.js';
import type { FeatureWindow } from '../../src/records/features.js';
import { FEATURE_NAMES } from '../../src/records/features.js';
import type { DecodedPacket } from '../../src/records/packet.js';
import { Proto } from '../../src/records/packet.js';
import { decodeFile } from '../support/decode-file.js';
import { repoRoot } from '../support/fixtures.js';
import { SYN, handshake, tcp } from '../support/packets.js';

const NEW_PEERS = FEATURE_NAMES.indexOf('new_peers');
const NEW_PORTS = FEATURE_NAMES.indexOf('new_dst_ports');
const WINDOW_S = 10;

interface Novelty {
  new_peers: number;
  new_dst_ports: number;
  peers: string[];
  ports: number[];
}

function novelty(windows: FeatureWindow[], from: number): Map<string, Novelty> {
  const m = new Map<string, Novelty>();
  for (const w of windows) {
    if (w.window_start < from) continue;
    m.set(`${w.device_id}@${w.window_start}`, { new_peers: w.values[NEW_PEERS]!, new_dst_ports: w.values[NEW_PORTS]!, peers: w.new_peers, ports: w.new_dst_ports });
  }
  return m;
}

/** Connection key of a TCP/UDP packet (either direction), '' for other packets. */
function connKey(p: DecodedPacket): string {
  if ((p.proto !== Proto.TCP && p.proto !== Proto.UDP) || p.src_port < 0) return '';
  const a = `${p.ip_version === 6 ? p.ip6_src.join('.') : p.ip_src}:${p.src_port}`;
  const b = `${p.ip_version === 6 ? p.ip6_dst.join('.') : p.ip_dst}:${p.dst_port}`;
  return `${p.proto}|${a < b ? a : b}|${a < b ? b : a}`;
}

function run(packets: DecodedPacket[], inventory?: DeviceInventory, features: Partial<FeatureOptions> = {}): { windows: FeatureWindow[]; pipe: AnalysisPipeline } {
  const windows: FeatureWindow[] = [];
  const pipe = new AnalysisPipeline({ features, ...(inventory !== undefined ? { inventory } : {}) }, { onWindow: (w) => windows.push(w) });
  for (const p of packets) pipe.process(p);
  pipe.flush();
  return { windows, pipe };
}

describe('feature history saved with the inventory', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ww-fhist-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('golden captures cut at a window boundary: save → reload → the same new peers and ports as a continuous run', async () => {
    const golden = path.join(repoRoot, 'captures', 'golden');
    const files = readdirSync(golden).filter((f) => f.endsWith('.pcap')).sort();
    assert.ok(files.length >= 4, 'golden captures present');
    let compared = 0;
    let newAfterWith = 0;
    let newAfterWithout = 0;
    for (const f of files) {
      const { packets } = await decodeFile(path.join(golden, f));
      for (const at of [0.35, 0.65]) {
      const mid = packets[Math.floor(packets.length * at)]!;
      const boundary = Math.ceil((mid.ts_sec + 1e-9 * mid.ts_nsec) / WINDOW_S) * WINDOW_S;
      const cut = packets.findIndex((p) => p.ts_sec >= boundary);
      if (cut <= 0) continue;
      const tag = `${f} cut at ${boundary}`;
      // A connection open across the cut restarts as a new flow after it, maybe from the responder's side (then
      // its "responder port" is the client's): a flow-table artefact of any restart, not a history matter. Both
      // runs therefore see after the cut only the connections that begin after it.
      const before = new Set(packets.slice(0, cut).map(connKey));
      before.delete('');
      const after = packets.slice(cut).filter((p) => !before.has(connKey(p)));
      const whole = novelty(run([...packets.slice(0, cut), ...after]).windows, boundary);

      const first = run(packets.slice(0, cut));
      const withHistory = path.join(dir, `${f}-${at}.json`);
      first.pipe.saveInventory(withHistory);
      const without = path.join(dir, `${f}-${at}.plain.json`);
      first.pipe.inventory.save(without);

      const resumed = novelty(run(after, DeviceInventory.load(withHistory)).windows, boundary);
      const forgetful = novelty(run(after, DeviceInventory.load(without)).windows, boundary);
      for (const [key, r] of resumed) {
        const c = whole.get(key);
        // A window only in the resumed run (a device whose flows the cut ended early) has nothing to compare with.
        if (c === undefined) continue;
        assert.deepEqual(r, c, `${tag}: ${key}`);
        compared++;
        newAfterWith += r.new_peers + r.new_dst_ports;
      }
      for (const [key, r] of forgetful) if (whole.has(key)) newAfterWithout += r.new_peers + r.new_dst_ports;
      }
    }
    assert.ok(compared >= 20, `compared ${compared} windows`);
    // Without the saved history the same windows re-flag known peers and ports (what this test guards against).
    assert.ok(newAfterWithout > newAfterWith, `without history ${newAfterWithout} > with ${newAfterWith}`);
  });

  it('is saved per device, bounded by the current options on reload, and validated', () => {
    const PUMP = { mac: '00:1a:01:00:00:07', ip: '10.0.0.7', port: 49152 };
    const pkts: DecodedPacket[] = [];
    for (let i = 0; i < 6; i++) {
      const srv = { mac: `02:00:00:00:00:${(16 + i).toString(16)}`, ip: `10.0.0.${20 + i}`, port: 100 + i };
      // Completed handshakes: evidence that the pump is a real host, so it is saved (only confirmed devices are).
      pkts.push(...handshake(1 + i * 0.1, PUMP, srv));
    }
    const first = run(pkts);
    const file = path.join(dir, 'bounded.json');
    first.pipe.saveInventory(file);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { devices: { device_id: string; feature_history?: { peer_keys: number[]; dst_ports: number[] } }[] };
    const pump = saved.devices.find((d) => d.device_id === 'mac:00:1a:01:00:00:07');
    assert.ok(pump?.feature_history, 'history saved in the device entry');
    assert.deepEqual(pump.feature_history.peer_keys, [0x0a000014, 0x0a000015, 0x0a000016, 0x0a000017, 0x0a000018, 0x0a000019]);
    assert.deepEqual(pump.feature_history.dst_ports, [100, 101, 102, 103, 104, 105]);

    // Reloaded with smaller bounds: the lowest keys are kept, the others are new again.
    const again = [tcp(20, PUMP, { mac: '02:00:00:00:00:10', ip: '10.0.0.20', port: 100 }, SYN), tcp(20.1, PUMP, { mac: '02:00:00:00:00:15', ip: '10.0.0.25', port: 105 }, SYN)];
    const w = run(again, DeviceInventory.load(file), { max_history_peers: 2, max_history_ports: 2 }).windows.find((x) => x.device_id === 'mac:00:1a:01:00:00:07');
    assert.ok(w);
    assert.equal(w.values[NEW_PEERS], 1);
    assert.deepEqual(w.new_peers, ['10.0.0.25']);
    assert.deepEqual(w.new_dst_ports, [105]);

    const bad = JSON.parse(readFileSync(file, 'utf8')) as { devices: { feature_history?: { peer_keys: number[] } }[] };
    bad.devices.find((d) => d.feature_history !== undefined)!.feature_history!.peer_keys.push(-1);
    writeFileSync(file, JSON.stringify(bad));
    assert.throws(
      () => DeviceInventory.load(file),
      (e: unknown) => e instanceof ConfigError && /feature_history/.test(e.field),
    );
    // An inventory saved before feature histories existed still loads (no history: everything is new once).
    const old = path.join(dir, 'old.json');
    first.pipe.inventory.save(old);
    assert.equal(DeviceInventory.load(old).takeSavedFeatureHistory().size, 0);
  });
});
