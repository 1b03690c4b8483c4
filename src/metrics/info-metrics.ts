/**
 * The metrics snapshot the server API `info` shows per node (`nodes[].metrics`): Centrifugo's families
 * aggregated over `node.info_metrics_aggregate_interval`, flattened to `name.label.value` keys, as centrifuge
 * node.go `initMetrics`/`getMetrics` do with FZambia/eagle over the Prometheus registry:
 * - only families named `centrifugo_*` (eagle's prefix whitelist with centrifuge's metrics namespace);
 * - a counter is its increase over the last interval (its whole value in the first snapshot), a gauge its
 *   value, a summary its sum and count increases and its quantiles (`quantile.50`, `quantile.99`,
 *   `quantile.999`, NaN ones left out); histograms are left out;
 * - a key is the family name split at its first two `_` (namespace, subsystem, name), then the value's own
 *   name (`sum`, `count`, `quantile.<q>`), then each non-empty label as name and value, joined by `.`:
 *   `centrifugo.node.messages_sent_count.type.publication`.
 */
import type { Registry } from "prom-client";
import type { NodeMetricsSnapshot } from "../core/metrics.js";

/** Families the snapshot keeps: centrifuge's metrics namespace. */
const NAMESPACE = "centrifugo";

type Family = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>[number];
/** A sample; summaries name their `_sum` and `_count` samples (prom-client's `metricName`). */
type Sample = Family["values"][number] & { metricName?: string };

/** Keeps the latest snapshot of a registry, taken every interval. */
export class InfoMetricsAggregator {
  /** Last raw value of every counter and summary sum/count, by key, for the next interval's increase. */
  private readonly previous = new Map<string, number>();
  private latest: NodeMetricsSnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly intervalMs: number,
  ) {}

  /** Take the first snapshot now, then one every interval. */
  async start(): Promise<void> {
    await this.aggregate();
    this.timer = setInterval(() => {
      this.aggregate().catch(() => {
        // A failed collection keeps the last snapshot, as eagle skips a failed Gather.
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** The last snapshot; a new object each interval (identity tells a new one from the last). */
  snapshot(): NodeMetricsSnapshot | undefined {
    return this.latest;
  }

  /** Read the registry once and replace the snapshot. */
  async aggregate(): Promise<void> {
    const families = await this.registry.getMetricsAsJSON();
    const items: Record<string, number> = {};
    for (const family of families) {
      if (!family.name.startsWith(`${NAMESPACE}_`)) continue;
      // prom-client's index.d.ts types `type` as a numeric enum; its lib/ (and families.ts) set the words.
      const type = String(family.type);
      if (type === "counter") this.counter(family, items);
      else if (type === "gauge") this.gauge(family, items);
      else if (type === "summary") this.summary(family, items);
    }
    this.latest = { interval: this.intervalMs / 1000, items };
  }

  private counter(family: Family, items: Record<string, number>): void {
    for (const sample of family.values) {
      const key = itemKey(family.name, "", sample.labels);
      items[key] = this.increase(key, sample.value);
    }
  }

  private gauge(family: Family, items: Record<string, number>): void {
    for (const sample of family.values) items[itemKey(family.name, "", sample.labels)] = sample.value;
  }

  private summary(family: Family, items: Record<string, number>): void {
    for (const sample of family.values) {
      const part = summaryPart(family.name, sample);
      if (part === undefined) continue;
      const { quantile: _quantile, ...labels } = sample.labels;
      const key = itemKey(family.name, part, labels);
      if (part.startsWith("quantile.")) items[key] = sample.value;
      else items[key] = this.increase(key, sample.value);
    }
  }

  /** How much a cumulative value grew since the last snapshot (all of it the first time). */
  private increase(key: string, value: number): number {
    const before = this.previous.get(key);
    this.previous.set(key, value);
    return before === undefined ? value : value - before;
  }
}

/** `sum`, `count` or `quantile.<q>` for a summary's sample; undefined for a NaN quantile. */
function summaryPart(name: string, sample: Sample): string | undefined {
  if (sample.metricName === `${name}_sum`) return "sum";
  if (sample.metricName === `${name}_count`) return "count";
  const quantile = sample.labels.quantile;
  if (quantile === undefined || Number.isNaN(sample.value)) return undefined;
  return `quantile.${quantileName(Number(quantile))}`;
}

/** eagle's `quantileString`: thousandths, one trailing zero dropped past two digits (0.5 → 50, 0.99 → 99). */
function quantileName(quantile: number): string {
  const thousandths = String(Math.trunc(quantile * 1000));
  return thousandths.length > 2 && thousandths.endsWith("0") ? thousandths.slice(0, -1) : thousandths;
}

/** See the module comment; labels in the order given (the families sort them by name, as client_golang). */
function itemKey(family: string, part: string, labels: Sample["labels"]): string {
  const parts = splitFamilyName(family);
  if (part !== "") parts.push(part);
  for (const [name, value] of Object.entries(labels)) {
    if (value !== "" && value !== undefined) parts.push(name, String(value));
  }
  return parts.join(".");
}

/** `centrifugo_node_num_clients` → `centrifugo`, `node`, `num_clients`. */
function splitFamilyName(name: string): string[] {
  const first = name.indexOf("_");
  const second = name.indexOf("_", first + 1);
  if (second < 0) return [name.slice(0, first), name.slice(first + 1)];
  return [name.slice(0, first), name.slice(first + 1, second), name.slice(second + 1)];
}
