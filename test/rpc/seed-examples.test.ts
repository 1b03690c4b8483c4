/**
 * The seed's client examples, run verbatim (test/rpc/seed/: only the URL, the token and the harness around
 * them are ours) against a live Turbine serving the example app's handlers in-process and through the RPC
 * proxy: Python (Pydantic models), TypeScript and Go, each with its error example.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { EXAMPLE_CLIENTS, SERVING_MODES, startRpcServer } from "./live.js";
import { goMissing, GoScenario, pythonMissing } from "./scenarios.js";

const run = promisify(execFile);
const SEED = fileURLToPath(new URL("./seed/", import.meta.url));

/** Exit code and output of a program. */
async function outputOf(program: string, args: string[]) {
  return run(program, args, { timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

for (const mode of SERVING_MODES) {
  describe(`the seed's client examples, ${mode} handlers`, { timeout: 300_000 }, () => {
    let server: TestServer;
    let token: string;
    let go: GoScenario | undefined;
    before(async () => {
      server = await startRpcServer(mode);
      token = await connectToken("123");
      if (!goMissing) go = await GoScenario.build(join(SEED, "main.go"));
    });
    after(async () => {
      go?.remove();
      await server.close();
    });

    it("Python", { skip: pythonMissing }, async () => {
      const args = [join(SEED, "example.py"), join(EXAMPLE_CLIENTS, "python"), server.url, token];
      const { code, stdout, stderr } = await outputOf("/usr/bin/python3", args);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^call: \{'user_id': '123', 'total': 3, 'completed': 1, 'pending': 2, /m);
      assert.match(stdout, /^typed: .*user_id='123' total=3 completed=1 pending=2 /m);
      assert.match(stdout, /^1 validation error for TaskStatsParams\nuser_id\n/m);
      assert.match(stdout, /^Failed to connect: cannot connect to .*\/nope: .*404/m);
      assert.match(stdout, /^RPC error: 422: invalid params: user_id: /m);
    });

    it("TypeScript", async () => {
      const args = ["--import", "tsx", join(SEED, "example.ts"), server.url, token];
      const { code, stdout, stderr } = await outputOf(process.execPath, args);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^call: \{"user_id":"123","total":3,"completed":1,"pending":2,/m);
      assert.match(stdout, /^typed: \{"user_id":"123","total":3,/m);
      assert.match(stderr, /^Connection failed: ConnectionError: cannot connect to .*\/nope: .*404/m);
      assert.match(stderr, /^RPC error 422: invalid params: user_id: /m);
    });

    it("Go", { skip: goMissing }, async () => {
      const usage = await go!.outputOf(["usage", server.url, token]);
      assert.equal(usage.code, 0, usage.stderr);
      assert.match(usage.stdout, /^call: \{"user_id":"123","total":3,"completed":1,"pending":2,.* <nil>$/m);
      assert.match(usage.stdout, /^typed: \{UserId:123 Total:3 Completed:1 Pending:2 .*\} <nil>$/m);
      const refused = await go!.outputOf([
        "connection-error",
        server.url.replace("/connection/websocket", "/nope"),
        token,
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Connection failed: connection error 0: .*bad handshake/);
      const rpcError = await go!.outputOf(["rpc-error", server.url, token]);
      assert.equal(rpcError.code, 0, rpcError.stderr);
      assert.match(rpcError.stderr, /RPC error 422: invalid params: user_id: /);
    });
  });
}
