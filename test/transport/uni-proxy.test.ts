/**
 * The connect proxy sees each unidirectional transport by its upstream name, gets the HTTP headers listed in
 * `http_headers` from HTTP transports and the GRPC metadata listed in `grpc_metadata` from uni_grpc, and its
 * result's channels become server-side subscriptions.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Metadata } from "@grpc/grpc-js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import {
  kindOf,
  openUni,
  type PushQueue,
  uniStreamStub,
  uniTransports,
  type UniPush,
} from "../helpers/uni.js";

interface ProxyCall {
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

describe("unidirectional clients through the connect proxy", () => {
  let backend: Server;
  let server: TestServer;
  const calls: ProxyCall[] = [];
  const open: PushQueue[] = [];

  before(async () => {
    backend = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        calls.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ result: { user: "proxied", channels: ["news:proxied"] } }));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/connect`;
    server = await startTestServer({
      client: {
        proxy: {
          connect: { enabled: true, endpoint, http_headers: ["x-tenant"], grpc_metadata: ["x-tenant"] },
        },
      },
      channel: { namespaces: [{ name: "news" }] },
      uni_http_stream: { enabled: true },
      uni_sse: { enabled: true },
      uni_websocket: { enabled: true },
      uni_grpc: { enabled: true, address: "127.0.0.1", port: 0 },
    });
  });
  after(async () => {
    for (const queue of open) queue.stop();
    await server.close();
    backend.close();
  });

  function lastCall(): ProxyCall {
    const call = calls.at(-1);
    assert.ok(call !== undefined, "the proxy was called");
    return call;
  }

  for (const transport of uniTransports) {
    it(`${transport}: the proxy sees transport "${transport}"; its channels are subscribed`, async () => {
      const queue = openUni(transport, { httpPort: server.port, grpcPort: server.server.uniGrpcPort }, {});
      open.push(queue);
      const push = await queue.next("the connect push");
      assert.equal(kindOf(push), "connect");
      assert.deepEqual(Object.keys((push.connect as { subs: object }).subs), ["news:proxied"]);
      assert.equal(lastCall().body.transport, transport);
      assert.equal(lastCall().body.protocol, transport === "uni_grpc" ? "protobuf" : "json");
    });
  }

  it("uni_http_stream forwards the HTTP headers http_headers lists", async () => {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.port}/connection/uni_http_stream`, {
      method: "POST",
      body: "{}",
      headers: { "X-Tenant": "acme", "X-Other": "no" },
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    assert.ok(reader !== undefined, "a streamed body");
    await within(reader.read(), "the connect push");
    controller.abort();
    assert.equal(lastCall().headers["x-tenant"], "acme");
    assert.equal(lastCall().headers["x-other"], undefined);
  });

  it("uni_grpc forwards the metadata grpc_metadata lists", async () => {
    const stub = uniStreamStub(`127.0.0.1:${server.server.uniGrpcPort}`);
    const metadata = new Metadata();
    metadata.set("x-tenant", "acme");
    metadata.set("x-other", "no");
    const call = (stub.Consume as (req: unknown, md: Metadata) => ReturnType<typeof stub.Consume>)(
      {},
      metadata,
    );
    const first = await within(
      new Promise<UniPush>((resolve) => call.once("data", resolve)),
      "the connect push",
    );
    call.on("error", () => undefined);
    call.cancel();
    stub.close();
    assert.equal(kindOf(first), "connect");
    assert.equal(lastCall().headers["x-tenant"], "acme");
    assert.equal(lastCall().headers["x-other"], undefined);
  });
});
