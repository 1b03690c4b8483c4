/**
 * Instruments whose hot path is adding to a number. prom-client's own label children hash their label values
 * on every call (prom-client lib/counter.js `labels`), and its time-windowed Summary costs microseconds per
 * observation; counting per message, command and request needs less. Each family here hands out one cell per
 * label set, made once and kept by the caller, like client_golang's `WithLabelValues` children cached in
 * centrifuge metrics.go; prom-client's registry reads the cells at scrape time.
 */
import { Counter, Gauge, Histogram, type MetricType, type Registry, Summary } from "prom-client";

/**
 * The `# TYPE` words. prom-client's index.d.ts declares MetricType a numeric enum, while its lib/ writes the
 * metric's `type` string into the exposition as is.
 */
const HISTOGRAM = "histogram" as unknown as MetricType;
const SUMMARY = "summary" as unknown as MetricType;

/** A label set, its names in alphabetical order as client_golang writes them. */
type Labels = Record<string, string>;

/** One monotonically increasing value. */
export class CounterCell {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

/** One value that goes up and down. */
export class GaugeCell {
  value = 0;

  inc(): void {
    this.value++;
  }

  dec(): void {
    this.value--;
  }
}

/** One histogram's buckets (not cumulative: `counts[i]` holds observations in (bounds[i-1], bounds[i]]). */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        return;
      }
    }
  }
}

/** How many recent observations a summary keeps for its quantiles. */
const SUMMARY_WINDOW = 4096;

/**
 * One summary: exact `sum` and `count`, and quantiles over the latest observations (at most
 * SUMMARY_WINDOW) of the last `maxAgeMs`. client_golang estimates them over its 10-minute window instead
 * (prometheus.DefMaxAge with targeted error objectives); both answer "NaN" when nothing was observed in it.
 */
export class SummaryCell {
  sum = 0;
  count = 0;
  private readonly values = new Float64Array(SUMMARY_WINDOW);
  private readonly times = new Float64Array(SUMMARY_WINDOW);
  private next = 0;

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.next;
    this.values[i] = value;
    this.times[i] = Date.now();
    this.next = i + 1 === SUMMARY_WINDOW ? 0 : i + 1;
  }

  /** The nearest-rank quantiles of the observations younger than `maxAgeMs`. */
  quantiles(percentiles: readonly number[], maxAgeMs: number): number[] {
    const oldest = Date.now() - maxAgeMs;
    const recent: number[] = [];
    const filled = Math.min(this.count, SUMMARY_WINDOW);
    for (let i = 0; i < filled; i++)
      if ((this.times[i] as number) >= oldest) recent.push(this.values[i] as number);
    recent.sort((a, b) => a - b);
    return percentiles.map((q) =>
      recent.length === 0 ? NaN : (recent[Math.max(0, Math.ceil(q * recent.length) - 1)] as number),
    );
  }
}

/** What every family is declared with. */
export interface FamilyOptions {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

/** Cells by label values, each made on first use. */
class Cells<T> {
  readonly all: { labels: Labels; cell: T }[] = [];
  private readonly byKey = new Map<string, T>();

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: () => T,
  ) {}

  /** The cell of these label values (in `labelNames` order); keep it rather than asking again. */
  get(values: readonly string[]): T {
    const key = values.join("\u0000");
    let cell = this.byKey.get(key);
    if (cell === undefined) {
      cell = this.make();
      this.byKey.set(key, cell);
      this.all.push({ labels: sortedLabels(this.labelNames, values), cell });
    }
    return cell;
  }
}

function sortedLabels(names: readonly string[], values: readonly string[]): Labels {
  const pairs = names.map((name, i): [string, string] => [name, values[i] ?? ""]);
  pairs.sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(pairs);
}

/** A counter family (client_golang CounterVec). */
export class CounterFamily {
  private readonly cells: Cells<CounterCell>;

  constructor({ registry, name, help, labelNames = [] }: FamilyOptions) {
    this.cells = new Cells(labelNames, () => new CounterCell());
    const cells = this.cells;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Counter) {
        this.reset();
        for (const { labels, cell } of cells.all) this.inc(labels, cell.value);
      },
    });
  }

  child(...values: string[]): CounterCell {
    return this.cells.get(values);
  }
}

