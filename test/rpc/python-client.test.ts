/**
 * The generated Python client (examples/tasks/clients/python) under Debian's /usr/bin/python3 with
 * python3-websockets, against a live Turbine serving the handlers in-process and through its RPC proxy:
 * test/rpc/python/scenario.py
 * makes two typed calls, meets an RPC error, client- and server-side validation errors, a clean timeout,
 * the personal channel and a refused connect.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateFiles, writeFiles } from "../../src/rpc/codegen/generate.js";
import { loadRpcRegistry } from "../../src/rpc/index.js";
import type { TestServer } from "../helpers/server.js";
import { EXAMPLE_HANDLERS, SERVING_MODES, startRpcServer } from "./live.js";
import { checkPythonScenario, pythonMissing, pythonScenario } from "./scenarios.js";

for (const mode of SERVING_MODES) {
  describe(`generated Python client, ${mode} handlers`, { skip: pythonMissing, timeout: 120_000 }, () => {
    let server: TestServer;
    let dataclasses: string;
    before(async () => {
      server = await startRpcServer(mode);
      dataclasses = mkdtempSync(join(tmpdir(), "turbine-py-dataclasses-"));
      const files = generateFiles(await loadRpcRegistry(EXAMPLE_HANDLERS), ["python"], {
        pythonModels: "dataclasses",
      });
      await writeFiles(dataclasses, files);
    });
    after(async () => {
      rmSync(dataclasses, { recursive: true, force: true });
      await server.close();
    });

    it("Pydantic models: typed calls, errors, timeout, personal channel, idempotent connect", async () => {
      checkPythonScenario(await pythonScenario(server), "pydantic");
    });

    it("dataclasses: typed calls, errors, timeout, personal channel, idempotent connect", async () => {
      checkPythonScenario(await pythonScenario(server, join(dataclasses, "python")), "dataclasses");
    });
  });
}
