/**
 * prom-client's default process and runtime metrics, without the collectors that walk every connection on
 * the event loop at each scrape. With 10,000 connections a scrape spent 100–200 ms in them: listing every
 * open file synchronously (`process_open_fds`) and every handle and resource (`nodejs_active_handles`,
 * `nodejs_active_requests`, `nodejs_active_resources` and their totals, prom-client's own series, which
 * Centrifugo does not have). `process_open_fds` (Go's process collector has it) is kept, counted by a listing
 * that runs in libuv's thread pool.
 */
import { readdir } from "node:fs/promises";
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";

/** Series whose collectors list every handle or resource of the process. */
const PER_HANDLE_SERIES = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
];

export function registerDefaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of PER_HANDLE_SERIES) registry.removeSingleMetric(name);
  if (registry.getSingleMetric("process_open_fds") === undefined) return;
  registry.removeSingleMetric("process_open_fds");
  new Gauge({
    name: "process_open_fds",
    help: "Number of open file descriptors.",
    registers: [registry],
    async collect() {
      try {
        // Less the descriptor of the listing itself, as prom-client counts.
        this.set((await readdir("/proc/self/fd")).length - 1);
      } catch {
        // Left as it was, as prom-client does.
      }
    },
  });
}
