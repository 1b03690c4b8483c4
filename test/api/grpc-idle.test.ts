/**
 * Idle connections to the GRPC API port are closed (issue 18 item 6): one that never sends a byte, one that
 * sends the HTTP/2 preface and then nothing, and one whose last call finished. The idle limit is shortened
 * here; it is 120 s by default.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { ApiExecutor } from "../../src/api/executor.js";
import { GrpcApiServer } from "../../src/api/grpc.js";
import { loadConfig } from "../../src/index.js";
import { closeGrpcClients, GrpcApiCaller, grpcApiConfig } from "../helpers/grpc.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";

/** The client connection preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5). */
const PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

describe("GRPC API idle connections", { timeout: 30_000 }, () => {
  let server: TestServer;
  let grpc: GrpcApiServer;

  before(async () => {
    server = await startTestServer();
    const { config } = loadConfig({ values: grpcApiConfig, env: {} });
    grpc = await GrpcApiServer.start(
      new ApiExecutor(server.server.node),
      config.grpc_api,
      pino({ level: "silent" }),
      { idleMs: 300 },
    );
  });
  after(async () => {
    closeGrpcClients();
    await grpc?.close(0);
    await server?.close();
  });

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(grpc.port, "127.0.0.1", () => resolve(socket));
      socket.on("error", reject);
    });
  }

  function closed(socket: Socket): Promise<void> {
    return new Promise((resolve) => {
      socket.resume();
      socket.once("close", () => resolve());
    });
  }

  it("closes a connection that never sends a byte", async () => {
    const sockets = await Promise.all([open(), open(), open()]);
    await within(Promise.all(sockets.map(closed)), "the silent connections to be closed");
  });

  it("closes a connection that sent the HTTP/2 preface and then nothing", async () => {
    const socket = await open();
    socket.write(PREFACE);
    await within(closed(socket), "the idle HTTP/2 connection to be closed");
  });

  it("serves calls, and a client reconnects after its idle connection was closed", async () => {
    const caller = new GrpcApiCaller(grpc.port);
    assert.equal((await caller.call("info", {})).status, 200);
    await within(waitForIdle(caller), "the client's connection to go idle");
    assert.equal((await caller.call("info", {})).status, 200);
  });
});

/** Resolves once the channel left READY: the server closed its idle connection. */
async function waitForIdle(caller: GrpcApiCaller): Promise<void> {
  const channel = caller.client.getChannel();
  let state = channel.getConnectivityState(false);
  while (state === 2 /* READY */) {
    await new Promise<void>((resolve) => channel.watchConnectivityState(state, Infinity, () => resolve()));
    state = channel.getConnectivityState(false);
  }
}
