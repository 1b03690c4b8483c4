/** `rpc.handlers_module`: its env var, and a start-up error naming the key when the module is unusable. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, tempDir } from "../cli/run.js";
import { startTestServer } from "../helpers/server.js";

const EXAMPLE_HANDLERS = fileURLToPath(new URL("../../examples/tasks/handlers.ts", import.meta.url));

describe("rpc.handlers_module", () => {
  it("defaults to none and reads CENTRIFUGO_RPC_HANDLERS_MODULE", () => {
    assert.equal(loadConfig({ values: {}, env: {} }).config.rpc.handlers_module, "");
    const env = { CENTRIFUGO_RPC_HANDLERS_MODULE: "./handlers.ts" };
    assert.equal(loadConfig({ values: {}, env }).config.rpc.handlers_module, "./handlers.ts");
  });

  it("a module that is missing or exports no registry stops the start, naming the key", async () => {
    for (const module of ["./no/such/module.ts", "./package.json"]) {
      await assert.rejects(
        startTestServer({ rpc: { handlers_module: module } }),
        /^Error: rpc\.handlers_module: /,
      );
    }
  });

  it("checkconfig loads the module as the server would: fine, or status 1 naming the key", () => {
    const dir = tempDir();
    for (const [module, code] of [
      [EXAMPLE_HANDLERS, 0],
      ["./no/such/module.ts", 1],
    ] as const) {
      writeFileSync(join(dir, "config.json"), JSON.stringify({ rpc: { handlers_module: module } }));
      const result = run(["checkconfig", "-c", "config.json"], dir);
      assert.equal(result.code, code, result.stderr);
      if (code === 1) assert.match(result.stderr, /rpc\.handlers_module: /);
    }
  });
});
