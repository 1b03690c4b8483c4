/**
 * Admitted connections taken over a few per turn of the event loop (src/app/connection-limit.ts): every one
 * is taken over, in order, none in the turn it arrived, and a full queue refuses. Over real sockets: a burst
 * of upgrades all connect, and upgrades whose sockets are gone before their turn are skipped.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { TakeoverQueue } from "../../src/app/connection-limit.js";
import { RawClient } from "../helpers/raw.js";
import { startTestServer } from "../helpers/server.js";
import { until, within } from "../helpers/wait.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("TakeoverQueue", () => {
  it("takes every connection over once, in order, over several turns", async () => {
    const queue = new TakeoverQueue();
    const taken: number[] = [];
    for (let i = 0; i < 1000; i++)
      assert.equal(
        queue.add(() => taken.push(i)),
        true,
      );
    assert.deepEqual(taken, [], "none in the turn they arrived");
    await nextTurn();
    assert.ok(taken.length > 0 && taken.length <= 64, `${taken.length} in the first turn`);
    await until(
      () => taken.length === 1000,
      "every takeover",
      undefined,
      () => `${taken.length} taken`,
    );
    assert.deepEqual(
      taken,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it("lets in only a few per turn while many taken over have not connected yet", async () => {
    let connecting = 500;
    const queue = new TakeoverQueue(() => connecting);
    const taken: number[] = [];
    for (let i = 0; i < 100; i++) queue.add(() => taken.push(i));
    await nextTurn();
    assert.equal(taken.length, 4);
    connecting = 0;
    await until(
      () => taken.length === 100,
      "the rest once they connected",
      undefined,
      () => `${taken.length}`,
    );
  });

  it("refuses once its bound is reached, and takes more once it drained", async () => {
    const queue = new TakeoverQueue(() => 0, 3);
    let taken = 0;
    const added = [1, 2, 3, 4].map(() => queue.add(() => taken++));
    assert.deepEqual(added, [true, true, true, false]);
    await until(() => taken === 3, "the three queued takeovers");
    assert.equal(
      queue.add(() => taken++),
      true,
    );
    await until(() => taken === 4, "the takeover queued after draining");
  });
});

describe("upgrades taken over in turns", () => {
  it("connects a burst of clients, skipping the sockets closed while queued", async () => {
    const server = await startTestServer({ client: { insecure: true } });
    try {
      const abandoned = Array.from({ length: 50 }, () => abandonedUpgrade(server.port));
      const burst = await within(
        Promise.all(Array.from({ length: 200 }, () => RawClient.connected(server.url, ""))),
        "200 clients to connect at once",
      );
      await Promise.all(abandoned);
      const late = await RawClient.connected(server.url, "");
      assert.equal(server.server.node.hub.numClients, 201);
      await Promise.all([...burst, late].map((client) => client.terminate()));
    } finally {
      await server.close();
    }
  });
});

/** An upgrade request whose socket is destroyed right after it was sent. */
function abandonedUpgrade(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.end(
        "GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    socket.once("error", reject);
  });
}
