/**
 * Counters every component keeps (received / sent / discarded / errors by stage, as Vector does), readable as
 * a plain object for InfluxDB health points and as Prometheus text for `/metrics`.
 */
export class Counters<K extends string = string> {
  private readonly values = new Map<string, number>();

  constructor(readonly stage: string) {}

  add(name: K, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: K): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  /** Prometheus exposition lines: `wardwatch_<stage>_<name>_total`. */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const [name, value] of [...this.values].sort(([a], [b]) => a.localeCompare(b))) {
      const metric = `wardwatch_${this.stage}_${name}_total`.replace(/[^a-zA-Z0-9_]/g, '_');
      lines.push(`# TYPE ${metric} counter`, `${metric} ${value}`);
    }
    return lines.join('\n');
  }
}
