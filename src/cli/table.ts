import type { Alert } from '../records/alert.js';
import { printable } from '../terminal.js';

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
export { printable };

/** Width of the terminal tables: $COLUMNS, else the terminal's width, else 120; never under 60. */
export function terminalWidth(out: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env['COLUMNS']);
  const cols = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : out.isTTY && out.columns ? out.columns : 120;
  return Math.max(60, cols);
}

/** `text` cut to `width` characters, the last one `…` when cut. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** `text` in lines of at most `width` characters, broken at spaces (a longer word is cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!word) continue;
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

const ALERT_HEAD = ['time (UTC)', 'severity', 'kind', 'device', 'class', 'score'];
const SUMMARY_HEAD = 'what changed';
/** A device name longer than this is cut with `…` (the full name is in alerts.jsonl and the report). */
const DEVICE_WIDTH = 24;
/** Narrower than this, the summary column would be a ribbon: the summary goes under its row instead. */
const MIN_SUMMARY_WIDTH = 40;
/** The summary under its row: indented by this. */
const SUMMARY_INDENT = '    ';

/** An alert's cells: what came from the wire (names, the summary) made terminal-safe, the device name cut. */
function alertCells(a: Alert): { cells: string[]; summary: string } {
  return {
    cells: [
      new Date(Math.round(a.ts * 1000)).toISOString().slice(0, 19).replace('T', ' '),
      a.severity.toUpperCase(),
      a.kind,
      truncate(printable(a.device_name || a.device_id), DEVICE_WIDTH),
      a.device_class.replace(/_/g, ' '),
      a.kind === 'new_device' ? '' : a.score.toFixed(1),
    ],
    summary: printable(a.summary),
  };
}

/**
 * The layout of an alert table `width` characters wide: the columns at `widths`, then the summary beside them (in
 * a column wrapped to what is left) when at least MIN_SUMMARY_WIDTH is left, else under each row, wrapped.
 */
class AlertLayout {
  readonly start: number;
  readonly beside: boolean;

  constructor(
    readonly widths: readonly number[],
    readonly width: number,
  ) {
    this.start = widths.reduce((n, w) => n + w + 2, 0);
    this.beside = width - this.start >= MIN_SUMMARY_WIDTH;
  }

  private cells(c: readonly string[]): string {
    return c.map((x, i) => x.padEnd(this.widths[i] ?? 0)).join('  ');
  }

  head(): string[] {
    if (this.beside) return [`${this.cells(ALERT_HEAD)}  ${SUMMARY_HEAD}`, `${this.cells(this.widths.map((w) => '-'.repeat(w)))}  ${'-'.repeat(12)}`];
    return [this.cells(ALERT_HEAD).trimEnd(), this.cells(this.widths.map((w) => '-'.repeat(w))), `${SUMMARY_INDENT}${SUMMARY_HEAD}`];
  }

  row(a: Alert): string[] {
    const { cells, summary } = alertCells(a);
    if (this.beside) {
      const [first = '', ...rest] = wrap(summary, this.width - this.start);
      return [`${this.cells(cells)}  ${first}`.trimEnd(), ...rest.map((l) => ' '.repeat(this.start) + l)];
    }
    return [this.cells(cells).trimEnd(), ...wrap(summary, this.width - SUMMARY_INDENT.length).map((l) => SUMMARY_INDENT + l)];
  }
}

/**
 * The alerts as a fixed-width table for the terminal, at most `width` characters a line (default: the terminal's,
 * else 120): columns as wide as their widest cell, device names cut at 24 with `…`, the summary wrapped beside or
 * under its row. Control characters from the wire are shown as `?`, as in `inventory list`.
 */
export function alertTable(alerts: readonly Alert[], width = terminalWidth()): string {
  if (alerts.length === 0) return 'No alerts.\n';
  const rows = alerts.map((a) => alertCells(a).cells);
  const layout = new AlertLayout(
    ALERT_HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length))),
    width,
  );
  return [...layout.head(), ...alerts.flatMap((a) => layout.row(a))].join('\n') + '\n';
}

/** Column widths of the streamed table: the longest severity, kind and class, the device as the table cuts it. */
const STREAM_WIDTHS = [19, 8, 16, DEVICE_WIDTH, 17, 5];

/**
 * The alerts table printed as the alerts are raised (a live run has no end to wait for): the table's columns at
 * fixed widths, the header before the first alert.
 */
export class AlertPrinter {
  private headed = false;
  private readonly layout: AlertLayout;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    width = terminalWidth(),
  ) {
    this.layout = new AlertLayout(STREAM_WIDTHS, width);
  }

  write(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    const lines = alerts.flatMap((a) => this.layout.row(a));
    if (!this.headed) {
      this.headed = true;
      lines.unshift(...this.layout.head());
    }
    this.out.write(lines.join('\n') + '\n');
  }
}
