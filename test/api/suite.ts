/**
 * The server API end-to-end suite, written against {@link ApiCaller} so that the same cases run over every API
 * transport (HTTP now, GRPC later): the documentation's examples, every method, the error table in both error
 * modes, batch, broadcast, idempotency, and the effects the official `centrifuge` client sees.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Centrifuge,
  ConnectingContext,
  DisconnectedContext,
  PublicationContext,
  ServerPublicationContext,
  SubscribedContext,
  Subscription,
  UnsubscribedContext,
} from "centrifuge";
import type { ApiCaller, ApiCallResult } from "../helpers/api.js";
import { collect, decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** One API transport under test. */
export interface ApiTransport {
  readonly name: string;
  /** Config merged into every server of the suite: enables the transport, sets its key. */
  readonly config: Record<string, unknown>;
  caller(server: TestServer): ApiCaller;
}

const namespaces = [
  {
    name: "news",
    history_size: 100,
    history_ttl: "300s",
    force_recovery: true,
    presence: true,
    allow_subscribe_for_client: true,
  },
  { name: "user", allow_subscribe_for_client: true },
  { name: "plain", allow_subscribe_for_client: true },
];

/** Config of the suite's main server: tokens for the clients, presence at the top level, three namespaces. */
function serverConfig(transport: ApiTransport, withoutNamespace: Record<string, unknown>) {
  return {
    ...transport.config,
    client: { token: { hmac_secret_key: hmacSecret } },
    channel: {
      without_namespace: { allow_subscribe_for_client: true, ...withoutNamespace },
      namespaces,
    },
  };
}

const BAD_REQUEST = { code: 107, message: "bad request" };
const UNKNOWN_CHANNEL = { code: 102, message: "unknown channel" };
const NOT_AVAILABLE = { code: 108, message: "not available" };
const NOT_FOUND = { code: 104, message: "not found" };
const UNRECOVERABLE = { code: 112, message: "unrecoverable position" };

/** HTTP status of each error code in transport error mode (reference §2.2). */
const TRANSPORT_STATUS: Record<number, number> = {
  100: 500,
  102: 404,
  104: 404,
  107: 400,
  108: 400,
  112: 416,
};

