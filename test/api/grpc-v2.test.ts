/**
 * Centrifugo v2's GRPC API (`api.Centrifugo`) through `@grpc/proto-loader` stubs of proto/api_v2.proto, on the
 * same node and port as `CentrifugoApi`: every method, with what the official `centrifuge` client sees, errors in
 * the response's `error` field with v2's messages, the key check, bad input, and the v2-era config and flags.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  type ChannelCredentials,
  Client,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { clone, create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type {
  Centrifuge,
  DisconnectedContext,
  PublicationContext,
  SubscribedContext,
  Subscription,
  UnsubscribedContext,
} from "centrifuge";
import { file_api_v2 } from "../../src/api/gen/api_v2_pb.js";
import { newClient, once } from "../helpers/clients.js";
import { closeGrpcClients, grpcApiConfig, grpcApiKey, grpcCaller, grpcPort } from "../helpers/grpc.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { TEST_CERT_PEM, TEST_KEY_PEM } from "../helpers/tls-fixture.js";
import { freePort, start, tempDir } from "../cli/run.js";

const PROTO = fileURLToPath(new URL("../../proto/api_v2.proto", import.meta.url));
const REFLECTION_PROTO = join(
  process.cwd(),
  "node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
);

/** A v2 error as the stubs hand it over. */
interface V2Error {
  code: number;
  message: string;
}
/** A v2 response, loosely typed: plain objects as protobuf.js converts them, absent fields left out. */
type Reply = { error?: V2Error; result?: Record<string, unknown> };
type Unary = (
  request: Record<string, unknown>,
  metadata: Metadata,
  callback: (err: ServiceError | null, reply: Reply) => void,
) => void;
type V2Stub = Client & Record<string, Unary>;

const pkg = loadPackageDefinition(
  loadSync(PROTO, {
    keepCase: true,
    longs: Number,
    enums: String,
    bytes: Buffer,
    defaults: false,
    arrays: true,
  }),
) as unknown as { api: { Centrifugo: new (address: string, creds: ChannelCredentials) => V2Stub } };

const stubs: V2Stub[] = [];
after(() => {
  for (const stub of stubs) stub.close();
  closeGrpcClients();
});

function v2Stub(port: number): V2Stub {
  const stub = new pkg.api.Centrifugo(`127.0.0.1:${port}`, credentials.createInsecure());
  stubs.push(stub);
  return stub;
}

function withKey(key = grpcApiKey): Metadata {
  const metadata = new Metadata();
  metadata.set("authorization", `apikey ${key}`);
  return metadata;
}

/** One call; resolves with the response or the GRPC error. */
function call(
  stub: V2Stub,
  method: string,
  request: Record<string, unknown> = {},
  metadata = withKey(),
): Promise<Reply | ServiceError> {
  const unary = stub[method];
  if (unary === undefined) throw new Error(`no v2 method ${method}`);
  return within(
    new Promise((resolve) => unary.call(stub, request, metadata, (err, reply) => resolve(err ?? reply))),
    `v2 ${method}`,
  );
}

function isServiceError(res: Reply | ServiceError): res is ServiceError {
  return res instanceof Error;
}

/** The call's response, which must have no error; its `result` (undefined when unset, as v2 left it). */
async function ok(stub: V2Stub, method: string, request: Record<string, unknown> = {}) {
  const res = await call(stub, method, request);
  assert.ok(!isServiceError(res), `${method}: GRPC error ${isServiceError(res) ? res.message : ""}`);
  assert.equal(res.error, undefined, `${method}: ${JSON.stringify(res.error)}`);
  return res.result;
}

/** The `error` of the call's response (which must not be a GRPC error). */
async function apiError(stub: V2Stub, method: string, request: Record<string, unknown>): Promise<V2Error> {
  const res = await call(stub, method, request);
  assert.ok(
    !isServiceError(res),
    `${method}: expected a response, got ${isServiceError(res) ? res.message : ""}`,
  );
  assert.equal(res.result, undefined, `${method}: no result next to an error`);
  assert.ok(res.error !== undefined, `${method}: expected an error`);
  return { code: res.error.code, message: res.error.message };
}

const BAD_REQUEST: V2Error = { code: 107, message: "bad request" };
const NAMESPACE_NOT_FOUND: V2Error = { code: 102, message: "namespace not found" };
const NOT_AVAILABLE: V2Error = { code: 108, message: "not available" };

/** All 256 byte values, then bytes that are neither UTF-8 nor JSON. */
const BINARY = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from([0xc3, 0x28]),
]);

