/**
 * A preload (`node --import <this file's URL>?out=<file>`) that times the event loop of the process it runs in:
 * a 5 ms interval notes every gap between its ticks over 50 ms, with when it began, counted from the moment the
 * process's first server started listening (negative: before, during start-up), the CPU time the process used
 * meanwhile (all its threads: a gap with little CPU was the process waiting for a core, not a long turn of its
 * own), and how long garbage collections ran in it. At exit the list goes to `out` as JSON. Plain JavaScript: it
 * runs in Turbine started from dist/, without tsx.
 */
import { writeFileSync } from "node:fs";
import { Server } from "node:net";
import { PerformanceObserver, performance } from "node:perf_hooks";
import process from "node:process";
import { setInterval } from "node:timers";
import { URL } from "node:url";

const TICK_MS = 5;
const REPORTED_MS = 50;

const out = new URL(import.meta.url).searchParams.get("out");
if (out === null) throw new Error("loop-stalls.mjs: give the output file as ?out=<path>");

let listeningAt;
const stalls = [];
const listen = Server.prototype.listen;
Server.prototype.listen = function (...args) {
  this.once("listening", () => (listeningAt ??= performance.now()));
  return listen.apply(this, args);
};

/** Garbage collections (start and duration, ms), to tell how much of a long gap was collecting. */
const collections = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push({ startMs: entry.startTime, ms: entry.duration });
}).observe({ entryTypes: ["gc"] });

/** The time collections overlapped [from, to]. */
function collectingMs(from, to) {
  let sum = 0;
  for (const gc of collections)
    sum += Math.max(0, Math.min(to, gc.startMs + gc.ms) - Math.max(from, gc.startMs));
  return sum;
}

let last = performance.now();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  if (now - last > REPORTED_MS) {
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    stalls.push({ startMs: last, ms: now - last, cpuMs });
  }
  last = now;
  lastCpu = cpu;
}, TICK_MS).unref();

process.on("exit", () => {
  const since = listeningAt ?? 0;
  const list = stalls.map(({ startMs, ms, cpuMs }) => ({
    atMs: Math.round(startMs - since),
    ms: Math.round(ms),
    cpuMs: Math.round(cpuMs),
    gcMs: Math.round(collectingMs(startMs, startMs + ms)),
  }));
  writeFileSync(out, JSON.stringify({ listenedAtMs: Math.round(since), stalls: list }));
});