interface ErrorCase {
  readonly name: string;
  readonly method: string;
  readonly body: unknown;
  readonly error: { code: number; message: string };
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");

/** Requests every transport must answer with an API error. */
const ERROR_CASES: readonly ErrorCase[] = [
  { name: "publish without channel", method: "publish", body: { data: {} }, error: BAD_REQUEST },
  {
    name: "publish to an empty channel",
    method: "publish",
    body: { channel: "", data: {} },
    error: BAD_REQUEST,
  },
  {
    name: "publish to an unknown namespace",
    method: "publish",
    body: { channel: "nope:x", data: {} },
    error: UNKNOWN_CHANNEL,
  },
  { name: "publish without data", method: "publish", body: { channel: "news:e" }, error: BAD_REQUEST },
  {
    name: "publish invalid base64",
    method: "publish",
    body: { channel: "news:e", b64data: "%%%" },
    error: BAD_REQUEST,
  },
  {
    name: "broadcast without channels",
    method: "broadcast",
    body: { channels: [], data: {} },
    error: BAD_REQUEST,
  },
  {
    name: "broadcast invalid base64",
    method: "broadcast",
    body: { channels: ["news:e"], b64data: "!" },
    error: BAD_REQUEST,
  },
  {
    name: "subscribe to an empty channel",
    method: "subscribe",
    body: { user: "u", channel: "" },
    error: BAD_REQUEST,
  },
  {
    name: "subscribe to an unknown namespace",
    method: "subscribe",
    body: { user: "u", channel: "nope:x" },
    error: UNKNOWN_CHANNEL,
  },
  { name: "presence without channel", method: "presence", body: {}, error: BAD_REQUEST },
  {
    name: "presence in an unknown namespace",
    method: "presence",
    body: { channel: "nope:x" },
    error: UNKNOWN_CHANNEL,
  },
  { name: "presence not enabled", method: "presence", body: { channel: "plain:x" }, error: NOT_AVAILABLE },
  {
    name: "presence_stats not enabled",
    method: "presence_stats",
    body: { channel: "plain:x" },
    error: NOT_AVAILABLE,
  },
  { name: "history without channel", method: "history", body: {}, error: BAD_REQUEST },
  { name: "history not enabled", method: "history", body: { channel: "plain:x" }, error: NOT_AVAILABLE },
  {
    name: "history in an unknown namespace",
    method: "history",
    body: { channel: "nope:x" },
    error: UNKNOWN_CHANNEL,
  },
  {
    name: "history since another epoch",
    method: "history",
    body: { channel: "news:epoch", limit: 10, since: { offset: 0, epoch: "not-the-epoch" } },
    error: UNRECOVERABLE,
  },
  {
    name: "history_remove not enabled",
    method: "history_remove",
    body: { channel: "plain:x" },
    error: NOT_AVAILABLE,
  },
  { name: "rpc without method", method: "rpc", body: { method: "" }, error: BAD_REQUEST },
  { name: "rpc with an unknown method", method: "rpc", body: { method: "missing" }, error: NOT_FOUND },
];

/** `json.result` of a successful call. */
function result(res: ApiCallResult): Record<string, unknown> {
  assert.equal(res.status, 200);
  const body = res.json as { result?: Record<string, unknown>; error?: unknown };
  assert.equal(body.error, undefined, `unexpected error ${JSON.stringify(body.error)}`);
  assert.ok(body.result !== undefined, "a result");
  return body.result;
}

export function apiSuite(transport: ApiTransport): void {
  describe(`server API over ${transport.name}`, () => {
    let server: TestServer;
    let api: ApiCaller;
    const clients: Centrifuge[] = [];

    before(async () => {
      server = await startTestServer(serverConfig(transport, { presence: true }));
      api = transport.caller(server);
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await server.close();
    });

    async function connected(
      user: string,
      encoding: Encoding = "json",
    ): Promise<{ client: Centrifuge; id: string }> {
      const client = newClient(server.url, encoding, { token: await connectToken(user) });
      clients.push(client);
      const ctx = once<{ client: string }>(client, "connected");
      client.connect();
      return { client, id: (await within(ctx, "connect")).client };
    }

    async function subscribed(
      client: Centrifuge,
      channel: string,
    ): Promise<{ sub: Subscription; ctx: SubscribedContext }> {
      const sub = client.newSubscription(channel);
      const ctx = once<SubscribedContext>(sub, "subscribed");
      sub.subscribe();
      return { sub, ctx: await within(ctx, `subscribe to ${channel}`) };
    }

    describe("the documentation's examples", () => {
      it('publish answers {"result":{}} on channels without history', async () => {
        for (const body of [
          { channel: "test", data: { value: "test_value" } },
          { channel: "chat", data: { text: "hello" } },
          { channel: "docs", data: { content: "1" } },
        ]) {
          assert.deepEqual((await api.call("publish", body)).json, { result: {} });
        }
      });

      it("publish to an unknown namespace is error 102 in a 200 response", async () => {
        const res = await api.call("publish", { channel: "unknown:chat", data: { text: "hello" } });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { error: UNKNOWN_CHANNEL });
      });

      it("broadcast answers one response per channel", async () => {
        const res = await api.call("broadcast", { channels: ["user:1", "user:2"], data: { text: "hello" } });
        assert.deepEqual(res.json, { result: { responses: [{ result: {} }, { result: {} }] } });
      });

      it("presence_stats of an empty channel has both counts, even zero", async () => {
        assert.deepEqual((await api.call("presence_stats", { channel: "chat" })).json, {
          result: { num_clients: 0, num_users: 0 },
        });
      });

      it("presence lists each connection by client id, then channels lists the channel", async () => {
        const first = await connected("42");
        const second = await connected("42");
        await subscribed(first.client, "chat");
        await subscribed(second.client, "chat");
        assert.deepEqual((await api.call("presence", { channel: "chat" })).json, {
          result: {
            presence: {
              [first.id]: { client: first.id, user: "42" },
              [second.id]: { client: second.id, user: "42" },
            },
          },
        });
        assert.deepEqual((await api.call("presence_stats", { channel: "chat" })).json, {
          result: { num_clients: 2, num_users: 1 },
        });
        const channels = result(await api.call("channels", {})).channels as Record<string, unknown>;
        assert.deepEqual(channels.chat, { num_clients: 2 });
        first.client.disconnect();
        second.client.disconnect();
      });

      it("info describes this node", async () => {
        const nodes = result(await api.call("info", {})).nodes as Record<string, unknown>[];
        assert.equal(nodes.length, 1);
        const node = nodes[0] as Record<string, unknown>;
        for (const key of ["uid", "name", "version"]) assert.equal(typeof node[key], "string", key);
        for (const key of ["num_clients", "num_users", "num_channels", "num_subs"]) {
          assert.equal(typeof node[key], "number", key);
        }
        assert.notEqual(node.uid, "");
        assert.notEqual(node.name, "");
      });

      it("batch answers each command in order", async () => {
        const res = await api.call("batch", {
          commands: [
            { publish: { channel: "test1", data: {} } },
            { publish: { channel: "x:test2", data: {} } },
          ],
        });
        assert.deepEqual(res.json, { replies: [{ publish: {} }, { error: UNKNOWN_CHANNEL }] });
      });

      it("an empty publish is error 107: in the body by default, as status 400 in transport error mode", async () => {
        assert.deepEqual(await api.call("publish", {}), { status: 200, json: { error: BAD_REQUEST } });
        assert.deepEqual(await api.call("publish", {}, { transportErrors: true }), {
          status: 400,
          json: BAD_REQUEST,
        });
      });

      it("history with a limit returns the oldest retained publications and the stream top", async () => {
        const historic = await startTestServer(
          serverConfig(transport, { history_size: 3, history_ttl: "300s" }),
        );
        try {
          const historyApi = transport.caller(historic);
          let epoch = "";
          for (let i = 0; i < 4; i++) {
            const res = result(
              await historyApi.call("publish", { channel: "chat", data: { text: "hello" } }),
            );
            assert.equal(res.offset, i + 1);
            epoch = res.epoch as string;
          }
          assert.deepEqual((await historyApi.call("history", { channel: "chat", limit: 2 })).json, {
            result: {
              epoch,
              offset: 4,
              publications: [
                { data: { text: "hello" }, offset: 2 },
                { data: { text: "hello" }, offset: 3 },
              ],
            },
          });
        } finally {
          await historic.close();
        }
      });
    });

    describe("every method", () => {
      it("publish with history returns offset and epoch; skip_history returns nothing", async () => {
        const first = result(await api.call("publish", { channel: "news:m1", data: { n: 1 } }));
        assert.equal(first.offset, 1);
        assert.match(first.epoch as string, /^.+$/);
        const second = result(
          await api.call("publish", { channel: "news:m1", data: { n: 2 }, tags: { a: "b" } }),
        );
        assert.deepEqual(second, { offset: 2, epoch: first.epoch });
        assert.deepEqual(
          result(await api.call("publish", { channel: "news:m1", data: {}, skip_history: true })),
          {},
        );
        assert.deepEqual(result(await api.call("publish", { channel: "news:m1", b64data: b64('{"n":3}') })), {
          offset: 3,
          epoch: first.epoch,
        });
      });

      it("history returns publications with data and tags, all of them with limit -1, newest first with reverse", async () => {
        const channel = "news:m2";
        const { epoch } = result(await api.call("publish", { channel, data: { n: 1 }, tags: { k: "v" } }));
        await api.call("publish", { channel, data: [1, "two"] });
        await api.call("publish", { channel, data: "three" });
        assert.deepEqual(result(await api.call("history", { channel })), {
          publications: [],
          epoch,
          offset: 3,
        });
        const all = result(await api.call("history", { channel, limit: -1 }));
        assert.deepEqual(all.publications, [
          { data: { n: 1 }, offset: 1, tags: { k: "v" } },
          { data: [1, "two"], offset: 2 },
          { data: "three", offset: 3 },
        ]);
        const reversed = result(await api.call("history", { channel, limit: 2, reverse: true }));
        assert.deepEqual(
          (reversed.publications as { offset: number }[]).map((p) => p.offset),
          [3, 2],
        );
        const since = result(await api.call("history", { channel, limit: 10, since: { offset: 1, epoch } }));
        assert.deepEqual(
          (since.publications as { offset: number }[]).map((p) => p.offset),
          [2, 3],
        );
      });

      it("history_remove drops publications but keeps the stream position", async () => {
        const channel = "news:m3";
        const { epoch } = result(await api.call("publish", { channel, data: { n: 1 } }));
        assert.deepEqual(result(await api.call("history_remove", { channel })), {});
        assert.deepEqual(result(await api.call("history", { channel, limit: -1 })), {
          publications: [],
          epoch,
          offset: 1,
        });
      });

      it("subscribe, unsubscribe, disconnect and refresh of a user with no connections succeed", async () => {
        assert.deepEqual(result(await api.call("subscribe", { user: "nobody", channel: "news:m4" })), {});
        assert.deepEqual(result(await api.call("unsubscribe", { user: "nobody", channel: "news:m4" })), {});
        assert.deepEqual(result(await api.call("disconnect", { user: "nobody" })), {});
        assert.deepEqual(result(await api.call("refresh", { user: "nobody", expire_at: 4102444800 })), {});
      });

      it("presence and presence_stats of a namespace with presence", async () => {
        assert.deepEqual(result(await api.call("presence", { channel: "news:m5" })), { presence: {} });
        assert.deepEqual(result(await api.call("presence_stats", { channel: "news:m5" })), {
          num_clients: 0,
          num_users: 0,
        });
      });

      it("channels filters by pattern", async () => {
        const { client } = await connected("chan-user");
        await subscribed(client, "news:pattern-a");
        await subscribed(client, "news:pattern-b");
        await subscribed(client, "plain:other");
        assert.deepEqual(result(await api.call("channels", { pattern: "news:pattern-*" })), {
          channels: { "news:pattern-a": { num_clients: 1 }, "news:pattern-b": { num_clients: 1 } },
        });
        assert.deepEqual(result(await api.call("channels", { pattern: "nothing-matches" })), {
          channels: {},
        });
        client.disconnect();
      });

      it("ignores unknown request fields, as upstream's decoder does", async () => {
        assert.deepEqual((await api.call("presence_stats", { channel: "chat", extra: { x: 1 } })).json, {
          result: { num_clients: 0, num_users: 0 },
        });
      });
    });

    describe("errors", () => {
      let watcher: Centrifuge;
      let watched: Subscription;

      before(async () => {
        watcher = (await connected("watcher")).client;
        watched = (await subscribed(watcher, "news:watch")).sub;
      });

      /** Another client still receives publications after the bad request. */
      async function stillServing(n: string): Promise<void> {
        const received = once<PublicationContext>(watched, "publication");
        result(await api.call("publish", { channel: "news:watch", data: { n } }));
        assert.deepEqual((await within(received, "publication")).data, { n });
      }

      for (const c of ERROR_CASES) {
        it(`${c.name}: error ${c.error.code}, status 200 by default, ${TRANSPORT_STATUS[c.error.code]} in transport mode`, async () => {
          assert.deepEqual(await api.call(c.method, c.body), { status: 200, json: { error: c.error } });
          assert.deepEqual(await api.call(c.method, c.body, { transportErrors: true }), {
            status: TRANSPORT_STATUS[c.error.code],
            json: c.error,
          });
          await stillServing(c.name);
        });
      }

      it("a batch command naming no method is 104; batch stays 200 in transport mode", async () => {
        const body = { commands: [{}, { presence: { channel: "plain:x" } }, { info: {} }] };
        for (const transportErrors of [false, true]) {
          const res = await api.call("batch", body, { transportErrors });
          assert.equal(res.status, 200);
          const replies = (res.json as { replies: Record<string, unknown>[] }).replies;
          assert.deepEqual(replies.slice(0, 2), [{ error: NOT_FOUND }, { error: NOT_AVAILABLE }]);
          assert.ok(replies[2]?.info !== undefined);
        }
        await stillServing("batch");
      });
    });

    describe("batch", () => {
      it("runs commands one after another in order by default", async () => {
        const channel = "news:batch-seq";
        const res = await api.call("batch", {
          commands: [
            { publish: { channel, data: { n: 1 } } },
            { history: { channel, limit: -1 } },
            { publish: { channel, data: { n: 2 } } },
            { presence_stats: { channel } },
          ],
        });
        const replies = (res.json as { replies: Record<string, Record<string, unknown>>[] }).replies;
        assert.equal(replies.length, 4);
        const epoch = replies[0]?.publish?.epoch;
        assert.deepEqual(replies[0], { publish: { offset: 1, epoch } });
        assert.deepEqual(replies[1], {
          history: { publications: [{ data: { n: 1 }, offset: 1 }], epoch, offset: 1 },
        });
        assert.deepEqual(replies[2], { publish: { offset: 2, epoch } });
        assert.deepEqual(replies[3], { presence_stats: { num_clients: 0, num_users: 0 } });
      });

      it("runs commands in parallel with parallel: true, replies still in request order", async () => {
        const commands = Array.from({ length: 60 }, (_, i) =>
          i % 3 === 2
            ? { publish: { channel: `missing:${i}`, data: { i } } }
            : { publish: { channel: `news:batch-par-${i}`, data: { i } } },
        );
        const res = await api.call("batch", { commands, parallel: true });
        const replies = (res.json as { replies: unknown[] }).replies;
        assert.equal(replies.length, commands.length);
        replies.forEach((reply, i) => {
          if (i % 3 === 2) assert.deepEqual(reply, { error: UNKNOWN_CHANNEL });
          else assert.equal((reply as { publish: { offset: number } }).publish.offset, 1);
        });
      });

      it("an empty batch answers {} (upstream omits the empty replies list)", async () => {
        assert.deepEqual((await api.call("batch", { commands: [] })).json, {});
      });
    });

    describe("broadcast", () => {
      it("reports errors per channel, in channel order, and stays 200 in transport mode", async () => {
        const body = { channels: ["news:bc-1", "nope:bc", "", "news:bc-2"], data: { x: 1 } };
        for (const transportErrors of [false, true]) {
          const res = await api.call("broadcast", body, { transportErrors });
          assert.equal(res.status, 200);
          const responses = (res.json as { result: { responses: Record<string, unknown>[] } }).result
            .responses;
          assert.equal(responses.length, 4);
          assert.deepEqual(responses[1], { error: UNKNOWN_CHANNEL });
          assert.deepEqual(responses[2], { error: BAD_REQUEST });
          const offset = transportErrors ? 2 : 1;
          assert.equal((responses[0]?.result as { offset: number }).offset, offset);
          assert.equal((responses[3]?.result as { offset: number }).offset, offset);
        }
      });
    });

    describe("idempotency", () => {
      it("a repeated idempotency key returns the first result and is not broadcast again", async () => {
        const channel = "news:idem";
        const { client } = await connected("idem-user");
        const { sub } = await subscribed(client, channel);
        const received = collect<PublicationContext>(sub, "publication", 2);
        const body = { channel, data: { n: 1 }, idempotency_key: "k1" };
        const first = result(await api.call("publish", body));
        assert.deepEqual(result(await api.call("publish", { ...body, data: { n: "again" } })), first);
        const sentinel = result(await api.call("publish", { channel, data: { n: "sentinel" } }));
        const pubs = await within(received, "publications");
        assert.deepEqual(
          pubs.map((p) => [p.data, p.offset]),
          [
            [{ n: 1 }, first.offset],
            [{ n: "sentinel" }, sentinel.offset],
          ],
        );
        const history = result(await api.call("history", { channel, limit: -1 }));
        assert.equal((history.publications as unknown[]).length, 2);
        client.disconnect();
      });
    });

    for (const encoding of ["json", "protobuf"] as Encoding[]) {
      describe(`effects seen by the centrifuge client (${encoding})`, () => {
        it("receives exactly what publish sent: data, tags, offset, epoch", async () => {
          const { client } = await connected(`pub-${encoding}`, encoding);
          const { sub, ctx } = await subscribed(client, `news:live-${encoding}`);
          const received = collect<PublicationContext>(sub, "publication", 3);
          const first = result(
            await api.call("publish", {
              channel: `news:live-${encoding}`,
              data: { text: "hi" },
              tags: { t: "1" },
            }),
          );
          const second = result(
            await api.call("publish", { channel: `news:live-${encoding}`, b64data: b64('{"b":[1,2]}') }),
          );
          await api.call("publish", {
            channel: `news:live-${encoding}`,
            data: { skip: true },
            skip_history: true,
          });
          const pubs = await within(received, "publications");
          assert.equal(first.epoch, ctx.streamPosition?.epoch);
          assert.deepEqual(decoded(encoding, pubs[0]?.data), { text: "hi" });
          assert.deepEqual(pubs[0]?.tags, { t: "1" });
          assert.equal(pubs[0]?.offset, first.offset);
          assert.deepEqual(decoded(encoding, pubs[1]?.data), { b: [1, 2] });
          assert.equal(pubs[1]?.offset, second.offset);
          assert.deepEqual(decoded(encoding, pubs[2]?.data), { skip: true });
          client.disconnect();
        });

        if (encoding === "protobuf") {
          it("receives binary b64data byte for byte", async () => {
            const { client } = await connected("binary", encoding);
            const { sub } = await subscribed(client, "news:binary");
            const received = once<PublicationContext>(sub, "publication");
            const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff]);
            result(await api.call("publish", { channel: "news:binary", b64data: b64(bytes) }));
            assert.deepEqual(
              new Uint8Array((await within(received, "publication")).data as Uint8Array),
              bytes,
            );
            client.disconnect();
          });
        }

        it("receives broadcast on every channel, and batch publications in order", async () => {
          const { client } = await connected(`bc-${encoding}`, encoding);
          const a = (await subscribed(client, `news:bc-a-${encoding}`)).sub;
          const b = (await subscribed(client, `news:bc-b-${encoding}`)).sub;
          const onA = collect<PublicationContext>(a, "publication", 4);
          const onB = once<PublicationContext>(b, "publication");
          result(
            await api.call("broadcast", {
              channels: [`news:bc-a-${encoding}`, `news:bc-b-${encoding}`],
              data: { all: true },
            }),
          );
          const batch = await api.call("batch", {
            commands: [1, 2, 3].map((n) => ({ publish: { channel: `news:bc-a-${encoding}`, data: { n } } })),
          });
          assert.equal((batch.json as { replies: unknown[] }).replies.length, 3);
          const pubs = await within(onA, "publications on a");
          assert.deepEqual(
            pubs.map((p) => [decoded(encoding, p.data), p.offset]),
            [
              [{ all: true }, 1],
              [{ n: 1 }, 2],
              [{ n: 2 }, 3],
              [{ n: 3 }, 4],
            ],
          );
          const onBPub = await within(onB, "publication on b");
          assert.deepEqual(decoded(encoding, onBPub.data), { all: true });
          assert.equal(onBPub.offset, 1);
          client.disconnect();
        });

        it("server-side subscribe delivers a channel the client never asked for, with its data", async () => {
          const user = `sub-${encoding}`;
          const { client } = await connected(user, encoding);
          const subscribedCtx = once<SubscribedContext>(client, "subscribed");
          result(
            await api.call("subscribe", { user, channel: `news:server-${encoding}`, data: { hello: 1 } }),
          );
          const ctx = await within(subscribedCtx, "subscribed");
          assert.equal(ctx.channel, `news:server-${encoding}`);
          assert.deepEqual(decoded(encoding, ctx.data), { hello: 1 });
          const received = once<ServerPublicationContext>(client, "publication");
          result(await api.call("publish", { channel: `news:server-${encoding}`, data: { n: 1 } }));
          const pub = await within(received, "publication");
          assert.equal(pub.channel, `news:server-${encoding}`);
          assert.deepEqual(decoded(encoding, pub.data), { n: 1 });
          client.disconnect();
        });

        it("unsubscribe ends the client's subscription with code 2000", async () => {
          const user = `unsub-${encoding}`;
          const { client } = await connected(user, encoding);
          const { sub } = await subscribed(client, `news:unsub-${encoding}`);
          const unsubscribed = once<UnsubscribedContext>(sub, "unsubscribed");
          result(await api.call("unsubscribe", { user, channel: `news:unsub-${encoding}` }));
          assert.equal((await within(unsubscribed, "unsubscribed")).code, 2000);
          client.disconnect();
        });

        it("disconnect closes with 3503 by default, or the given code and reason", async () => {
          const user = `disc-${encoding}`;
          const { client: first } = await connected(user, encoding);
          const { client: second, id: secondId } = await connected(user, encoding);
          const disconnected = once<DisconnectedContext>(first, "disconnected");
          result(await api.call("disconnect", { user, whitelist: [secondId] }));
          assert.equal((await within(disconnected, "disconnect")).code, 3503);
          assert.equal(second.state, "connected");
          const custom = once<DisconnectedContext>(second, "disconnected");
          result(await api.call("disconnect", { user, disconnect: { code: 4501, reason: "go away" } }));
          assert.deepEqual(await within(custom, "disconnect"), { code: 4501, reason: "go away" });
        });

        it("refresh with expired: true closes with 3005 and the client reconnects", async () => {
          const user = `refresh-${encoding}`;
          const { client } = await connected(user, encoding);
          const connecting = once<ConnectingContext>(client, "connecting");
          result(await api.call("refresh", { user, expired: true }));
          assert.equal((await within(connecting, "reconnect")).code, 3005);
          await client.ready(5000);
          client.disconnect();
        });
      });
    }
  });
}

/**
 * For a server with transport error mode switched on in its config (either edge): each error code comes back as
 * its §2.2 status with `{code, message}`, without asking per call. Needs no namespace named `nope` and a
 * channel `plain` without history.
 */
export async function assertTransportModeStatuses(api: ApiCaller): Promise<void> {
  const expected: [string, unknown, number, number, string][] = [
    ["publish", {}, 400, 107, "bad request"],
    ["publish", { channel: "nope:x", data: {} }, 404, 102, "unknown channel"],
    ["history", { channel: "plain" }, 400, 108, "not available"],
    ["rpc", { method: "none" }, 404, 104, "not found"],
  ];
  for (const [method, body, status, code, message] of expected) {
    assert.deepEqual(
      await api.call(method, body),
      { status, json: { code, message } },
      `${method} → ${code}`,
    );
  }
}
