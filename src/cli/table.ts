/**
 * Fixed-width text tables for the terminal (`inventory list`, `models list`): columns padded to their widest cell,
 * the last column left ragged; numbers right-aligned where the caller says so.
 */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const last = head.length - 1;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === last ? c : rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w, i) => '-'.repeat(i === last ? Math.min(w, 12) : w))), ...rows.map(line)].join('\n') + '\n';
}

/** Packet time (seconds since the epoch) as `YYYY-MM-DD HH:MM:SS` UTC; `-` when unknown. */
export function utc(ts: number): string {
  return Number.isFinite(ts) ? new Date(Math.round(ts * 1000)).toISOString().slice(0, 19).replace('T', ' ') : '-';
}

/** Terminal-safe text: control characters (from the wire: DHCP names, SNI) shown as `?` (one function for every table). */
export { printable } from '../terminal.js';
