/**
 * The generated Go client (examples/tasks/clients/go) built offline with Debian's golang-go and
 * golang-github-gorilla-websocket-dev (GOPATH mode), against a live Turbine serving the handlers in-process:
 * test/rpc/go/main.go makes two typed calls, meets an RPC error, a validation error, a clean timeout, both
 * variants of a union, the personal channel and a refused connect.
 */
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../helpers/server.js";
import { startRpcServer } from "./live.js";
import { checkGoScenario, goMissing, GoScenario } from "./scenarios.js";

describe("generated Go client, in-process handlers", { skip: goMissing, timeout: 240_000 }, () => {
  let server: TestServer;
  let go: GoScenario;
  before(async () => {
    go = await GoScenario.build();
    server = await startRpcServer();
  });
  after(async () => {
    await server?.close();
    go?.remove();
  });

  it("go vet passes on the generated client", async () => {
    await go.vet();
  });

  it("typed calls, errors, timeout, union variants, personal channel", async () => {
    checkGoScenario(await go.run(server));
  });
});
