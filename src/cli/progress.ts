/**
 * Progress of long work: a one-line bar (percent, packets, rate, ETA) redrawn on a terminal, plain periodic lines
 * (every `interval_ms`) when stderr is not a terminal (logs, CI).
 */
export class Progress {
  private readonly start = Date.now();
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly interval_ms = 5000,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
  }

  update(done: number, total: number, count: number, unit = 'packets'): void {
    const now = Date.now();
    if (now - this.lastPrint < (this.tty ? 200 : this.interval_ms)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const rate = count / Math.max(elapsed, 1e-3);
    const eta = frac > 0 ? elapsed / frac - elapsed : NaN;
    const pct = `${(frac * 100).toFixed(1).padStart(5)}%`;
    const text = `${this.label} ${pct}  ${count.toLocaleString('en-US')} ${unit}  ${Math.round(rate).toLocaleString('en-US')} ${unit}/s  ETA ${Number.isFinite(eta) ? `${Math.ceil(eta)} s` : '?'}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else {
      this.out.write(`${new Date().toISOString()} ${text}\n`);
    }
  }

  done(summary: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${this.label}: ${summary}\n`);
  }
}
