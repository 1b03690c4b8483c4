/**
 * The generated Python client (examples/tasks/clients/python) under Debian's /usr/bin/python3 with
 * python3-websockets, against a live Turbine serving the handlers in-process and through its RPC proxy:
 * test/rpc/python/scenario.py
 * makes two typed calls, meets an RPC error, client- and server-side validation errors, a clean timeout,
 * the personal channel and a refused connect.
 */
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../helpers/server.js";
import { SERVING_MODES, startRpcServer } from "./live.js";
import { checkPythonScenario, pythonMissing, pythonScenario } from "./scenarios.js";

for (const mode of SERVING_MODES) {
  describe(`generated Python client, ${mode} handlers`, { skip: pythonMissing, timeout: 120_000 }, () => {
    let server: TestServer;
    before(async () => {
      server = await startRpcServer(mode);
    });
    after(() => server.close());

    it("typed calls, errors, timeout, personal channel", async () => {
      checkPythonScenario(await pythonScenario(server));
    });
  });
}
