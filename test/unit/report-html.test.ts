/**
 * The HTML report renderer on crafted input: attacker-controlled text in every field comes out as text, long runs
 * stay small without losing a spike, charts are ordered by their highest score, and an empty run still renders.
 * (test/integration/report.test.ts opens a real replay's report in Chromium.)
 */
import assert from 'node:assert/strict';
import type { Alert, WindowScore } from '../../src/records/alert.js';
import { DEVICE_SCHEMA_VERSION, emptyAppIdentity, type InventoryEntry } from '../../src/records/device.js';
import { esc, renderReport, type ReportSummary } from '../../src/sinks/report/html.js';

const EVIL = '<img src=x onerror=alert(1)>"\'&';
const T0 = 1_767_603_600; // 2026-01-05 09:00:00 UTC

function summary(o: Partial<ReportSummary> = {}): ReportSummary {
  return {
    file: `/captures/${EVIL}.pcap`,
    size_bytes: 1234,
    packets: 10,
    first_ts: T0,
    last_ts: T0 + 3600,
    link_types: { 'EN10MB (Ethernet) (1)': 10 },
    malformed: { [`decode: ${EVIL}`]: 1 },
    flows: 3,
    devices: 2,
    windows: 4,
    windows_scored: 4,
    run_id: EVIL,
    sensor_id: 'ward-3',
    models_dir: 'models',
    backend: 'cpu',
    generated_at: '2026-11-24T20:00:00.000Z',
    ...o,
  };
}

function entry(id: string, o: Partial<InventoryEntry> = {}): InventoryEntry {
  return {
    schema_version: DEVICE_SCHEMA_VERSION,
    device_id: id,
    key_kind: 'mac',
    mac: id.slice(4),
    ips: ['10.0.0.1'],
    vendor: EVIL,
    dhcp_hostname: EVIL,
    dhcp_vendor_class: EVIL,
    first_seen: T0,
    last_seen: T0 + 60,
    protocols: ['dhcp'],
    peers: [],
    peers_overflow: false,
    listening_ports: [],
    device_class: 'infusion_pump',
    class_source: 'guess',
    class_confidence: 0.7,
    class_evidence: EVIL,
    name: EVIL,
    location: EVIL,
    criticality: 'high',
    learning: true,
    confirmed_by: 'tcp_handshake',
    confirmed_at: T0,
    app_identity: emptyAppIdentity(),
    ...o,
  };
}

function alert(device: string, ts: number, o: Partial<Alert> = {}): Alert {
  return {
    schema_version: 1,
    alert_id: `a-${device}-${ts}`,
    kind: 'anomaly',
    severity: 'high',
    device_id: device,
    device_name: EVIL,
    device_class: 'infusion_pump',
    vendor: EVIL,
    criticality: 'high',
    ts,
    since: ts - 20,
    score: 12,
    threshold: 0.1,
    windows_over: 2,
    windows_considered: 3,
    summary: EVIL,
    top_features: [{ feature: EVIL, observed: 3, expected: 0, share: 0.5, text: EVIL }],
    new_peers: [EVIL],
    new_dst_ports: [4444],
    model: `device:${device}@v1`,
    sensor_id: 'ward-3',
    run_id: '',
    ...o,
  };
}

function windows(device: string, n: number, score: (i: number) => number, model = `device:${device}@v1`): WindowScore[] {
  return Array.from({ length: n }, (_, i) => ({ device_id: device, window_start: T0 + i * 10, window_end: T0 + i * 10 + 10, score: score(i), threshold: 0.1, model, learning: false, device_class: 'unknown' }));
}

const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'div', 'span', 'code', 'b', 'br', 'a', 'section', 'svg', 'line', 'text', 'path', 'circle']);