describe("Centrifugo v2 GRPC API (api.Centrifugo)", () => {
  let server: TestServer;
  let stub: V2Stub;
  const clients: Centrifuge[] = [];

  before(async () => {
    server = await startTestServer({
      ...grpcApiConfig,
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        namespaces: [
          { name: "chat", allow_subscribe_for_client: true },
          {
            name: "news",
            history_size: 10,
            history_ttl: "300s",
            presence: true,
            allow_subscribe_for_client: true,
          },
        ],
      },
    });
    stub = v2Stub(grpcPort(server));
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  /** A connected Protobuf client of `user` (connection info `{"name": user}`). */
  async function connected(user: string): Promise<Centrifuge> {
    const token = await connectToken(user, { info: { name: user } });
    const client = newClient(server.url, "protobuf", { token });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected`);
    return client;
  }

  async function subscribed(client: Centrifuge, channel: string): Promise<Subscription> {
    const sub = client.newSubscription(channel);
    const ready = once<SubscribedContext>(sub, "subscribed");
    sub.subscribe();
    await within(ready, `subscribe to ${channel}`);
    return sub;
  }

  describe("Publish", () => {
    it("publishes binary data that a Protobuf client receives byte for byte; no result, as v2", async () => {
      const sub = await subscribed(await connected("reader"), "chat:index");
      const next = once<PublicationContext>(sub, "publication");
      assert.equal(await ok(stub, "Publish", { channel: "chat:index", data: BINARY }), undefined);
      assert.deepEqual(Buffer.from((await within(next, "publication")).data as Uint8Array), BINARY);
    });

    it("answers v2's errors in the error field: no channel or no data 107, unknown namespace 102", async () => {
      const data = Buffer.from("{}");
      assert.deepEqual(await apiError(stub, "Publish", { channel: "", data }), BAD_REQUEST);
      assert.deepEqual(await apiError(stub, "Publish", { channel: "chat:index" }), BAD_REQUEST);
      assert.deepEqual(await apiError(stub, "Publish", { channel: "nope:x", data }), NAMESPACE_NOT_FOUND);
    });
  });

  describe("Broadcast", () => {
    it("publishes into every channel", async () => {
      const client = await connected("broadcast-reader");
      const subs = await Promise.all(["chat:a", "chat:b"].map((channel) => subscribed(client, channel)));
      const next = subs.map((sub) => once<PublicationContext>(sub, "publication"));
      const data = Buffer.from('{"text":"all"}');
      assert.equal(await ok(stub, "Broadcast", { channels: ["chat:a", "chat:b"], data }), undefined);
      for (const pub of await within(Promise.all(next), "both publications")) {
        assert.deepEqual(Buffer.from(pub.data as Uint8Array), data);
      }
    });

    it("answers one error for the call: no channels, a blank one or no data 107, an unknown namespace 102", async () => {
      const data = Buffer.from("{}");
      assert.deepEqual(await apiError(stub, "Broadcast", { channels: [], data }), BAD_REQUEST);
      assert.deepEqual(await apiError(stub, "Broadcast", { channels: ["chat:a", ""], data }), BAD_REQUEST);
      assert.deepEqual(await apiError(stub, "Broadcast", { channels: ["chat:a"] }), BAD_REQUEST);
      assert.deepEqual(
        await apiError(stub, "Broadcast", { channels: ["chat:a", "nope:x"], data }),
        NAMESPACE_NOT_FOUND,
      );
    });
  });

  describe("Presence, PresenceStats", () => {
    it("lists the subscribers by client ID, conn_info as bytes", async () => {
      const client = await connected("alice");
      await subscribed(client, "news:presence");
      const result = (await ok(stub, "Presence", { channel: "news:presence" })) as {
        presence: Record<string, { user: string; client: string; conn_info?: Buffer; chan_info?: Buffer }>;
      };
      const entries = Object.entries(result.presence);
      assert.equal(entries.length, 1);
      const [clientId, info] = entries[0] as [string, (typeof result.presence)[string]];
      assert.equal(info.client, clientId);
      assert.equal(info.user, "alice");
      assert.deepEqual(JSON.parse((info.conn_info as Buffer).toString()), { name: "alice" });
      assert.equal(info.chan_info, undefined);
      assert.deepEqual(await ok(stub, "PresenceStats", { channel: "news:presence" }), {
        num_clients: 1,
        num_users: 1,
      });
    });

    it("107 without channel, 102 for an unknown namespace, 108 without presence", async () => {
      for (const method of ["Presence", "PresenceStats"]) {
        assert.deepEqual(await apiError(stub, method, { channel: "" }), BAD_REQUEST);
        assert.deepEqual(await apiError(stub, method, { channel: "nope:x" }), NAMESPACE_NOT_FOUND);
        assert.deepEqual(await apiError(stub, method, { channel: "chat:index" }), NOT_AVAILABLE);
      }
    });
  });

  describe("History, HistoryRemove", () => {
    it("returns the whole history oldest first, without uid or offsets; HistoryRemove empties it", async () => {
      for (const text of ["one", "two", "three"]) {
        await ok(stub, "Publish", { channel: "news:history", data: Buffer.from(`"${text}"`) });
      }
      const result = (await ok(stub, "History", { channel: "news:history" })) as {
        publications: Record<string, unknown>[];
      };
      assert.deepEqual(
        result.publications.map((pub) => Object.keys(pub)),
        [["data"], ["data"], ["data"]],
      );
      assert.deepEqual(
        result.publications.map((pub) => (pub.data as Buffer).toString()),
        ['"one"', '"two"', '"three"'],
      );
      assert.equal(await ok(stub, "HistoryRemove", { channel: "news:history" }), undefined);
      assert.deepEqual(await ok(stub, "History", { channel: "news:history" }), { publications: [] });
    });

    it("107 without channel, 102 for an unknown namespace, 108 without history", async () => {
      for (const method of ["History", "HistoryRemove"]) {
        assert.deepEqual(await apiError(stub, method, { channel: "" }), BAD_REQUEST);
        assert.deepEqual(await apiError(stub, method, { channel: "nope:x" }), NAMESPACE_NOT_FOUND);
        assert.deepEqual(await apiError(stub, method, { channel: "chat:index" }), NOT_AVAILABLE);
      }
    });
  });

  describe("Channels, Info", () => {
    it("Channels lists the channels with subscribers, sorted", async () => {
      const client = await connected("lister");
      await subscribed(client, "chat:listed-b");
      await subscribed(client, "chat:listed-a");
      const { channels } = (await ok(stub, "Channels")) as { channels: string[] };
      assert.deepEqual(
        channels.filter((channel) => channel.startsWith("chat:listed-")),
        ["chat:listed-a", "chat:listed-b"],
      );
      assert.deepEqual(channels, [...channels].sort());
    });

    it("Info lists the node as v6 does, without metrics", async () => {
      const { nodes } = (await ok(stub, "Info")) as { nodes: Record<string, unknown>[] };
      const v6 = await grpcCaller(server).call("info", {});
      const v6Node = (v6.json as { result: { nodes: Record<string, unknown>[] } }).result.nodes[0];
      assert.equal(nodes.length, 1);
      const node = nodes[0] as Record<string, unknown>;
      assert.equal(node.uid, v6Node?.uid);
      assert.equal(node.name, v6Node?.name);
      assert.equal(node.version, v6Node?.version);
      assert.ok((node.num_clients as number) >= 1);
      assert.ok((node.num_channels as number) >= 1);
      assert.equal(node.metrics, undefined);
    });
  });

  describe("Unsubscribe, Disconnect", () => {
    it("Unsubscribe removes the user from the channel", async () => {
      const sub = await subscribed(await connected("bob"), "chat:room");
      const gone = once<UnsubscribedContext>(sub, "unsubscribed");
      assert.equal(await ok(stub, "Unsubscribe", { channel: "chat:room", user: "bob" }), undefined);
      await within(gone, "bob unsubscribed");
    });

    it("Disconnect closes the user's connections", async () => {
      const client = await connected("carol");
      const gone = once<DisconnectedContext>(client, "disconnected");
      assert.equal(await ok(stub, "Disconnect", { user: "carol" }), undefined);
      await within(gone, "carol disconnected");
    });

    it("107 without user, 102 for an unknown namespace", async () => {
      assert.deepEqual(await apiError(stub, "Unsubscribe", { channel: "chat:room" }), BAD_REQUEST);
      assert.deepEqual(
        await apiError(stub, "Unsubscribe", { channel: "nope:x", user: "bob" }),
        NAMESPACE_NOT_FOUND,
      );
      assert.deepEqual(await apiError(stub, "Disconnect", {}), BAD_REQUEST);
    });
  });

  describe("bad input: GRPC statuses as v2's grpc-go server answered, and the node keeps serving", () => {
    it("no key, a wrong key or the key elsewhere is UNAUTHENTICATED", async () => {
      const misplaced = new Metadata();
      misplaced.set("x-api-key", grpcApiKey);
      for (const metadata of [new Metadata(), withKey("wrong"), misplaced]) {
        const res = await call(stub, "Info", {}, metadata);
        assert.ok(isServiceError(res), "expected a GRPC error");
        assert.equal(res.code, status.UNAUTHENTICATED);
        assert.equal(res.details, "unauthenticated");
      }
    });

    /** One call with raw request bytes to `method` of api.Centrifugo: the response bytes or the GRPC error. */
    async function rawCall(method: string, bytes: number[]): Promise<ServiceError | Buffer> {
      const raw = new Client(`127.0.0.1:${grpcPort(server)}`, credentials.createInsecure());
      try {
        return await within(
          new Promise<ServiceError | Buffer>((resolve) =>
            raw.makeUnaryRequest(
              `/api.Centrifugo/${method}`,
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.from(bytes),
              withKey(),
              (err, res) => resolve(err ?? (res as Buffer)),
            ),
          ),
          `raw ${method}`,
        );
      } finally {
        raw.close();
      }
    }

    it("a message that does not decode is INTERNAL: truncated, or a field of the wrong wire type", async () => {
      // v2's messages were gogo-generated: their Unmarshal refuses a known field of another wire type, and
      // grpc-go answers a request that does not unmarshal with INTERNAL (centrifugo v2.8 internal/api/api.pb.go).
      const truncatedChannel = [0x0a, 0x05, 0x61];
      const varintChannel = [0x08, 0x05];
      for (const bytes of [truncatedChannel, varintChannel]) {
        const res = await rawCall("Publish", bytes);
        assert.ok(!Buffer.isBuffer(res), "expected a GRPC error");
        assert.equal(res.code, status.INTERNAL);
      }
    });

    it("unknown fields are skipped, as Protobuf decoders do", async () => {
      // field 3 (varint 5), then channel "chat:x" and data "{}".
      const channel = [...Buffer.from("chat:x")];
      const res = await rawCall("Publish", [
        0x18,
        0x05,
        0x0a,
        channel.length,
        ...channel,
        0x12,
        0x02,
        0x7b,
        0x7d,
      ]);
      // A successful v2 Publish is an empty message.
      assert.deepEqual(res, Buffer.alloc(0));
    });

    it("a method v2's service does not have (v2.8's internal RPC) is UNIMPLEMENTED", async () => {
      const res = await rawCall("RPC", []);
      assert.ok(!Buffer.isBuffer(res), "expected a GRPC error");
      assert.equal(res.code, status.UNIMPLEMENTED);
    });

    it("the v6 service answers next to it on the same port", async () => {
      const res = await grpcCaller(server).call("publish", { channel: "nope:x", data: {} });
      assert.deepEqual(res.json, { error: { code: 102, message: "unknown channel" } });
      const info = (await ok(stub, "Info")) as { nodes: unknown[] };
      assert.equal(info.nodes.length, 1);
    });
  });
});

describe("proto/api_v2.proto", () => {
  it("is Centrifugo v2.8's misc/proto/api.proto on the wire: the same compiled descriptor", () => {
    // SHA-256 of `protoc --descriptor_set_out` for upstream's file (identical at v2.8.0 … v2.8.7), as api.proto.
    const UPSTREAM_V2_8 = "6a98b3f2a33430f45c0ddfce2e3f6356ed69bee88dd9268e4929a55fe6009f0d";
    const file = clone(FileDescriptorProtoSchema, file_api_v2.proto);
    file.name = "api.proto";
    const set = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [file] }));
    assert.equal(createHash("sha256").update(set).digest("hex"), UPSTREAM_V2_8);
  });
});

describe("api.Centrifugo shares the GRPC server of CentrifugoApi", () => {
  it("over TLS: the same certificate; plaintext clients fail", async () => {
    const tls = { enabled: true, cert_pem: TEST_CERT_PEM, key_pem: TEST_KEY_PEM };
    const server = await startTestServer({ grpc_api: { ...grpcApiConfig.grpc_api, tls } });
    try {
      const secure = new pkg.api.Centrifugo(
        `127.0.0.1:${grpcPort(server)}`,
        credentials.createSsl(Buffer.from(TEST_CERT_PEM)),
      );
      stubs.push(secure);
      assert.ok(Array.isArray((await ok(secure, "Info"))?.nodes), "Info over TLS");
      const plain = await call(v2Stub(grpcPort(server)), "Info");
      assert.ok(isServiceError(plain) && plain.code === status.UNAVAILABLE, "plaintext refused");
    } finally {
      await server.close();
    }
  });

  it("max_receive_message_size: a larger message is RESOURCE_EXHAUSTED", async () => {
    const limit = 1024;
    const server = await startTestServer({
      grpc_api: { ...grpcApiConfig.grpc_api, max_receive_message_size: limit },
      channel: { namespaces: [{ name: "chat" }] },
    });
    try {
      const stub = v2Stub(grpcPort(server));
      const big = await call(stub, "Publish", { channel: "chat:big", data: Buffer.alloc(limit) });
      assert.ok(isServiceError(big) && big.code === status.RESOURCE_EXHAUSTED, "oversized message refused");
      assert.equal(
        await ok(stub, "Publish", { channel: "chat:big", data: Buffer.alloc(limit / 2) }),
        undefined,
      );
    } finally {
      await server.close();
    }
  });

  it("reflection lists both services", async () => {
    const server = await startTestServer({ grpc_api: { ...grpcApiConfig.grpc_api, reflection: true } });
    try {
      assert.deepEqual(
        (await reflectedServices(grpcPort(server))).filter((name) => !name.startsWith("grpc.")).sort(),
        ["api.Centrifugo", "centrifugal.centrifugo.api.CentrifugoApi"],
      );
    } finally {
      await server.close();
    }
  });

  it("keeps errors in the response in transport error mode, which only CentrifugoApi has", async () => {
    const server = await startTestServer({
      grpc_api: { ...grpcApiConfig.grpc_api, error_mode: "transport" },
    });
    try {
      const stub = v2Stub(grpcPort(server));
      const data = Buffer.from("{}");
      assert.deepEqual(await apiError(stub, "Publish", { channel: "nope:x", data }), NAMESPACE_NOT_FOUND);
    } finally {
      await server.close();
    }
  });

  it("stops with the server", async () => {
    const server = await startTestServer(grpcApiConfig);
    const stub = v2Stub(grpcPort(server));
    await ok(stub, "Info");
    await server.close();
    const res = await call(stub, "Info");
    assert.ok(isServiceError(res) && res.code === status.UNAVAILABLE, "no answer after shutdown");
  });
});

/** Service names the server's reflection lists. */
async function reflectedServices(port: number): Promise<string[]> {
  const reflection = loadPackageDefinition(loadSync(REFLECTION_PROTO, { keepCase: true })) as unknown as {
    grpc: {
      reflection: { v1: { ServerReflection: new (address: string, creds: ChannelCredentials) => Client } };
    };
  };
  const client = new reflection.grpc.reflection.v1.ServerReflection(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
  );
  try {
    const stream = (
      client as unknown as { ServerReflectionInfo(): NodeJS.ReadWriteStream }
    ).ServerReflectionInfo();
    const response = new Promise<{ list_services_response: { service: { name: string }[] } }>(
      (resolve, reject) => {
        stream.on("data", resolve);
        stream.on("error", reject);
      },
    );
    stream.write({ list_services: "" } as unknown as string);
    const { list_services_response } = await within(response, "the reflection answer");
    stream.end();
    return list_services_response.service.map((service) => service.name);
  } finally {
    client.close();
  }
}

describe("v2-era config and flags serve api.Centrifugo", () => {
  it("a config file with grpc_api_key and --grpc_api --grpc_api_port, each with the warning naming the v6 key", async () => {
    const dir = tempDir();
    const [grpcPortNumber, httpPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ grpc_api_key: "v2-key", api_key: "http-key", port: httpPort, address: "127.0.0.1" }),
    );
    const child = start(["--config", "config.json", "--grpc_api", `--grpc_api_port=${grpcPortNumber}`], dir);
    const lines: string[] = [];
    try {
      const serving = new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stderr }).on("line", (line) => {
          lines.push(line);
          if (line.includes("serving GRPC API")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${lines.join("\n")}`)));
      });
      await within(serving, "the GRPC API to serve", 30_000);
      const log = lines.join("\n");
      for (const warning of [
        "--grpc_api is a v5 flag, use --grpc_api.enabled",
        "--grpc_api_port is a v5 flag, use --grpc_api.port",
        '\\"grpc_api_key\\" is a v5 key, use \\"grpc_api.key\\"',
        '\\"api_key\\" is a v5 key, use \\"http_api.key\\"',
      ]) {
        assert.ok(log.includes(warning), `${warning} in:\n${log}`);
      }
      const cli = v2Stub(grpcPortNumber);
      const res = await call(cli, "Info", {}, withKey("v2-key"));
      assert.ok(!isServiceError(res), "Info with the v2 key");
      assert.equal((res.result as { nodes: unknown[] }).nodes.length, 1);
      const refused = await call(cli, "Info", {}, withKey("http-key"));
      assert.ok(isServiceError(refused) && refused.code === status.UNAUTHENTICATED);
    } finally {
      child.kill();
    }
  });
});
