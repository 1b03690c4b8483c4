/**
 * What a connect allocates on the server, garbage included: V8's sampling heap profiler, told to keep the
 * samples of objects the GC has collected, runs in the server (over the inspector protocol) while
 * `--connections` clients connect and subscribe as the suite's idle scenario connects them.
 *
 *   npm run build && flock /tmp/bench.lock node --import tsx bench/connect-alloc.ts \
 *     [--connections 2000] [--targets turbine-json,turbine-protobuf,ws] [--top 30] [--interval 256]
 *
 * Prints, in bytes per connection: the total allocated, the bytes by the function that allocated them (self),
 * by the innermost of the server's own functions on the allocating stack (what it allocated itself or through
 * the runtime and libraries it called), and by each of the server's own functions on the allocating stack (inclusive: a function is charged for what
 * it and its callees allocated). Sampling is statistical (one sample per `--interval` bytes on average), so
 * figures under ~100 B per connection are noise. Then, per connection, what each heap space (and RSS) gained over
 * the connects, one second after, and how much of it a full GC frees: the connect garbage still held. The
 * profiler's records inflate RSS: `--heap-only` skips it, for the heap figures alone. The heap-snapshot view of what stays allocated is
 * bench/idle-heap.ts.
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { type Adapter, rawWs, turbineJson, turbineProtobuf } from "./suite/adapters.js";
import { Subscribers } from "./suite/loadgen.js";
import { freePort, launch, type ServerKind } from "./suite/servers.js";
import { connectionTokens } from "./suite/suite.js";
import { Tracker } from "./suite/tracker.js";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "2000" },
    channels: { type: "string" },
    "warm-up": { type: "string", default: "500" },
    targets: { type: "string", default: "turbine-json,turbine-protobuf,ws" },
    top: { type: "string", default: "30" },
    interval: { type: "string", default: "256" },
    "heap-only": { type: "boolean", default: false },
  },
});
const connections = Number(values.connections);
const channels = Number(values.channels ?? Math.max(1, Math.round(connections / 10)));
const warmUp = Number(values["warm-up"]);
const top = Number(values.top);
const samplingInterval = Number(values.interval);
const sampling = !values["heap-only"];

const targets: Record<string, { server: ServerKind; adapter: Adapter }> = {
  "turbine-json": { server: "turbine", adapter: turbineJson },
  "turbine-protobuf": { server: "turbine", adapter: turbineProtobuf },
  ws: { server: "ws", adapter: rawWs },
};

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** One inspector protocol session over the server's debugger WebSocket. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === undefined) return;
      if (message.error !== undefined) throw new Error(`inspector: ${JSON.stringify(message.error)}`);
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  static async open(port: number): Promise<Inspector> {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const url = list[0]?.webSocketDebuggerUrl;
    if (url === undefined) throw new Error("the server lists no inspector target");
    const ws = new WebSocket(url, { maxPayload: 1 << 30 });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    return new Inspector(ws);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const timeout = setTimeout(() => this.pending.get(id)?.(undefined), 120_000);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (result) => {
        clearTimeout(timeout);
        if (result === undefined) reject(new Error(`inspector ${method}: no answer within 120 s`));
        else resolve(result as T);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

async function measure(name: string, kind: ServerKind, adapter: Adapter): Promise<void> {
  const inspectPort = await freePort();
  const server = await launch(kind, { nodeFlags: [`--inspect=127.0.0.1:${inspectPort}`] });
  const inspector = await Inspector.open(inspectPort);
  try {
    const serverTokens = kind === "turbine" ? tokens : [];
    const warm = new Subscribers(adapter, server.port, serverTokens);
    await warm.ensure(warmUp, channels, new Tracker([]));
    warm.close();
    await inspector.call("HeapProfiler.collectGarbage");
    const before = await heap(inspector);
    if (sampling) {
      await inspector.call("HeapProfiler.startSampling", {
        samplingInterval,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    const subs = new Subscribers(adapter, server.port, serverTokens);
    await subs.ensure(connections, channels, new Tracker([]));
    if (sampling) {
      const stopped = await inspector.call<{ profile: { head: ProfileNode } }>("HeapProfiler.stopSampling");
      report(name, stopped.profile.head);
    } else console.log(`\n## ${name}\n`);
    await sleep(1000);
    const after = await heap(inspector);
    await inspector.call("HeapProfiler.collectGarbage");
    const collected = await heap(inspector);
    subs.close();
    heapTable(before, after, collected);
  } finally {
    inspector.close();
    await server.stop();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Used bytes by heap space, and RSS. */
type HeapFigures = Record<string, number>;

async function heap(inspector: Inspector): Promise<HeapFigures> {
  const expression = `JSON.stringify(Object.fromEntries([
    ...process.getBuiltinModule("node:v8").getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]),
    ...process.getBuiltinModule("node:v8").getHeapSpaceStatistics().map((s) => [s.space_name + " (size)", s.space_size]),
    ["rss", process.memoryUsage().rss],
  ]))`;
  const { result } = await inspector.call<{ result: { value: string } }>("Runtime.evaluate", { expression });
  return JSON.parse(result.value) as HeapFigures;
}

/** Per connection: what each space gained over the connects, and what of that a full GC then freed. */
function heapTable(before: HeapFigures, after: HeapFigures, collected: HeapFigures): void {
  console.log("| heap space (used) | gained per connection | freed by a full GC after |\n|---|---:|---:|");
  for (const space of Object.keys(after)) {
    const gained = ((after[space] ?? 0) - (before[space] ?? 0)) / connections;
    const freed = ((after[space] ?? 0) - (collected[space] ?? 0)) / connections;
    if (Math.abs(gained) + Math.abs(freed) >= 10)
      console.log(`| ${space} | ${gained.toFixed(0)} | ${freed.toFixed(0)} |`);
  }
  console.log();
}

function report(name: string, head: ProfileNode): void {
  const self = new Map<string, number>();
  const nearest = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, stack: readonly string[]): void => {
    const frame = label(node);
    const here = frame === undefined ? stack : [...stack, frame];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const key = here.at(-1) ?? "(root)";
      self.set(key, (self.get(key) ?? 0) + node.selfSize);
      const own = here.findLast(isOurs) ?? "(outside this repository's code)";
      nearest.set(own, (nearest.get(own) ?? 0) + node.selfSize);
      for (const f of new Set(here.filter(isOurs))) inclusive.set(f, (inclusive.get(f) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, []);
  console.log(`\n## ${name}: ${(total / connections).toFixed(0)} B allocated per connection\n`);
  table("allocated by (self)", self);
  table("allocated in or called from (nearest own function)", nearest);
  table("allocated under (inclusive, this repository's code)", inclusive);
}

function table(title: string, groups: Map<string, number>): void {
  console.log(`| ${title} | B per connection |\n|---|---:|`);
  const rows = [...groups].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, bytes] of rows)
    console.log(`| ${key.replace(/\|/g, "\\|")} | ${(bytes / connections).toFixed(0)} |`);
  console.log();
}

/** "function file:line", the file relative to the repository; undefined for the profile's root. */
function label(node: ProfileNode): string | undefined {
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === "(root)") return undefined;
  const file = url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

function isOurs(frame: string): boolean {
  return / (dist|src|bench)\//.test(frame) && !frame.includes("node_modules");
}

// Last, once every declaration above is initialised.
const tokens = await connectionTokens(Math.max(connections, warmUp));
for (const name of values.targets.split(",")) {
  const target = targets[name];
  if (target === undefined) throw new Error(`unknown target ${name} (${Object.keys(targets).join(", ")})`);
  await measure(name, target.server, target.adapter);
}