describe('HTML report renderer', () => {
  it('escapes text and attribute values', () => {
    assert.equal(esc(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });

  it('shows attacker-controlled text in every field as text, never as markup', () => {
    const html = renderReport({
      summary: summary(),
      inventory: [entry('mac:00:00:00:00:00:01'), entry('mac:00:00:00:00:00:02')],
      alerts: [alert('mac:00:00:00:00:00:01', T0 + 100), alert('mac:00:00:00:00:00:02', T0 + 50, { kind: 'new_device', severity: 'info' })],
      scores: windows('mac:00:00:00:00:00:01', 30, (i) => (i === 9 ? 12 : 0.3)),
    });
    assert.ok(!html.includes(EVIL) && !html.includes('<img'), 'the hostile string never appears raw');
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
    assert.deepEqual([...tags].filter((t) => !ALLOWED_TAGS.has(t)), [], 'only the renderer\'s own tags');
    assert.ok(html.includes(esc(EVIL)), 'shown escaped');
    assert.ok(html.split(esc(EVIL)).length - 1 >= 10, 'in the summary, alerts, explanations and inventory');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/);
  });

  it('orders charts by highest score and keeps a long run small without losing its one spike', () => {
    const days = 2;
    const n = (days * 86_400) / 10; // 17,280 windows of 10 s
    const spikeAt = 12_345;
    const big = windows('mac:00:00:00:00:00:0b', n, (i) => (i === spikeAt ? 500 : 0.2 + (i % 7) * 0.05));
    const small = windows('mac:00:00:00:00:00:0a', 20, (i) => (i === 3 ? 40 : 0.1));
    const spike = alert('mac:00:00:00:00:00:0b', T0 + spikeAt * 10 + 10);
    const html = renderReport({
      summary: summary({ last_ts: T0 + days * 86_400 }),
      inventory: [entry('mac:00:00:00:00:00:0a'), entry('mac:00:00:00:00:00:0b')],
      alerts: [spike],
      scores: [...small, ...big],
    });
    const sections = [...html.matchAll(/<section class="device-chart" data-device="([^"]+)">([\s\S]*?)<\/section>/g)];
    assert.deepEqual(
      sections.map((m) => m[1]),
      ['mac:00:00:00:00:00:0b', 'mac:00:00:00:00:00:0a'],
      'highest score first',
    );
    const bigChart = sections[0]![2]!;
    assert.ok(bigChart.length < 40_000, `${n} windows in ${bigChart.length} bytes`);
    assert.equal(bigChart.match(/class="over"/g)?.length, 1, 'the one window over the threshold keeps its dot');
    assert.equal(bigChart.match(/class="marker"/g)?.length, 1, 'and its alert marker');
    assert.match(bigChart, /max score 500/);
    assert.equal(sections[1]![2]!.match(/class="over"/g)?.length, 1);
  });

  it('shades the start-up grace and each device\'s learning on the charts, with a legend saying why (issue 22 item 10)', () => {
    const dev = 'mac:00:00:00:00:00:0c';
    // Learning for the first 40 windows (no model: score NaN), then scored; high scores in the first 5 minutes.
    const learning = windows(dev, 40, () => NaN).map((w) => ({ ...w, learning: true, model: '' }));
    const scored = windows(dev, 360, (i) => (i < 30 ? 8 : 0.3)).map((w) => ({ ...w, window_start: w.window_start + 400, window_end: w.window_end + 400 }));
    const other = windows('mac:00:00:00:00:00:0d', 360, (i) => (i < 30 ? 5 : 0.2));
    const html = renderReport({ summary: summary({ startup_grace_s: 300 }), inventory: [entry(dev), entry('mac:00:00:00:00:00:0d')], alerts: [], scores: [...learning, ...scored, ...other] });
    const sections = [...html.matchAll(/<section class="device-chart" data-device="([^"]+)">([\s\S]*?)<\/section>/g)];
    assert.equal(sections.length, 2);
    const { w, left, right } = { w: 760, left: 44, right: 8 };
    const px = (t: number): string => (left + ((t - T0) / 3600) * (w - left - right)).toFixed(1);
    for (const [, , svg] of sections) {
      // Grace: from the first window any device had (T0) to 300 s later, in every chart.
      assert.match(svg!, new RegExp(`<path d="M${px(T0)} 8H${px(T0 + 300)}V108H${px(T0)}Z" class="grace"><title>start-up grace until 2026-01-05 09:05:00`));
    }
    const own = sections.find((m) => m[1] === dev)![2]!;
    // Learning: the 40 learning windows, merged into one span [T0, T0 + 400].
    assert.equal(own.match(/class="learning"/g)?.length, 1);
    assert.match(own, new RegExp(`<path d="M${px(T0)} 8H${px(T0 + 400)}V108H${px(T0)}Z" class="learning">`));
    assert.doesNotMatch(sections.find((m) => m[1] !== dev)![2]!, /class="learning"/, 'a device never learning has no learning band');
    assert.match(html, /<p class="muted legend" id="chart-legend"><span class="swatch grace"><\/span> start-up grace \(the first 300 s the detector saw, to 2026-01-05 09:05:00\)[^<]*never count toward an alert\. <span class="swatch learning"><\/span> learning:/);
    // Without the setting (an older caller), no grace band, the legend explains learning only.
    const plain = renderReport({ summary: summary(), inventory: [entry(dev)], alerts: [], scores: [...learning, ...scored] });
    assert.doesNotMatch(plain, /class="grace"/);
    assert.match(plain, /id="chart-legend"><span class="swatch learning">/);
  });

  it("shows each device's medical identity under its inventory row: applications, message types, AE titles, equipment ids (issue 23)", () => {
    const pump = entry('mac:00:00:00:00:00:01', {
      app_identity: {
        ...emptyAppIdentity(),
        hl7_sending_applications: ['PUMP-03'],
        hl7_sending_facilities: ['ICU'],
        hl7_receiving_applications: ['HL7ENGINE'],
        hl7_message_types: [
          { type: 'ORU^R01^ORU_R01', count: 887 },
          { type: 'ADT^A01^ADT_A01', count: 12 },
        ],
        hl7_versions: ['2.5'],
        hl7_equipment_ids: [{ id: 'PUMP-03^ALARIS8015^ACME', field: 'OBX-18' }, { id: EVIL, field: 'PRT-16' }],
        dropped: { hl7_equipment_ids: 2 },
      },
    });
    const ct = entry('mac:00:00:00:00:00:02', {
      app_identity: { ...emptyAppIdentity(), dicom_ae_titles: ['CT01', 'CT_ROGUE'], dicom_peer_ae_titles: ['PACS01'], dicom_roles: ['SCU'], dicom_sop_classes: [{ uid: '1.2.840.10008.5.1.4.1.1.2', name: 'CT Image Storage' }] },
    });
    const quiet = entry('mac:00:00:00:00:00:03');
    const html = renderReport({ summary: summary(), inventory: [pump, ct, quiet], alerts: [], scores: [] });
    const row = (id: string): string => /<tr class="identity" data-identity-of="([^"]*)">(.*?)<\/td><\/tr>\n?(?=<tr id=|\n?<\/tbody>)/s.exec(html.slice(html.indexOf(`data-identity-of="${id}"`) - 40))?.[2] ?? '';
    const text = (h: string): string => h.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const p = text(row(pump.device_id));
    assert.match(p, /HL7 sending application PUMP-03 /);
    assert.match(p, /HL7 message types ORU\^R01\^ORU_R01 \(887\), ADT\^A01\^ADT_A01 \(12\) /);
    assert.match(p, /HL7 equipment ids PUMP-03\^ALARIS8015\^ACME \(OBX-18\), &lt;img src=x onerror=alert\(1\)&gt;&quot;&#39;&amp; \(PRT-16\) \(\+2 not kept: list full\)/);
    assert.match(p, /HL7 receiving application HL7ENGINE .*HL7 version 2\.5/);
    const c = text(row(ct.device_id));
    assert.match(c, /DICOM AE titles CT01, CT_ROGUE .*DICOM role SCU .*DICOM peer AE titles PACS01 .*DICOM SOP classes CT Image Storage \(1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\)/);
    assert.ok(!html.includes('data-identity-of="mac:00:00:00:00:00:03"'), 'no identity row for a device that spoke none of these protocols');
    assert.ok(!html.includes(EVIL), 'identity texts are escaped');
    // The identity rows are not devices: one data-device row per inventory entry.
    assert.equal([...html.matchAll(/<tr id="dev-\d+" data-device=/g)].length, 3);
  });

  it('renders a run without models or alerts', () => {
    const html = renderReport({ summary: summary({ packets: 0, first_ts: NaN, last_ts: NaN }), inventory: [], alerts: [], scores: [] });
    assert.match(html, /No device was scored by a model/);
    assert.match(html, /No incidents\./);
    assert.match(html, /Device inventory \(0\)/);
  });
});
