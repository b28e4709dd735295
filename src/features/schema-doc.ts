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
    '## Known inaccuracies',
    '',
    '- `tcp_half_open` is counted when the unanswered flow ends: after the TCP attempt timeout (default 10 s of packet',
    '  time without a packet on the flow), so it usually lands in the window after the SYNs.',
    '- Peers and ports are remembered per device up to a bound (4096 peers, 1024 ports); beyond it, unseen values stay',
    '  "new" in every window. Per-window distinct counts (peers, ports, DNS names) saturate at 4096 per device.',
    '- IPv6 peers are keyed by a 32-bit fold of the address: two peers with the same fold count once.',
    '- Packets out of order across a window boundary are counted in the window that is open.',
    '- `sensor_overflow` is sensor-wide (the same value in every device window of the same period).',
    '',
  ];
  return lines.join('\n');
}
