/** `rpc.handlers_module`: its env var, and a start-up error naming the key when the module is unusable. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { startTestServer } from "../helpers/server.js";

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
});
