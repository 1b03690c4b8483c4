/**
 * The support table (src/config/support.ts): it covers every key of the schema, `loadConfig` warns about and
 * refuses exactly the set keys it should, and the CLI (server, checkconfig, --help) and README agree with it.
 */
import assert from "node:assert/strict";
import { type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { README, withSupportSection } from "../../scripts/config-support.js";
import {
  flagKeys,
  leafPaths,
  schema,
  SUPPORT,
  supportEntryOf,
  type SupportLevel,
  supportOf,
} from "../../src/config/index.js";
import type { LeafSpec, ObjectSpec } from "../../src/config/spec.js";
import { run, start, tempDir } from "../cli/run.js";
import { load, problemsOf, withoutUnserved } from "./helpers.js";

const LEAVES = leafPaths(schema);

/** The leaf spec at a table-notation path (`channel.namespaces[].map.mode`). */
function leafSpec(path: string): LeafSpec {
  let spec: ObjectSpec = schema;
  const keys = path.split(".");
  for (const key of keys.slice(0, -1)) {
    const field = spec.fields[key.replace("[]", "")];
    if (field?.kind === "object") spec = field;
    else if (field?.kind === "list") spec = field.item;
    else throw new Error(`no section ${key} in ${path}`);
  }
  const leaf = spec.fields[keys.at(-1) ?? ""];
  if (leaf === undefined || leaf.kind === "object") throw new Error(`no leaf ${path}`);
  return leaf;
}

/** A valid value other than the default (and other than the values Turbine serves anyway). */
function sample(path: string, spec: LeafSpec): unknown {
  const servedValues: readonly unknown[] = supportOf(path)?.servedValues ?? [];
  switch (spec.kind) {
    case "bool":
      return !spec.def;
    case "int":
    case "number":
      return spec.def + 1;
    case "duration":
      return "7s";
    case "string":
      if (path.endsWith(".endpoint")) return ENDPOINT;
      // Free strings take the name of the config's one named proxy, since some of them name a proxy.
      return spec.oneOf?.find((v) => v !== spec.def && !servedValues.includes(v)) ?? PROXY;
    case "strings":
      return ["x"];
    case "map":
      return { x: "y" };
    case "list":
      return [{ type: "x" }];
  }
}

const PROXY = "p1";
const ENDPOINT = "http://127.0.0.1:9/proxy";

/** Sets `value` at a table-notation path, creating sections and a first item for each `[]` list. */
function setAt(tree: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (key.endsWith("[]")) {
      const name = key.slice(0, -2);
      const list = (node[name] ??= [{}]) as Record<string, unknown>[];
      node = list[0] as Record<string, unknown>;
    } else {
      node = (node[key] ??= {}) as Record<string, unknown>;
    }
  }
  node[keys.at(-1) as string] = value;
}

