/**
 * src/api/http.ts on a real socket: the legacy route answers 503 once the handler is closing (as upstream's
 * once its node shuts down, while the per-method routes keep serving), and a failure outside any API error
 * becomes a 500 without taking the server down.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ApiExecutor } from "../../src/api/executor.js";
import { HttpApiHandler } from "../../src/api/http.js";
import { loadConfig } from "../../src/config/index.js";
import { Node } from "../../src/core/node.js";
import { MemoryBroker } from "../../src/engine/memory/broker.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import { rawRequest } from "../helpers/api.js";
import { within } from "../helpers/wait.js";

const config = loadConfig({ values: { http_api: { insecure: true } }, env: {} }).config;
const logged: string[] = [];
const logger = pino(
  { level: "error" },
  new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      logged.push(chunk.toString());
      done();
    },
  }),
);

/** An executor whose `info` fails as no API method should: with an exception instead of an API error. */
class BrokenInfoExecutor extends ApiExecutor {
  override info(): never {
    throw new Error("internal failure for the test");
  }
}

describe("HTTP API failures", () => {
  const node = new Node({
    name: "http-failures",
    version: "0.0.0",
    client: config.client,
    channel: config.channel,
    rpc: config.rpc,
    broker: new MemoryBroker(),
    presenceManager: new MemoryPresenceManager(),
    logger,
  });
  const handler = new HttpApiHandler(new BrokenInfoExecutor(node), config.http_api, logger);
  let server: Server;
  let port = 0;

  before(async () => {
    await node.start();
    server = createServer((req, res) => {
      if (!handler.handle(req, res)) res.writeHead(404).end();
    });
    await within(
      new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)),
      "the API server to listen",
    );
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await node.shutdown(100);
  });

  const call = (path: string, body: string) =>
    within(rawRequest(port, path, { body }), `the answer to ${path}`);

  it("answers 500 to a method that throws, logs it, and keeps serving", async () => {
    const res = await call("/api/info", "{}");
    assert.equal(res.status, 500);
    assert.equal(res.text, "Internal Server Error\n", "as Go's http.Error writes it");
    assert.ok(
      logged.some((line) => line.includes("error serving API request")),
      logged.join(""),
    );
    assert.equal((await call("/api/publish", '{"channel":"c","data":{}}')).status, 200);
  });

  it("answers 503 on the legacy route once closing, and still serves the method routes", async () => {
    const legacy = '{"method":"publish","params":{"channel":"c","data":{}}}';
    assert.equal((await call("/api", legacy)).status, 200);
    handler.close();
    assert.equal((await call("/api", legacy)).status, 503);
    assert.equal((await call("/api/publish", '{"channel":"c","data":{}}')).status, 200);
  });
});
