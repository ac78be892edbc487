import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One exported line, as prom-client's own metrics give them to their registry. */
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/**
 * Metric families whose label sets are all made up front: each `cell` is a plain object the hot path adds to, with
 * no label hashing and no allocation per observation (a prom-client child hashes its labels on every `inc`). The
 * registry reads the cells when it is scraped, through the same `get()` its own metrics answer.
 */
abstract class PreboundFamily<Cell> {
  readonly aggregator = 'sum';
  protected readonly cells: Cell[] = [];

  constructor(
    public name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }

  abstract reset(): void;
  protected abstract values(): Sample[];
}

export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** A counter of fixed label sets; `omitZero` leaves out the cells never incremented (e.g. one per status code). */
export class PreboundCounter extends PreboundFamily<CounterCell> {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly omitZero = false,
  ) {
    super(name, help, 'counter', registry);
  }

  cell(labels: Labels): CounterCell {
    const cell = new CounterCell(labels);
    this.cells.push(cell);
    return cell;
  }

  reset(): void {
    for (const cell of this.cells) cell.value = 0;
  }

  protected values(): Sample[] {
    const cells = this.omitZero ? this.cells.filter((cell) => cell.value > 0) : this.cells;
    return cells.map((cell) => ({ labels: cell.labels, value: cell.value }));
  }
}

export class HistogramCell {
  /** Observations per bucket, not cumulative; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** The `le` label sets of the export, made once. */
  readonly bucketLabels: Labels[];

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.bucketLabels = [...bounds.map(String), '+Inf'].map((le) => ({ ...labels, le }));
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i += 1;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** A histogram of fixed label sets and buckets. */
export class PreboundHistogram extends PreboundFamily<HistogramCell> {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram', registry);
  }

  cell(labels: Labels): HistogramCell {
    const cell = new HistogramCell(labels, this.bounds);
    this.cells.push(cell);
    return cell;
  }

  reset(): void {
    for (const cell of this.cells) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }

  protected values(): Sample[] {
    const values: Sample[] = [];
    for (const cell of this.cells) {
      let cumulative = 0;
      cell.bucketLabels.forEach((labels, i) => {
        cumulative += cell.counts[i]!;
        values.push({ labels, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: cell.labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return values;
  }
}