/** A gauge family (client_golang GaugeVec). */
export class GaugeFamily {
  private readonly cells: Cells<GaugeCell>;

  constructor({ registry, name, help, labelNames = [] }: FamilyOptions) {
    this.cells = new Cells(labelNames, () => new GaugeCell());
    const cells = this.cells;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Gauge) {
        this.reset();
        for (const { labels, cell } of cells.all) this.set(labels, cell.value);
      },
    });
  }

  child(...values: string[]): GaugeCell {
    return this.cells.get(values);
  }
}

/** A gauge without labels whose value is read at scrape time. */
export function gaugeFunc(options: FamilyOptions, read: () => number): void {
  new Gauge({
    name: options.name,
    help: options.help,
    registers: [options.registry],
    collect(this: Gauge) {
      this.set(read());
    },
  });
}

/** prom-client Histogram exposing our cells. */
class CellHistogram extends Histogram<string> {
  constructor(
    private readonly family: FamilyOptions,
    private readonly cells: Cells<HistogramCell>,
  ) {
    super({ name: family.name, help: family.help, labelNames: family.labelNames ?? [], registers: [] });
  }

  override async get(): ReturnType<Histogram<string>["get"]> {
    const { name, help } = this.family;
    const values = [];
    for (const { labels, cell } of this.cells.all) {
      let cumulative = 0;
      cell.bounds.forEach((le, i) => {
        cumulative += cell.counts[i] as number;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...labels, le: "+Inf" }, value: cell.count, metricName: `${name}_bucket` });
      values.push({ labels, value: cell.sum, metricName: `${name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${name}_count` });
    }
    return { name, help, type: HISTOGRAM, values, aggregator: "sum", collect: () => {} };
  }

  /** prom-client's registry prefers this to `get()` for the text format (prom-client lib/registry.js). */
  getForPromString(): ReturnType<Histogram<string>["get"]> {
    return this.get();
  }
}

/** A histogram family (client_golang HistogramVec) with fixed buckets. */
export class HistogramFamily {
  private readonly cells: Cells<HistogramCell>;

  constructor(options: FamilyOptions, buckets: readonly number[]) {
    this.cells = new Cells(options.labelNames ?? [], () => new HistogramCell(buckets));
    options.registry.registerMetric(new CellHistogram(options, this.cells));
  }

  child(...values: string[]): HistogramCell {
    return this.cells.get(values);
  }
}

/** Summary objectives of every Centrifugo summary: {0.5: 0.05, 0.99: 0.001, 0.999: 0.0001}. */
const PERCENTILES = [0.5, 0.99, 0.999];
/** client_golang's prometheus.DefMaxAge. */
const MAX_AGE_MS = 10 * 60 * 1000;

/** prom-client Summary exposing our cells. */
class CellSummary extends Summary<string> {
  constructor(
    private readonly family: FamilyOptions,
    private readonly cells: Cells<SummaryCell>,
  ) {
    super({ name: family.name, help: family.help, labelNames: family.labelNames ?? [], registers: [] });
  }

  override async get(): ReturnType<Summary<string>["get"]> {
    const { name, help } = this.family;
    const values = [];
    for (const { labels, cell } of this.cells.all) {
      const quantiles = cell.quantiles(PERCENTILES, MAX_AGE_MS);
      PERCENTILES.forEach((quantile, i) => {
        values.push({ labels: { ...labels, quantile }, value: quantiles[i] as number });
      });
      values.push({ labels, value: cell.sum, metricName: `${name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${name}_count` });
    }
    return { name, help, type: SUMMARY, values, aggregator: "sum", collect: () => {} };
  }
}

/** A summary family (client_golang SummaryVec with Centrifugo's objectives). */
export class SummaryFamily {
  private readonly cells: Cells<SummaryCell>;

  constructor(options: FamilyOptions) {
    this.cells = new Cells(options.labelNames ?? [], () => new SummaryCell());
    options.registry.registerMetric(new CellSummary(options, this.cells));
  }

  child(...values: string[]): SummaryCell {
    return this.cells.get(values);
  }
}
