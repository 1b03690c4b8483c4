/**
 * Embedding: `startTurbine({ config, rpc })` serving a registry (or an array of methods) in-process, refusing
 * one next to `rpc.handlers_module`, and the README's embedding sample running as printed (package imports
 * pointed at the sources, its port at a free one).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { z } from "zod";
import { startTurbine } from "../../src/index.js";
import { defineRpc, RpcRegistry } from "../../src/rpc/index.js";
import { freePort } from "../helpers/redis.js";
import { RawClient } from "../helpers/raw.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const twice = defineRpc(
  "twice",
  { params: z.object({ n: z.number() }), result: z.number() },
  ({ n }) => n * 2,
);
const base = {
  client: { insecure: true },
  http_server: { address: "127.0.0.1", port: 0 },
  log: { level: "none" },
};

/** The fenced code block after `heading` in the README. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(heading));
  const start = section.indexOf("```" + language + "\n") + language.length + 4;
  return section.slice(start, section.indexOf("```", start));
}

describe("embedding", () => {
  const temp = mkdtempSync(join(ROOT, ".embedding-test-"));
  after(() => rmSync(temp, { recursive: true, force: true }));

  for (const [what, rpc] of [
    ["a registry", new RpcRegistry([twice])],
    ["an array of methods", [twice]],
  ] as const) {
    it(`startTurbine({ rpc }) serves ${what} in-process`, async () => {
      const server = await startTurbine({ config: base, env: {}, rpc });
      try {
        const client = await RawClient.connected(`ws://127.0.0.1:${server.port}/connection/websocket`, "");
        const reply = await client.call({ rpc: { method: "twice", data: { n: 21 } } });
        assert.deepEqual(reply.rpc, { data: 42 });
        await client.terminate();
      } finally {
        await server.close();
      }
    });
  }

  it("a registry next to rpc.handlers_module is refused, naming the key", async () => {
    const config = { ...base, rpc: { handlers_module: "examples/tasks/handlers.ts" } };
    await assert.rejects(
      startTurbine({ config, env: {}, rpc: [twice] }),
      /^Error: rpc\.handlers_module: set, and a registry is passed too/,
    );
  });

  it("the README's embedding sample runs as printed", { timeout: 60_000 }, async () => {
    const sample = readmeBlock("### Embedding", "ts")
      .replace('"turbine-realtime/rpc"', JSON.stringify(join(ROOT, "src/rpc/index.ts")))
      .replace('"turbine-realtime"', JSON.stringify(join(ROOT, "src/index.ts")))
      .replace("port: 8000", `port: ${await freePort()}, address: "127.0.0.1"`);
    assert.match(sample, /rpc: new RpcRegistry/);
    const file = join(temp, "sample.mts");
    writeFileSync(file, sample);
    const { stderr } = await run(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env: { ...process.env, CENTRIFUGO_LOG_LEVEL: "error" },
      timeout: 50_000,
    });
    assert.doesNotMatch(stderr, /unknown channel|Error/);
  });
});
