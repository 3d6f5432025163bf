/**
 * A histogram without labels for values observed on the message path:
 * `observe` is a bucket search and three increments in typed arrays, where
 * prom-client's Histogram builds a labels object and a closure per call. It
 * registers on a prom-client Registry as a metric of type histogram, so
 * /metrics shows it in the usual `_bucket{le}`, `_sum` and `_count` lines.
 */
import type { Registry } from 'prom-client';

interface ExportedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Per bucket (not cumulative); the last one is +Inf. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  /** After reset() and before the next observation there is nothing to export, as prom-client does. */
  private cleared = false;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(upperBounds.length + 1);
    registry.registerMetric(this as never);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
    this.cleared = false;
  }

  /** What prom-client's registry formats (the shape of its own histograms' `get()`). */
  get(): { name: string; help: string; type: string; aggregator: string; values: ExportedValue[] } {
    const values: ExportedValue[] = [];
    if (this.cleared) return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    let cumulative = 0;
    for (let i = 0; i <= this.upperBounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: i < this.upperBounds.length ? this.upperBounds[i]! : '+Inf' }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum }, { metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.cleared = true;
  }
}
