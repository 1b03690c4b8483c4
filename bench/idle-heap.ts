/**
 * Where each byte of an idle connection goes: heap snapshots of a server holding `--connections` idle
 * connections (each subscribed to one of `--channels` channels, as the suite's idle scenario connects them)
 * against the same server before they connected, grouped by constructor.
 *
 *   npm run build && flock /tmp/bench.lock node --import tsx bench/idle-heap.ts \
 *     [--connections 2000] [--channels 200] [--targets turbine-json,turbine-protobuf,ws] [--top 25]
 *
 * Each server first serves a warm-up batch of connections that then close, so the code compiled and the caches
 * filled on first use are in both snapshots and the difference is what the connections hold. Three views per
 * target, bytes per connection:
 * - "self": the objects' own sizes by constructor (V8's summary view), closures by function name, V8-internal
 *   arrays and strings by kind;
 * - "owned": each object plus the internals only it reaches first (its property and element arrays, a Map's
 *   table, strings it holds): each node is charged to its nearest ancestor that is a JS object, closure or
 *   native, along the breadth-first tree from the roots. Roughly a retained size that cannot double-count;
 * - "held": the owned bytes by where the owner is held, two owners up ("Client.deadlines → Deadlines").
 * Snapshots see live objects only (one is taken after a full GC); RSS, which the suite's idle scenario reads,
 * also holds garbage not collected yet, the young generation's pages and native memory.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Adapter, rawWs, turbineJson, turbineProtobuf } from "./suite/adapters.js";
import { Subscribers } from "./suite/loadgen.js";
import { rssBytes } from "./suite/proc.js";
import { launch, type RunningServer, type ServerKind } from "./suite/servers.js";
import { connectionTokens } from "./suite/suite.js";
import { Tracker } from "./suite/tracker.js";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "2000" },
    channels: { type: "string" },
    "warm-up": { type: "string", default: "200" },
    targets: { type: "string", default: "turbine-json,turbine-protobuf,ws" },
    top: { type: "string", default: "25" },
  },
});
const connections = Number(values.connections);
// The suite's idle scenario has 10 connections per channel; keep that share of per-channel costs.
const channels = Number(values.channels ?? Math.max(1, Math.round(connections / 10)));
const warmUp = Number(values["warm-up"]);
const top = Number(values.top);

const targets: Record<string, { server: ServerKind; adapter: Adapter }> = {
  "turbine-json": { server: "turbine", adapter: turbineJson },
  "turbine-protobuf": { server: "turbine", adapter: turbineProtobuf },
  ws: { server: "ws", adapter: rawWs },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(name: string, kind: ServerKind, adapter: Adapter): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "idle-heap-"));
  const server = await launch(kind, {
    nodeFlags: ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${dir}`],
  });
  try {
    const serverTokens = kind === "turbine" ? tokens : [];
    const warm = new Subscribers(adapter, server.port, serverTokens);
    await warm.ensure(warmUp, channels, new Tracker([]));
    warm.close();
    await sleep(1000);
    const rss0 = rssBytes(server.pid);
    const before = await snapshot(server, dir);
    const subs = new Subscribers(adapter, server.port, serverTokens);
    await subs.ensure(connections, channels, new Tracker([]));
    await sleep(1000);
    const rss1 = rssBytes(server.pid);
    const after = await snapshot(server, dir);
    subs.close();
    report(name, before, after, (rss1 - rss0) / connections);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Have the server write a heap snapshot (a full GC first), and summarise it. */
async function snapshot(server: RunningServer, dir: string): Promise<Summary> {
  const existing = new Set(readdirSync(dir));
  process.kill(server.pid, "SIGUSR2");
  const deadline = Date.now() + 120_000;
  let file: string | undefined;
  let size = -1;
  while (Date.now() < deadline) {
    await sleep(500);
    file ??= readdirSync(dir).find((f) => !existing.has(f) && f.endsWith(".heapsnapshot"));
    if (file === undefined) continue;
    const path = join(dir, file);
    const now = statSync(path).size;
    // Written in one go on the server's main thread: complete once it stops growing and the JSON is closed.
    if (now > 0 && now === size && endsWith(path, "]}")) return summarise(path);
    size = now;
  }
  throw new Error("the server wrote no heap snapshot within 120 s");
}

function endsWith(path: string, text: string): boolean {
  const fd = openSync(path, "r");
  try {
    const tail = Buffer.alloc(text.length);
    readSync(fd, tail, 0, text.length, statSync(path).size - text.length);
    return tail.toString() === text;
  } finally {
    closeSync(fd);
  }
}

interface Group {
  count: number;
  bytes: number;
}

interface Summary {
  self: Map<string, Group>;
  owned: Map<string, Group>;
  held: Map<string, Group>;
  total: number;
}

interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Node kinds that own what they reach first ("owned" view). */
const owners = new Set(["object", "closure", "native"]);

