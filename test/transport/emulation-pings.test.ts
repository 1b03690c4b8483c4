/**
 * App-level pings on a raw HTTP-streaming session, as on a WebSocket: the server sends `{}` on the stream, the
 * client answers `{}` through `/emulation`; a client that never answers is closed with 3012 (no pong).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { SERVER_TIMEOUTS } from "../../src/app/listeners.js";
import { emulationConfig } from "../helpers/emulation.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** The lines of one raw JSON HTTP-streaming response, read one at a time. */
class RawStream {
  private readonly lines: string[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;

  constructor(port: number, body: string) {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/connection/http_stream" },
      (res) => {
        let partial = "";
        res.on("data", (chunk: Buffer) => {
          const parts = (partial + chunk.toString()).split("\n");
          partial = parts.pop() ?? "";
          this.lines.push(...parts);
          this.wake();
        });
        res.on("end", () => {
          this.ended = true;
          this.wake();
        });
      },
    );
    req.end(body);
  }

  /** The next line; undefined once the server ended the stream. */
  async next(what: string): Promise<string | undefined> {
    while (this.lines.length === 0 && !this.ended) {
      await within(new Promise<void>((resolve) => (this.waiting = resolve)), what);
    }
    return this.lines.shift();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

describe("pings on an emulated session", { timeout: 60_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      ...emulationConfig,
      client: { ...emulationConfig.client, ping_interval: "1s", pong_timeout: "500ms" },
    });
  });
  after(() => server?.close());

  async function connected(user: string): Promise<{ stream: RawStream; session: string; node: string }> {
    const token = await connectToken(user);
    const stream = new RawStream(server.port, `${JSON.stringify({ id: 1, connect: { token } })}\n`);
    const reply = JSON.parse((await stream.next("the connect reply")) ?? "{}") as {
      connect?: { session: string; node: string; ping: number; pong: boolean };
    };
    assert.ok(reply.connect !== undefined, "a connect reply");
    assert.equal(reply.connect.pong, true, "the client is told to answer pings");
    return { stream, session: reply.connect.session, node: reply.connect.node };
  }

  it("stays connected while the client answers pings through /emulation", async () => {
    const { stream, session, node } = await connected("ponger");
    for (let ping = 1; ping <= 3; ping++) {
      assert.equal(await stream.next(`ping ${ping}`), "{}");
      const pong = await fetch(`http://127.0.0.1:${server.port}/emulation`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ node, session, data: "{}" }),
      });
      assert.equal(pong.status, 204);
    }
    assert.equal(server.server.node.hub.userClients("ponger").size, 1);
  });

  it("closes a client that never answers with a 3012 disconnect push", async () => {
    const { stream } = await connected("silent");
    assert.equal(await stream.next("the ping"), "{}");
    const last = await stream.next("the disconnect push");
    assert.deepEqual(JSON.parse(last ?? "{}"), { push: { disconnect: { code: 3012, reason: "no pong" } } });
    assert.equal(await stream.next("the end of the stream"), undefined);
  });
});

describe("an idle emulated stream", { timeout: 60_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(emulationConfig);
  });
  after(() => server?.close());

  it("outlives the listener's write timeout between messages", async () => {
    const token = await connectToken("idle", { channels: ["chat:idle"] });
    const stream = new RawStream(server.port, `${JSON.stringify({ id: 1, connect: { token } })}\n`);
    assert.match((await stream.next("the connect reply")) ?? "", /"connect"/);
    await new Promise((resolve) => setTimeout(resolve, SERVER_TIMEOUTS.writeMs + 1000));
    await server.server.node.publish("chat:idle", new TextEncoder().encode('{"after":"idle"}'));
    assert.match((await stream.next("the publication after the idle time")) ?? "", /"after":"idle"/);
  });
});

describe("a server shutting down", { timeout: 60_000 }, () => {
  it("ends each emulated stream with a 3001 disconnect push", async () => {
    const server = await startTestServer(emulationConfig);
    try {
      const token = await connectToken("leaving");
      const stream = new RawStream(server.port, `${JSON.stringify({ id: 1, connect: { token } })}\n`);
      assert.match((await stream.next("the connect reply")) ?? "", /"connect"/);
      const closed = server.close();
      assert.deepEqual(JSON.parse((await stream.next("the disconnect push")) ?? "{}"), {
        push: { disconnect: { code: 3001, reason: "shutdown" } },
      });
      assert.equal(await stream.next("the end of the stream"), undefined);
      await within(closed, "the server closed");
    } finally {
      await server.close();
    }
  });
});
