/**
 * Renders docs/features.md from `FEATURE_SCHEMA`. The committed document is generated (`npm run gen:feature-doc`,
 * i.e. `node dist/scripts/gen-feature-doc.js`) and a test fails when it is stale.
 */
import { FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION, FEATURE_WINDOW_SCHEMA_VERSION } from '../records/features.js';

export function renderFeatureDoc(): string {
  const lines = [
    '<!-- Generated from FEATURE_SCHEMA (src/records/features.ts) by scripts/gen-feature-doc.ts. Do not edit by hand. -->',
    '# Feature schema',
    '',
    `Feature schema version **${FEATURE_SCHEMA_VERSION}** (window record version ${FEATURE_WINDOW_SCHEMA_VERSION}), ${FEATURE_SCHEMA.length} features.`,
    '',
    'One `FeatureWindow` per device per tumbling window of packet time (default 10 s, option `features.window_ms`),',
    'aligned to multiples of the window length since the Unix epoch, bounds `[window_start, window_end)`. A window',
    'closes when the first packet at or after its end is processed (or at capture end), never on a wall-clock timer,',
    'so the same capture gives identical windows at any replay speed. A window is emitted for a device only when it',
    'sent or received a packet in it, or a connection it originated was rejected or ended unanswered in it.',
    '',
    '"out" means sent by the device, "in" received by it. Means and standard deviations are population statistics;',
    'every value is rounded to 6 decimals. Any change to this list (add, remove, reorder, change of unit or meaning)',
    'bumps the feature schema version; a model trained on another version refuses the windows.',
    '',
    '| # | name | unit | meaning |',
    '|---|------|------|---------|',
    ...FEATURE_SCHEMA.map((f, i) => `| ${i} | \`${f.name}\` | ${f.unit} | ${f.meaning.replace(/\|/g, '\\|')} |`),
    '',
    '## Window metadata (not features)',
    '',
    'Beside `values`, a window record carries fields no model reads; they are not in the feature vector and changing',
    'them does not change the feature schema version.',
    '',
    '| field | unit | meaning |',
    '|-------|------|---------|',
    '| `capture_loss` (optional) | fraction | Share of the packets that reached the sensor\'s capture while the window was open that libpcap dropped: (`pcap_dropped` + `pcap_ifdropped`) ÷ (handed to the sensor + dropped), over the window\'s interval. Sensor-wide (a dropped packet cannot be attributed to a device). Present for a live capture (noted from its start), absent for a file (every frame is read). The detector discounts windows above `detect.capture_loss_max` (src/detect/README.md, "Capture loss"). |',
    '',
    '## Known inaccuracies',
    '',
    '- `tcp_half_open` is counted when the unanswered flow ends: after the TCP attempt timeout (default 10 s of packet',
    '  time without a packet on the flow), so it usually lands in the window after the SYNs.',
    '- Peers and ports are remembered per device up to a bound (4096 peers, 1024 ports); beyond it, unseen values stay',
    '  "new" in every window. Per-window distinct counts (peers, ports, DNS names) saturate at 4096 per device.',
    '- IPv6 peers are keyed by a 32-bit fold of the address: two peers with the same fold count once.',
    '- Packets out of order across a window boundary are counted in the window that is open.',
    '- `sensor_overflow` is sensor-wide (the same value in every device window of the same period).',
    '- `capture_loss` is sensor-wide, and the capture counters are read about once a second of wall time while windows',
    '  close on packet time: up to ~1 s of drops can be counted in the next window. Loss in one window can also show in',
    '  a later one (a connection whose first packets were lost is picked up mid-stream).',
    '',
  ];
  return lines.join('\n');
}