function getAt(tree: Record<string, unknown>, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = key.endsWith("[]")
      ? (node as Record<string, unknown[]>)[key.slice(0, -2)]?.[0]
      : (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The `enabled` and `endpoint` switches of the sections enclosing `path`, which must be on for it to count. */
function switchesOf(path: string): string[] {
  const keys = path.split(".");
  const switches: string[] = [];
  for (let i = 1; i < keys.length; i++) {
    const section = keys.slice(0, i).join(".");
    for (const name of ["enabled", "endpoint"]) {
      const candidate = `${section}.${name}`;
      if (candidate !== path && LEAVES.includes(candidate)) switches.push(candidate);
    }
  }
  return switches;
}

/** The leaves of one level that a config can set on their own (their switches are not of a stricter level). */
function leavesOf(level: SupportLevel): string[] {
  return LEAVES.filter(
    (path) =>
      supportOf(path)?.level === level &&
      switchesOf(path).every((s) => [level, "served"].includes(supportOf(s)?.level ?? "")),
  );
}

/** A config setting every leaf of `paths`, with the switches they need turned on. */
function configSetting(paths: readonly string[], base: Record<string, unknown>): Record<string, unknown> {
  const tree = structuredClone(base);
  for (const path of paths) setAt(tree, path, sample(path, leafSpec(path)));
  for (const path of paths.flatMap(switchesOf)) {
    if (getAt(tree, path) === undefined) setAt(tree, path, path.endsWith(".endpoint") ? ENDPOINT : true);
  }
  return tree;
}

/** How a message names a table-notation path: the first item of each list. */
function named(path: string): string {
  return path.replaceAll("[]", "[0]");
}

const BASE = {
  channel: { namespaces: [{ name: "ns" }] },
  proxies: [{ name: PROXY, endpoint: ENDPOINT }],
};

describe("the support table", () => {
  it("gives every key of the schema a level", () => {
    assert.deepEqual(
      LEAVES.filter((path) => supportOf(path) === undefined),
      [],
    );
  });

  it("names only real keys, and every top-level section on its own line", () => {
    for (const key of Object.keys(SUPPORT)) {
      assert.ok(
        LEAVES.some((path) => supportEntryOf(path)?.key === key),
        `${key} decides about no key of the schema`,
      );
    }
    for (const section of Object.keys(schema.fields)) assert.ok(section in SUPPORT, section);
  });

  it("gives every unserved key a reason", () => {
    for (const [key, { level, reason }] of Object.entries(SUPPORT)) {
      if (level !== "served") assert.notEqual(reason, "", key);
    }
  });

  it("decides by the longest matching entry, with items and wildcards", () => {
    assert.equal(supportEntryOf("sse.enabled")?.key, "sse");
    assert.equal(supportEntryOf("webtransport.enabled")?.key, "webtransport.enabled");
    assert.equal(supportEntryOf("channel.namespaces[3].map.mode")?.key, "channel.*.map");
    assert.equal(supportEntryOf("channel.without_namespace.presence")?.key, "channel");
    assert.equal(supportEntryOf("proxies[1].grpc_metadata")?.key, "proxies");
    assert.equal(supportEntryOf("proxies[1].endpoint")?.key, "proxies");
    assert.equal(supportEntryOf("map_broker.redis.replica_client.enabled")?.key, "map_broker");
  });
});

describe("loadConfig and the support table", () => {
  it("says nothing about defaults, or keys set back to their defaults", () => {
    assert.deepEqual(load().warnings, []);
    const { warnings } = load({ values: { sse: { enabled: false }, uni_grpc: { port: 11000 } } });
    assert.deepEqual(warnings, []);
  });

  it("warns about replica_client, which Centrifugo accepts and reads nothing through, rather than refusing it", () => {
    const replica = { replica_client: { enabled: true } };
    const { warnings } = load({ values: { engine: { type: "redis", redis: replica } } });
    assert.deepEqual(warnings, [
      "engine.redis.replica_client.enabled: not supported by Turbine, ignored: " +
        "Centrifugo's engine reads nothing from replicas either; Turbine reads from the master",
    ]);
  });

  it("warns about each set key Turbine ignores, naming its full path", () => {
    const { warnings } = load({
      values: {
        websocket: { write_timeout: "2s" },
        channel: {
          namespaces: [
            { name: "ns", presence: true },
            { name: "maps", subscription_type: "map" },
          ],
        },
      },
    });
    assert.deepEqual(warnings, [
      "channel.namespaces[1].subscription_type: not supported by Turbine, ignored: " +
        "Turbine has no map or shared poll subscriptions yet (such subscribes answer 103)",
      "websocket.write_timeout: not supported by Turbine, ignored: " +
        "gorilla/websocket tuning; Turbine's ws library manages its own buffers and writes",
    ]);
  });

  it("serves the values an entry lists (subscription_type stream)", () => {
    const values = { channel: { without_namespace: { subscription_type: "stream" } } };
    assert.deepEqual(load({ values }).warnings, []);
  });

  it("skips keys of a switched-off section or of a proxy without endpoint", () => {
    const values = {
      graphite: { enabled: false, host: "g", port: 2004, tags: true },
      broker: { enabled: false, nats: { allow_wildcards: true } },
      channel: { proxy: { subscribe_stream: { http_headers: ["Cookie"] } } },
    };
    assert.deepEqual(load({ values }).warnings, []);
    const on = load({ values: { ...values, graphite: { ...values.graphite, enabled: true } } }).warnings;
    assert.deepEqual(
      on.map((w) => w.split(":")[0]),
      ["graphite.enabled", "graphite.host", "graphite.port", "graphite.tags"],
    );
  });

  it("refuses set keys it cannot serve, naming each, from file, env and flags", () => {
    const problems = problemsOf({
      values: { http_server: { http3: { enabled: true } } },
      env: { CENTRIFUGO_WEBTRANSPORT_ENABLED: "true" },
      flags: { "http_server.h2c_external": true },
    });
    assert.deepEqual(problems, [
      "http_server.http3.enabled: not supported by Turbine, refused: Node.js has no stable HTTP/3 server",
      "http_server.h2c_external: not supported by Turbine, refused: " +
        "Turbine serves HTTP/1.1 only: node:http2 cannot share a cleartext port with HTTP/1.1 and WebSocket upgrades",
      "webtransport.enabled: not supported by Turbine, refused: Node.js has no stable HTTP/3 server",
    ]);
  });

  it("loads a config setting every warned key, with one warning per key", () => {
    const paths = leavesOf("warned");
    const { warnings } = load({ values: configSetting(paths, BASE) });
    assert.deepEqual(withoutUnserved(warnings), []);
    const reported = new Set(warnings.map((w) => w.slice(0, w.indexOf(": not supported"))));
    for (const path of paths) assert.ok(reported.has(named(path)), `no warning about ${named(path)}`);
  });
});

/** A free loopback TCP port. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Resolves with everything the child wrote (stdout and stderr) once `done` holds, or rejects after 30 s. */
function outputUntil(child: ChildProcess, done: (output: string) => Promise<boolean>): Promise<string> {
  let output = "";
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const deadline = Date.now() + 30_000;
  return new Promise((resolve, reject) => {
    const check = async () => {
      if (await done(output)) return resolve(output);
      if (child.exitCode !== null || Date.now() > deadline) {
        return reject(new Error(`gave up (exit code ${child.exitCode}); output:\n${output}`));
      }
      setTimeout(() => void check(), 200);
    };
    void check();
  });
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

describe("the server and the CLI", () => {
  it("start with every warned key set, naming each; flags of unserved keys parse", async () => {
    const dir = tempDir();
    const port = await freePort();
    const paths = leavesOf("warned");
    const config = configSetting(paths, {
      ...BASE,
      http_server: { address: "127.0.0.1", port },
      health: { enabled: true },
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    // The official Helm chart passes these two; the second sets uni_grpc.port back to its default.
    const child = start(["-c", "config.json", "--prometheus.enabled", "--uni_grpc.port", "11000"], dir);
    try {
      const expected = paths.map(named).filter((path) => path !== "uni_grpc.port");
      const output = await outputUntil(
        child,
        async (out) => expected.every((path) => out.includes(path)) && (await healthy(port)),
      );
      assert.doesNotMatch(output, /uni_grpc\.port/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuse to start with every refused key set, naming each", () => {
    const dir = tempDir();
    const paths = leavesOf("refused");
    writeFileSync(join(dir, "config.json"), JSON.stringify(configSetting(paths, {})));
    const { code, stdout, stderr } = run(["-c", "config.json", "-p", "0"], dir);
    assert.equal(code, 1);
    for (const path of paths) assert.ok(`${stdout}${stderr}`.includes(named(path)), `${path} not named`);
  });

  it("--help lists no flag of an unserved key", () => {
    const { code, stdout } = run(["--help"], tempDir());
    assert.equal(code, 0);
    assert.match(stdout, /--http_server\.port/);
    const unserved = flagKeys(schema).filter((key) => supportOf(key.path)?.level !== "served");
    assert.ok(unserved.some((key) => key.path === "debug.enabled"));
    for (const key of unserved) assert.ok(!stdout.includes(`--${key.path}`), `--${key.path} in --help`);
  });

  it("checkconfig reports the same warnings and refusals", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ websocket: { write_timeout: "2s" } }));
    const warned = run(["checkconfig"], dir);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /warning: websocket\.write_timeout: not supported by Turbine, ignored: /);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ http_server: { h2c_external: true } }));
    const refused = run(["checkconfig"], dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /http_server\.h2c_external: not supported by Turbine, refused: /);
  });

  it("checkconfig --strict fails on v5 keys, naming each; plain checkconfig only warns", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ port: 9000, api_key: "k" }));
    const plain = run(["checkconfig"], dir);
    assert.equal(plain.code, 0);
    assert.match(plain.stderr, /warning: "port" is a v5 key/);
    const strict = run(["checkconfig", "--strict"], dir);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /"port" is a v5 key, use "http_server\.port"/);
    assert.match(strict.stderr, /"api_key" is a v5 key, use "http_api\.key"/);
  });
});

describe("README", () => {
  it("has the configuration support section the script generates", () => {
    const readme = readFileSync(README, "utf8");
    assert.equal(readme, withSupportSection(readme), "README.md is stale: run `npm run gen:support`");
  });
});
