/**
 * `workers: 2` with the memory engine: the official client over real sockets to one port that two worker
 * processes share, the primary holding the one engine. A single node's semantics hold across workers, a
 * worker killed mid-stream is replaced while its clients recover on the other, and SIGUSR2 restarts every
 * worker without losing a publication.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, Subscription } from "centrifuge";
import { apiConfig, failedInTransport, HttpApiCaller } from "../helpers/api.js";
import { newClient } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { hmacSecret } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const CHANNEL = "room:workers";
const config = {
  workers: "2",
  prometheus: { enabled: true },
  client: { token: { hmac_secret_key: hmacSecret } },
  channel: {
    namespaces: [
      {
        name: "room",
        presence: true,
        history_size: 1000,
        history_ttl: "300s",
        force_recovery: true,
        allow_subscribe_for_client: true,
      },
    ],
  },
  ...apiConfig,
};

/** One client of the test: what it received, and whether it ever lost its connection. */
class Member {
  readonly offsets: number[] = [];
  disconnects = 0;
  recoveries = 0;
  readonly subscription: Subscription;

  private constructor(
    readonly user: string,
    readonly client: Centrifuge,
  ) {
    this.subscription = client.newSubscription(CHANNEL);
    this.subscription.on("publication", (ctx: PublicationContext) => this.offsets.push(Number(ctx.offset)));
    this.subscription.on("subscribed", (ctx) => {
      if (ctx.wasRecovering && ctx.recovered) this.recoveries++;
    });
    client.on("disconnected", () => this.disconnects++);
    client.on("connecting", (ctx) => {
      if (ctx.code !== 0) this.disconnects++;
    });
  }

  static async join(url: string, user: string): Promise<Member> {
    const member = new Member(user, newClient(url, "json", { token: await connectToken(user) }));
    member.client.connect();
    member.subscription.subscribe();
    await within(member.subscription.ready(), `${user} subscribed`);
    return member;
  }

  /** Whether it holds every offset from 1 to `last`, each once, in order. */
  holdsAll(last: number): boolean {
    return this.offsets.length === last && this.offsets.every((offset, i) => offset === i + 1);
  }
}

/** The pids of the workers the primary reported started, in order. */
function workerPids(server: TurbineProcess): number[] {
  return server.log
    .split("\n")
    .filter((line) => line.includes('"worker started"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

describe("workers: 2 with the memory engine", { timeout: 240_000 }, () => {
  let server: TurbineProcess;
  let api: HttpApiCaller;
  let members: Member[] = [];
  let published = 0;

  /**
   * Publish the next message. A kept-alive API connection to a worker that just died fails, and a new one that
   * node:cluster handed to it as it died is never answered: the call is retried on a new connection, its
   * idempotency key making sure it is published once.
   */
  const publish = async () => {
    const n = published + 1;
    const body = { channel: CHANNEL, data: { n }, idempotency_key: `message-${n}` };
    for (let attempt = 1; ; attempt++) {
      try {
        const { json } = await api.call("publish", body, { timeoutMs: 5000 });
        assert.equal((json as { error?: unknown }).error, undefined);
        break;
      } catch (err) {
        if (!failedInTransport(err) || attempt === 5) throw err;
      }
    }
    published = n;
  };
  const everyoneHolds = (what: string) =>
    until(() => members.every((member) => member.holdsAll(published)), what, 30_000);

  before(async () => {
    server = await TurbineProcess.start(config);
    await until(() => workerPids(server).length === 2, "both workers started", 60_000);
    api = new HttpApiCaller(server.port);
    // The port hands connections to the workers in turn: four clients, two on each.
    for (let i = 0; i < 4; i++) members.push(await Member.join(server.url, `user-${i}`));
  });
  after(async () => {
    for (const member of members) member.client.disconnect();
    members = [];
    await server?.stop();
  });

  it("serves one node's semantics: one offset sequence, one presence set, one node in info", async () => {
    for (let i = 0; i < 5; i++) await publish();
    await everyoneHolds("every client to receive offsets 1 to 5");
    const { json } = await api.call("presence", { channel: CHANNEL });
    const clients = Object.keys((json as { result: { presence: object } }).result.presence);
    assert.equal(clients.length, 4);
    // The workers are one node, its counts surveyed from both at once.
    assert.deepEqual(await clientsPerNode(), [4], "info shows one node with the four clients");
  });

  it("serves every worker's metrics summed, whichever worker a scrape reaches", async () => {
    for (let scrape = 0; scrape < 4; scrape++) {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /^centrifugo_node_num_clients 4$/m);
      assert.match(text, /^centrifugo_node_num_nodes 1$/m, "the workers are one node");
      assert.match(text, /^centrifugo_node_build\{version="[^"]+"\} 1$/m);
    }
  });

  it("disconnects a user wherever its connection is", async () => {
    for (const member of members) {
      const disconnected = new Promise((resolve) => member.client.once("disconnected", resolve));
      const { json } = await api.call("disconnect", {
        user: member.user,
        disconnect: { code: 4500, reason: "bye" },
      });
      assert.equal((json as { error?: unknown }).error, undefined);
      await within(disconnected, `${member.user} disconnected by the API`);
    }
    for (const member of members) {
      member.disconnects = 0;
      member.client.connect();
      await within(member.subscription.ready(), `${member.user} subscribed again`);
    }
  });

  it("replaces a killed worker; its clients recover on the other, the others never notice", async () => {
    const [victim] = workerPids(server);
    process.kill(victim!, "SIGKILL");
    for (let i = 0; i < 5; i++) await publish();
    await everyoneHolds("every client to hold every publication after the crash");
    const hit = members.filter((member) => member.disconnects > 0);
    assert.ok(hit.length > 0 && hit.length < members.length, `clients of one worker only: ${hit.length}`);
    assert.ok(
      hit.every((member) => member.recoveries > 0),
      "the killed worker's clients recovered",
    );
    await until(() => workerPids(server).length === 3, "a replacement worker started", 60_000);
  });

  it("restarts every worker one by one on SIGUSR2 without losing a publication", async () => {
    const before = workerPids(server).length;
    process.kill(server.pid, "SIGUSR2");
    const publishing = (async () => {
      while (!server.log.includes('"rolling restart done"')) {
        await publish();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await within(publishing, "the rolling restart to finish", 90_000);
    assert.equal(workerPids(server).length, before + 2);
    await everyoneHolds("every client to hold every publication after the rolling restart");
  });

  it("stops the workers and exits 0 on SIGTERM", async () => {
    const pids = workerPids(server).slice(-2);
    for (const member of members) member.client.disconnect();
    assert.equal(await server.stop("SIGTERM"), 0);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });

  async function clientsPerNode(): Promise<number[]> {
    const { json } = await api.call("info", {});
    const nodes = (json as { result: { nodes: { num_clients?: number }[] } }).result.nodes;
    return nodes.map((node) => node.num_clients ?? 0);
  }
});
