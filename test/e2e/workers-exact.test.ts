/**
 * What one node counts stays exact across the workers of one Turbine (memory engine, 2 workers): a user's
 * connections against `client.user_connection_limit` (one limit over both workers, as one Centrifugo node
 * counts it), and the server API `info` and `channels` right after a connect or subscribe, with no wait for
 * the workers' periodic announcements, and `/metrics`' node gauges counting a user or channel on both workers
 * once. The official client over real sockets, the HTTP API and `/metrics` only. The port hands connections to
 * the workers in turn, so connections opened one after the other alternate workers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge } from "centrifuge";
import { apiConfig, HttpApiCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { hmacSecret } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const LIMIT = 3;

interface NodeInfo {
  uid: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs: number;
}

/** The pids of the workers the primary reported started, in order. */
function workerPids(server: TurbineProcess): number[] {
  return server.log
    .split("\n")
    .filter((line) => line.includes('"worker started"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

describe("workers: 2, one node's counts over both workers", { timeout: 240_000 }, () => {
  let server: TurbineProcess;
  let api: HttpApiCaller;
  const clients: Centrifuge[] = [];

  const newUserClient = async (user: string) => {
    const client = newClient(server.url, "json", { token: await connectToken(user) });
    clients.push(client);
    return client;
  };
  /** A connected client of `user`; consecutive calls land on alternate workers. */
  const connect = async (user: string) => {
    const client = await newUserClient(user);
    client.connect();
    await within(client.ready(), `${user} connected`);
    return client;
  };
  const subscribed = async (client: Centrifuge, channel: string) => {
    const sub = client.newSubscription(channel);
    sub.subscribe();
    await within(sub.ready(), `the subscription to ${channel}`);
  };
  const call = async <T>(method: string, body: unknown): Promise<T> => {
    const { json } = await api.call(method, body);
    const { result, error } = json as { result?: T; error?: unknown };
    assert.equal(error, undefined, `${method}: ${JSON.stringify(error)}`);
    return result as T;
  };
  const info = async () => {
    const { nodes } = await call<{ nodes: NodeInfo[] }>("info", {});
    assert.equal(nodes.length, 1, `the workers are one node: ${JSON.stringify(nodes)}`);
    return nodes[0]!;
  };
  const channels = async (pattern: string) =>
    (await call<{ channels: Record<string, { num_clients: number }> }>("channels", { pattern })).channels;
  /** A connect of `user` refused: the disconnect the client was told. */
  const refused = async (user: string) => {
    const client = await newUserClient(user);
    const disconnected = once<{ code: number; reason: string }>(client, "disconnected", `${user} refused`);
    client.connect();
    return within(disconnected, `${user}'s connect refused`);
  };

  before(async () => {
    server = await TurbineProcess.start({
      workers: "2",
      client: { token: { hmac_secret_key: hmacSecret }, user_connection_limit: LIMIT },
      channel: { namespaces: [{ name: "exact", allow_subscribe_for_client: true }] },
      prometheus: { enabled: true },
      ...apiConfig,
    });
    await until(() => workerPids(server).length === 2, "both workers started", 60_000);
    api = new HttpApiCaller(server.port);
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  it("answers info and channels with both workers' live counts, right after connects and subscribes", async () => {
    const start = await info();
    const [ivanA, ivanB] = [await connect("ivan"), await connect("ivan")];
    const jane = await connect("jane");
    const connected = await info();
    assert.deepEqual(
      [connected.num_clients - start.num_clients, connected.num_users - start.num_users],
      [3, 2],
      "three clients of two users, one of them on both workers",
    );
    await subscribed(ivanA, "exact:a");
    await subscribed(ivanB, "exact:a");
    await subscribed(ivanB, "exact:b");
    await subscribed(jane, "exact:b");
    await subscribed(jane, "exact:c");
    const now = await info();
    assert.deepEqual(
      [now.num_channels - start.num_channels, now.num_subs - start.num_subs],
      [3, 5],
      "three channels, five subscriptions",
    );
    assert.equal(now.uid, start.uid, "the same node whichever worker answers");
    assert.deepEqual(await channels("exact:*"), {
      "exact:a": { num_clients: 2 },
      "exact:b": { num_clients: 2 },
      "exact:c": { num_clients: 1 },
    });
    assert.deepEqual(await channels("exact:[ab]"), {
      "exact:a": { num_clients: 2 },
      "exact:b": { num_clients: 2 },
    });
    assert.deepEqual(await channels("nothing:*"), {});
  });

  it("reports /metrics' node gauges as one node: a user or channel on both workers counts once", async () => {
    const gauges = ["num_clients", "num_users", "num_channels", "num_subscriptions"] as const;
    /** The node gauges of one scrape, whichever worker it reaches. */
    const scrape = async () => {
      const res = await within(fetch(`http://127.0.0.1:${server.port}/metrics`), "a /metrics scrape");
      const text = await within(res.text(), "the /metrics body");
      return gauges.map((name) => {
        const value = new RegExp(`^centrifugo_node_${name} (\\d+)$`, "m").exec(text)?.[1];
        assert.ok(value !== undefined, `centrifugo_node_${name} in the scrape`);
        return Number(value);
      });
    };
    const start = await scrape();
    const [miaA, miaB] = [await connect("mia"), await connect("mia")];
    const noa = await connect("noa");
    await subscribed(miaA, "exact:m");
    await subscribed(miaB, "exact:m");
    await subscribed(noa, "exact:m");
    await subscribed(noa, "exact:n");
    // Scrapes alternate workers too: each answers for the whole node.
    for (let i = 0; i < 4; i++) {
      const now = await scrape();
      assert.deepEqual(
        now.map((value, g) => value - start[g]!),
        [3, 2, 2, 4],
        "3 clients of 2 users (mia on both workers), 2 channels (exact:m on both), 4 subscriptions",
      );
    }
    const { num_users, num_channels } = await info();
    const [, users, channels] = await scrape();
    assert.deepEqual([users, channels], [num_users, num_channels], "/metrics agrees with info");
  });

  it("refuses a user's connection beyond the limit over both workers with 3504, as one node does", async () => {
    const own = [await connect("una"), await connect("una"), await connect("una")];
    const refusal = await refused("una");
    assert.deepEqual({ ...refusal }, { code: 3504, reason: "connection limit" });
    assert.equal((await connect("vera")).state, "connected", "another user is not limited by una's");

    // A closed connection's place is free again once the server has seen it go.
    const before = await info();
    own[0]!.disconnect();
    await until(async () => (await info()).num_clients === before.num_clients - 1, "una's connection closed");
    own[0] = await connect("una");
    assert.equal((await refused("una")).code, 3504, "the limit is reached again");
  });

  it("frees a killed worker's places at once: its clients reconnect to the other one", async () => {
    const own = [await connect("walt"), await connect("walt"), await connect("walt")];
    assert.equal((await refused("walt")).code, 3504);
    // A reconnect refused would end in `disconnected` (3504 does not reconnect); a transport lost, in `connecting`.
    const disconnects = own.map(() => 0);
    own.forEach((client, i) => client.on("disconnected", () => disconnects[i]!++));
    const hit = own.map(() => false);
    own.forEach((client, i) =>
      client.on("connecting", (ctx) => {
        if (ctx.code !== 0) hit[i] = true;
      }),
    );
    const [victim] = workerPids(server);
    process.kill(victim!, "SIGKILL");
    await until(() => hit.some(Boolean), "the killed worker's clients reconnecting", 30_000);
    await until(
      () => own.every((client) => client.state === "connected"),
      "every client of walt connected again, none refused",
      30_000,
      () => own.map((client) => client.state).join(", "),
    );
    assert.ok(hit.filter(Boolean).length < LIMIT, `walt's clients on the killed worker: ${hit.join(", ")}`);
    assert.deepEqual(disconnects, [0, 0, 0], "no client of walt was refused on reconnecting");
    assert.equal((await refused("walt")).code, 3504, "the limit still holds over the workers left");
  });
});
