/**
 * `client.user_connection_limit` over two in-process nodes joined through the IPC engine as the workers of one
 * Turbine are (each message structured-cloned, a later turn of the event loop): a connect that takes its place
 * and then fails for another reason gives the place back, so a user is never locked out by places nobody holds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IpcEngineClient } from "../../src/engine/ipc/client.js";
import { IpcEngineHost } from "../../src/engine/ipc/host.js";
import type { IpcFromWorker } from "../../src/engine/ipc/messages.js";
import { RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { until } from "../helpers/wait.js";
import { Backend } from "../proxy/backend.js";

/** A worker's engine attached to `host`. */
function workerEngine(host: IpcEngineHost): IpcEngineClient {
  const toHost: { handle?: (message: IpcFromWorker) => void } = {};
  const engine = new IpcEngineClient({
    send: (message) => setImmediate(() => toHost.handle?.(structuredClone(message) as IpcFromWorker)),
  });
  toHost.handle = host.attach({
    send: (message) => setImmediate(() => engine.receive(structuredClone(message))),
  }).handle;
  return engine;
}

describe("user connection limit over workers: places of failed connects", { timeout: 60_000 }, () => {
  let host: IpcEngineHost;
  let backend: Backend;
  let workers: TestServer[] = [];
  const sockets: RawClient[] = [];
  /** What the connect proxy answers next: a connection of "late" that expired before it connects, or a valid one. */
  let expired = false;

  const open = async (worker: TestServer) => {
    const socket = await RawClient.open(worker.url);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    host = await IpcEngineHost.start({ historyMetaTtlMs: 0 });
    backend = await Backend.start("http");
    backend.handler = () => ({
      json: { result: { user: "late", expire_at: Math.floor(Date.now() / 1000) + (expired ? -60 : 3600) } },
    });
    const config = {
      client: {
        token: { hmac_secret_key: hmacSecret },
        user_connection_limit: 1,
        proxy: { connect: { enabled: true, endpoint: backend.endpoint("Connect"), timeout: "5s" } },
      },
    };
    workers = [
      await startTestServer(config, workerEngine(host)),
      await startTestServer(config, workerEngine(host)),
    ];
  });
  after(async () => {
    for (const socket of sockets) await socket.terminate();
    await Promise.all(workers.map((worker) => worker.close()));
    await backend?.close();
    await host?.close();
  });

  it("gives the place back when the connection turns out expired (110)", async () => {
    expired = true;
    const refused = await (await open(workers[0]!)).call({ connect: {} });
    assert.equal(refused.error?.code, 110);
    expired = false;
    const admitted = await (await open(workers[1]!)).call({ connect: {} });
    assert.equal(admitted.error, undefined, "the expired connect held no place");
    const beyond = await open(workers[0]!);
    beyond.send({ id: 1, connect: {} });
    assert.equal((await beyond.expectClose()).code, 3504);
  });

  it("gives the place back when a server-side subscription fails (102)", async () => {
    const token = await connectToken("sub", { channels: ["nowhere:at-all"] });
    const refused = await (await open(workers[0]!)).call({ connect: { token } });
    assert.equal(refused.error?.code, 102);
    const admitted = await (await open(workers[1]!)).call({ connect: { token: await connectToken("sub") } });
    assert.equal(admitted.error, undefined, "the refused connect held no place");
  });

  it("gives the place back when the socket closed while the primary was asked", async () => {
    const token = await connectToken("gone");
    const leaving = await open(workers[0]!);
    leaving.send({ id: 1, connect: { token } });
    await leaving.terminate();
    // The place comes back once worker 0 has seen the socket go; until then a connect elsewhere is refused.
    const admittedOnWorker1 = async () => {
      const socket = await open(workers[1]!);
      return socket.call({ connect: { token } }).then(
        (reply) => reply.error === undefined,
        () => false,
      );
    };
    await until(admittedOnWorker1, "a connection of the same user admitted on worker 1");
  });
});
