/**
 * Many clients sending their `connect` at once over real sockets, as in a reconnect storm: the node spreads
 * their frames over turns (src/core/frame-budget.ts; here with a budget of 0 ms, so that frames surely wait) and
 * every client still gets its connect reply, then the replies to the frames it sent behind it, in order.
 * Timings are not asserted; the storm bench measures them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FrameBudget } from "../../src/core/frame-budget.js";
import { RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { within } from "../helpers/wait.js";

const CLIENTS = 300;

/** A budget of 0 ms, so that a turn's frames after its first wait for later turns, counting those that waited. */
class CountingBudget extends FrameBudget {
  deferred = 0;

  constructor() {
    super(0);
  }

  override admit(): Promise<void> | undefined {
    const waiting = super.admit();
    if (waiting !== undefined) this.deferred++;
    return waiting;
  }
}
/** Generous: hundreds of sockets on a shared 2-core machine. */
const REPLY_WAIT_MS = 60_000;

describe("many clients connecting at once", () => {
  let server: TestServer;
  const budget = new CountingBudget();
  const clients: RawClient[] = [];

  before(async () => {
    server = await startTestServer(
      {
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: {
          namespaces: [
            {
              name: "room",
              allow_subscribe_for_client: true,
              allow_history_for_subscriber: true,
              history_size: 10,
              history_ttl: "60s",
            },
          ],
        },
      },
      undefined,
      { frameBudget: budget },
    );
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await server.close();
  });

  it("get every connect reply, then the replies to the frames behind it in order", async () => {
    const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connectToken(`user-${i}`)));
    const opened = await within(
      Promise.all(tokens.map(() => RawClient.open(server.url, { timeoutMs: REPLY_WAIT_MS }))),
      `${CLIENTS} sockets to open`,
      REPLY_WAIT_MS,
    );
    clients.push(...opened);

    // Every client's frames are sent before any is answered: connect, then a subscribe and a history
    // request in frames of their own, which only succeed if they run after the connect.
    const ids = opened.map((client, i) => {
      const [connect, subscribe, history] = [client.id(), client.id(), client.id()];
      client.send({ id: connect, connect: { token: tokens[i], name: "raw" } });
      client.send({ id: subscribe, subscribe: { channel: `room:${i % 10}` } });
      client.send({ id: history, history: { channel: `room:${i % 10}`, limit: 0 } });
      return [connect, subscribe, history];
    });

    const answered = await Promise.all(
      opened.map((client, i) => Promise.all((ids[i] as number[]).map((id) => client.reply(id)))),
    );
    for (const [i, replies] of answered.entries()) {
      const [connect, subscribe, history] = replies;
      assert.equal(connect?.error, undefined, `client ${i}'s connect`);
      assert.ok(connect?.connect, `client ${i}'s connect reply`);
      assert.equal(subscribe?.error, undefined, `client ${i}'s subscribe, after its connect`);
      assert.equal(history?.error, undefined, `client ${i}'s history request, after its subscribe`);
      const order = (ids[i] as number[]).map((id) => opened[i]?.replies.findIndex((r) => r.id === id));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => (a ?? 0) - (b ?? 0)),
        `client ${i}'s replies in order`,
      );
    }
    assert.ok(budget.deferred > 0, "some frames waited for a later turn");
    assert.equal(budget.queued, 0, "no frame left waiting");
  });
});
