/**
 * The generated Go client (examples/tasks/clients/go) built offline with Debian's golang-go and
 * golang-github-gorilla-websocket-dev (GOPATH mode), against a live Turbine serving the handlers in-process and through its RPC proxy:
 * test/rpc/go/main.go makes two typed calls, meets an RPC error, a validation error, a clean timeout, both
 * variants of a union, the personal channel and a refused connect.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SERVING_MODES, startRpcServer } from "./live.js";
import { checkGoScenario, goMissing, GoScenario } from "./scenarios.js";

describe("generated Go client", { skip: goMissing, timeout: 300_000 }, () => {
  let go: GoScenario;
  before(async () => {
    go = await GoScenario.build();
  });
  after(() => go?.remove());

  it("go vet passes on the generated client, and it is gofmt-clean", async () => {
    assert.equal(await go.vet(), "");
  });

  for (const mode of SERVING_MODES) {
    it(`${mode} handlers: typed calls, errors, timeout, union variants, personal channel`, async () => {
      const server = await startRpcServer(mode);
      try {
        checkGoScenario(await go.run(server));
      } finally {
        await server.close();
      }
    });
  }
});
