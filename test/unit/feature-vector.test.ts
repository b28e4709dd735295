/**
 * The feature stage writes every entry of the vector: it is sliced from a template of NaN and each feature is
 * written by index (`featureValues`), so a feature added to FEATURE_SCHEMA but not computed shows up here as NaN.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { AnalysisPipeline } from '../../src/pipeline/analysis.js';
import type { FeatureWindow } from '../../src/records/features.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/records/features.js';
import { decodeFile } from '../support/decode-file.js';
import { repoRoot } from '../support/fixtures.js';
import { PSHACK, SYN, icmpEcho, tcp } from '../support/packets.js';
import { AppProto } from '../../src/records/packet.js';

describe('feature vector', () => {
  it('every feature of every window is a finite number (none left unwritten)', async () => {
    const windows: FeatureWindow[] = [];
    const captures = ['dns-tunnel', 'arp-spoof', 'scan', 'syn-flood', 'hl7-monitor', 'dicom-ct', 'mqtt-gateway'];
    for (const f of captures) {
      const pipe = new AnalysisPipeline({}, { onWindow: (w) => windows.push(w) });
      const { packets } = await decodeFile(path.join(repoRoot, 'captures', 'golden', `${f}.pcap`));
      for (const p of packets) pipe.process(p);
      pipe.flush();
    }
    // No golden capture holds ICMP: a crafted echo exchange.
    const pipe = new AnalysisPipeline({}, { onWindow: (w) => windows.push(w) });
    const a = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 0 };
    const b = { mac: '02:00:00:00:00:02', ip: '10.0.0.2', port: 0 };
    for (let i = 0; i < 4; i++) {
      pipe.process(icmpEcho(100 + i, a, b, false));
      pipe.process(icmpEcho(100.001 + i, b, a, true));
    }
    pipe.flush();
    // Nor a beacon: a device that talks for over an hour, then reaches a new peer every 60 s (beacon_peers).
    const bp = new AnalysisPipeline({}, { onWindow: (w) => windows.push(w) });
    const c2 = { mac: '02:00:00:00:00:fe', ip: '203.0.113.9', port: 443 };
    bp.process(icmpEcho(0, a, b, false));
    for (let i = 0; i < 5; i++) bp.process(tcp(3700 + 60 * i, { ...a, port: 40000 + i }, c2, SYN));
    bp.flush();
    // Nor an identity change: a device's HL7 messages, then one of a type it never sent (no settle period here).
    const ip = new AnalysisPipeline({ devices: { identity_settle_ms: 0 } }, { onWindow: (w) => windows.push(w) });
    const pump = { mac: '02:00:00:00:00:13', ip: '10.0.0.13', port: 49000 };
    const engine = { mac: '02:00:00:00:00:20', ip: '10.0.0.20', port: 2575 };
    const msg = (t: number, type: string) => {
      const p = tcp(t, pump, engine, PSHACK, 300);
      p.app = AppProto.HL7;
      p.app_meta = { hl7_msg_type: type, hl7_sending_app: 'PUMP' };
      return p;
    };
    ip.process(msg(0, 'ORU^R01'));
    ip.process(msg(20, 'ADT^A01'));
    ip.flush();
    assert.ok(windows.length > 10);
    for (const w of windows) {
      assert.equal(w.values.length, FEATURE_COUNT);
      w.values.forEach((v, i) => assert.ok(Number.isFinite(v), `${w.device_id}@${w.window_start}: ${FEATURE_NAMES[i]} = ${v}`));
    }
    // Each feature is non-zero somewhere (a feature stuck at 0 because it is written to the wrong index would
    // usually show here too); the sensor-wide overflow counter is legitimately 0 on these captures.
    const nonZero = new Set<string>();
    for (const w of windows) w.values.forEach((v, i) => v !== 0 && nonZero.add(FEATURE_NAMES[i]!));
    const zero = FEATURE_NAMES.filter((n) => !nonZero.has(n));
    assert.deepEqual(zero, ['sensor_overflow'], `features never non-zero: ${zero.join(', ')}`);
  });
});