function summarise(file: string): Summary {
  const heap = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot;
  const { meta } = heap.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf("type");
  const nameAt = meta.node_fields.indexOf("name");
  const sizeAt = meta.node_fields.indexOf("self_size");
  const edgeCountAt = meta.node_fields.indexOf("edge_count");
  const edgeTypeAt = meta.edge_fields.indexOf("type");
  const toAt = meta.edge_fields.indexOf("to_node");
  const edgeNameAt = meta.edge_fields.indexOf("name_or_index");
  const edgeTypes = meta.edge_types[0];
  const nodeTypes = meta.node_types[0];
  const weak = meta.edge_types[0].indexOf("weak");
  const { nodes, edges, strings } = heap;
  const count = nodes.length / nodeWidth;

  const firstEdge = new Int32Array(count + 1);
  for (let n = 0; n < count; n++)
    firstEdge[n + 1] = (firstEdge[n] ?? 0) + (nodes[n * nodeWidth + edgeCountAt] ?? 0);

  const typeOf = (n: number) => nodeTypes[nodes[n * nodeWidth + typeAt] ?? 0] ?? "?";
  const groupOf = (n: number): string => {
    const type = typeOf(n);
    const name = strings[nodes[n * nodeWidth + nameAt] ?? 0] ?? "";
    if (type === "object" || type === "native") return name;
    if (type === "closure") return `(closure ${name || "anonymous"})`;
    if (type.includes("string")) return "(string)";
    if (type === "hidden" || type === "array" || type === "object shape") return `(${type}) ${name}`;
    return `(${type})`;
  };

  // Breadth-first from the root: each node's owner is its nearest owning ancestor (or itself).
  const owner = new Int32Array(count).fill(-1);
  const parent = new Int32Array(count).fill(-1);
  const parentEdge = new Int32Array(count).fill(-1);
  const reached = new Uint8Array(count);
  const queue = new Int32Array(count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  reached[0] = 1;
  owner[0] = 0;
  while (head < tail) {
    const n = queue[head++] ?? 0;
    for (let e = firstEdge[n] ?? 0; e < (firstEdge[n + 1] ?? 0); e++) {
      if (edges[e * edgeWidth + edgeTypeAt] === weak) continue;
      const to = (edges[e * edgeWidth + toAt] ?? 0) / nodeWidth;
      if (reached[to] === 1) continue;
      reached[to] = 1;
      parent[to] = n;
      parentEdge[to] = e;
      owner[to] = owners.has(typeOf(to)) ? to : (owner[n] ?? 0);
      queue[tail++] = to;
    }
  }

  const edgeName = (e: number): string => {
    const type = edgeTypes[edges[e * edgeWidth + edgeTypeAt] ?? 0];
    if (type === "element" || type === "hidden") return "[]";
    const name = strings[edges[e * edgeWidth + edgeNameAt] ?? 0] ?? "";
    return type === "context" ? `{${name}}` : `.${name}`;
  };
  /** The path from the owner holding `o` to `o`: "Owner.field[]" (edge names through V8 internals). */
  const holder = (o: number): string => {
    let path = "";
    let n = o;
    for (let hops = 0; hops < 4 && (parent[n] ?? -1) >= 0; hops++) {
      path = edgeName(parentEdge[n] ?? 0) + path;
      n = parent[n] ?? 0;
      if (owner[n] === n) return `${groupOf(n)}${path}`;
    }
    return `…${path}`;
  };
  /** Where an owner is held, two owners up: "Client.subscriptions → Subscriptions.subs → Map". */
  const heldKey = (o: number): string => {
    const up = parent[o] ?? -1;
    const upOwner = up >= 0 ? (owner[up] ?? -1) : -1;
    const outer = upOwner > 0 && (parent[upOwner] ?? -1) >= 0 ? `${holder(upOwner)} → ` : "";
    return `${outer}${holder(o)} → ${groupOf(o)}`;
  };

  const self = new Map<string, Group>();
  const owned = new Map<string, Group>();
  const held = new Map<string, Group>();
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (reached[n] === 0) continue;
    const bytes = nodes[n * nodeWidth + sizeAt] ?? 0;
    total += bytes;
    add(self, groupOf(n), bytes, 1);
    const o = owner[n] ?? 0;
    add(owned, groupOf(o), bytes, o === n ? 1 : 0);
    add(held, heldKey(o), bytes, o === n ? 1 : 0);
  }
  return { self, owned, held, total };
}

function add(groups: Map<string, Group>, key: string, bytes: number, count: number): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, { count, bytes });
  else {
    group.count += count;
    group.bytes += bytes;
  }
}

function report(name: string, before: Summary, after: Summary, rssPerConnection: number): void {
  const perConnection = (after.total - before.total) / connections;
  console.log(
    `\n## ${name}: ${connections} idle connections over ${channels} channels\n\n` +
      `heap ${perConnection.toFixed(0)} B/conn (snapshot difference), ` +
      `RSS ${(rssPerConnection / 1024).toFixed(2)} KiB/conn (rough: the first snapshot moves RSS too)\n`,
  );
  for (const view of ["self", "owned", "held"] as const) {
    console.log(`### ${view}\n\n| group | objects/conn | B/conn |\n|---|---:|---:|`);
    for (const [key, diff] of difference(before[view], after[view]).slice(0, top)) {
      const objects = (diff.count / connections).toFixed(2);
      console.log(
        `| ${key.replace(/\|/g, "\\|").slice(0, 140)} | ${objects} | ${(diff.bytes / connections).toFixed(0)} |`,
      );
    }
    console.log();
  }
}

/** Groups that grew, largest first. */
function difference(before: Map<string, Group>, after: Map<string, Group>): [string, Group][] {
  const diff: [string, Group][] = [];
  for (const [key, group] of after) {
    const old = before.get(key) ?? { count: 0, bytes: 0 };
    diff.push([key, { count: group.count - old.count, bytes: group.bytes - old.bytes }]);
  }
  return diff.filter(([, g]) => Math.abs(g.bytes) >= connections / 4).sort((a, b) => b[1].bytes - a[1].bytes);
}

// Last, once every declaration above is initialised.
const tokens = await connectionTokens(Math.max(connections, warmUp));
for (const name of values.targets.split(",")) {
  const target = targets[name];
  if (target === undefined) throw new Error(`unknown target ${name} (${Object.keys(targets).join(", ")})`);
  await measure(name, target.server, target.adapter);
}
