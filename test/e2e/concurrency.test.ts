/**
 * `client.concurrency`: with N > 1 up to N commands of one connection run at once after connect, replies
 * matched by id; a subscribe no longer waits behind a slow RPC. With 0 commands run one at a time in order.
 * The slow commands are proxied to a backend the test holds, so nothing here depends on timings.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge } from "centrifuge";
import { decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { Backend, type BackendReply, type ProxyCall } from "../proxy/backend.js";
import { within } from "../helpers/wait.js";

const encodings: Encoding[] = ["json", "protobuf"];

/** How long a command that must wait is given to (wrongly) finish before the test lets it go. */
const GRACE_MS = 300;

/** Proxied calls the backend answers only when the test says so, by RPC method or subscribe channel. */
class HeldBackend {
  private readonly releases = new Map<string, () => void>();
  private readonly arrivals = new Map<string, () => void>();

  constructor(readonly backend: Backend) {
    backend.handler = (call) => this.answer(call);
  }

  /** Resolves once the call for `key` reached the backend. */
  arrived(key: string): Promise<void> {
    if (this.releases.has(key)) return Promise.resolve();
    const arrived = new Promise<void>((resolve) => this.arrivals.set(key, resolve));
    return within(
      arrived,
      `the ${key} call to reach the backend`,
      undefined,
      () => `held: ${[...this.releases.keys()].join(", ")}`,
    );
  }

  /** Let the call for `key` answer. */
  release(key: string): void {
    const release = this.releases.get(key);
    assert.ok(release !== undefined, `no held call for ${key}`);
    release();
  }

  private answer(call: ProxyCall): Promise<BackendReply> {
    const key = String(call.kind === "RPC" ? call.body.method : call.body.channel);
    const json = call.kind === "RPC" ? { result: { data: { method: key } } } : { result: {} };
    return new Promise((resolve) => {
      this.releases.set(key, () => resolve({ json }));
      this.arrivals.get(key)?.();
    });
  }
}

function config(backend: Backend, concurrency: number): Record<string, unknown> {
  return {
    client: { concurrency, token: { hmac_secret_key: hmacSecret } },
    channel: {
      without_namespace: { allow_subscribe_for_client: true },
      proxy: { subscribe: { endpoint: backend.endpoint("Subscribe"), timeout: "20s" } },
      namespaces: [{ name: "px", subscribe_proxy_enabled: true }],
    },
    rpc: {
      proxy: { endpoint: backend.endpoint("RPC"), timeout: "20s" },
      without_namespace: { proxy_enabled: true },
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("client.concurrency", { timeout: 60_000 }, () => {
  let held: HeldBackend;
  let overlapping: TestServer;
  let sequential: TestServer;
  const clients: Centrifuge[] = [];
  const raws: RawClient[] = [];

  before(async () => {
    held = new HeldBackend(await Backend.start("http"));
    overlapping = await startTestServer(config(held.backend, 2));
    sequential = await startTestServer(config(held.backend, 0));
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    for (const raw of raws) await raw.terminate();
    await overlapping.close();
    await sequential.close();
    await held.backend.close();
  });

  async function connected(server: TestServer, encoding: Encoding, user: string): Promise<Centrifuge> {
    const client = newClient(server.url, encoding, { token: await connectToken(user) });
    clients.push(client);
    const ready = once(client, "connected");
    client.connect();
    await ready;
    return client;
  }

  async function raw(server: TestServer, user: string): Promise<RawClient> {
    const client = await RawClient.connected(server.url, await connectToken(user), { timeoutMs: 20_000 });
    raws.push(client);
    return client;
  }

  for (const encoding of encodings) {
    it(`with 2, a subscribe sent after a slow RPC completes first (${encoding})`, async () => {
      const client = await connected(overlapping, encoding, `over-${encoding}`);
      const method = `slow-over-${encoding}`;
      const order: string[] = [];
      const rpc = client.rpc(method, {}).then((result) => {
        order.push("rpc");
        return result;
      });
      await held.arrived(method);
      const sub = client.newSubscription(`room-over-${encoding}`);
      const subscribed = once(sub, "subscribed").then(() => order.push("subscribed"));
      sub.subscribe();
      // The RPC is answered only after the subscribe: if the subscribe waited for it, this would hang.
      await subscribed;
      held.release(method);
      assert.deepEqual(decoded(encoding, (await rpc).data), { method });
      assert.deepEqual(order, ["subscribed", "rpc"]);
    });

    it(`with 0, a subscribe sent after a slow RPC waits for it (${encoding})`, async () => {
      const client = await connected(sequential, encoding, `seq-${encoding}`);
      const method = `slow-seq-${encoding}`;
      const order: string[] = [];
      const rpc = client.rpc(method, {}).then(() => order.push("rpc"));
      await held.arrived(method);
      const sub = client.newSubscription(`room-seq-${encoding}`);
      const subscribed = once(sub, "subscribed").then(() => order.push("subscribed"));
      sub.subscribe();
      await sleep(GRACE_MS);
      assert.deepEqual(order, [], "nothing answered while the RPC is held");
      held.release(method);
      await Promise.all([rpc, subscribed]);
      assert.deepEqual(order, ["rpc", "subscribed"]);
    });
  }

  it("with 2, a third command of one frame waits for a free slot; replies go out as commands finish", async () => {
    const client = await raw(overlapping, "bounded");
    const [first, second, third] = [client.id(), client.id(), client.id()];
    client.sendCommands(
      { id: first, rpc: { method: "held-1" } },
      { id: second, rpc: { method: "held-2" } },
      { id: third, subscribe: { channel: "bounded-room" } },
    );
    await Promise.all([held.arrived("held-1"), held.arrived("held-2")]);
    await sleep(GRACE_MS);
    assert.equal(client.replies.filter((reply) => reply.id === third).length, 0, "no free slot yet");
    held.release("held-2");
    await client.reply(third);
    held.release("held-1");
    await client.reply(first);
    assert.deepEqual(
      client.replies.filter((reply) => reply.id !== undefined).map((reply) => reply.id),
      [1, second, third, first],
    );
  });

  it("with 2, a second subscribe to a channel being subscribed is 105, and an unsubscribe waits for the first", async () => {
    const client = await raw(overlapping, "reserved");
    const [subscribe, again, unsubscribe] = [client.id(), client.id(), client.id()];
    client.sendCommands(
      { id: subscribe, subscribe: { channel: "px:reserved" } },
      { id: again, subscribe: { channel: "px:reserved" } },
      { id: unsubscribe, unsubscribe: { channel: "px:reserved" } },
    );
    assert.equal((await client.reply(again)).error?.code, 105);
    await held.arrived("px:reserved");
    await sleep(GRACE_MS);
    assert.equal(client.replies.filter((reply) => reply.id === unsubscribe).length, 0, "unsubscribe waits");
    held.release("px:reserved");
    assert.equal((await client.reply(subscribe)).error, undefined);
    assert.equal((await client.reply(unsubscribe)).error, undefined);
    const ids = client.replies.filter((reply) => reply.id !== undefined).map((reply) => reply.id);
    assert.deepEqual(ids, [1, again, subscribe, unsubscribe]);
    assert.ok(client.isOpen);
  });
});
