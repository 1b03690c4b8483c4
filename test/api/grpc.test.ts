import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
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
import type { Centrifuge, PublicationContext, Subscription } from "centrifuge";
import pino from "pino";
import { Writable } from "node:stream";
import {
  BatchRequestSchema,
  BroadcastRequestSchema,
  InfoRequestSchema,
  PublishRequestSchema,
} from "../../src/api/gen/api_pb.js";
import { API_METHODS } from "../../src/api/methods.js";
import { ConfigError, loadConfig, startTurbine } from "../../src/index.js";
import { newClient, once } from "../helpers/clients.js";
import {
  closeGrpcClients,
  GrpcApiCaller,
  grpcApiConfig,
  grpcApiKey,
  grpcCaller,
  grpcPort,
  SERVICE,
} from "../helpers/grpc.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { TEST_CERT_PEM, TEST_KEY_PEM } from "../helpers/tls-fixture.js";
import { apiSuite, assertTransportModeStatuses } from "./suite.js";

apiSuite({ name: "GRPC", config: grpcApiConfig, caller: grpcCaller });

after(closeGrpcClients);

const raw = (b: Buffer) => b;
const rawClients: Client[] = [];
after(() => {
  for (const client of rawClients) client.close();
});

/** One unary call with raw bytes to any path; resolves with the response bytes or the GRPC error. */
function rawCall(
  port: number,
  path: string,
  bytes: Uint8Array,
  metadata = new Metadata(),
  creds: ChannelCredentials = credentials.createInsecure(),
): Promise<Buffer | ServiceError> {
  const client = new Client(`127.0.0.1:${port}`, creds);
  rawClients.push(client);
  const answered = new Promise<Buffer | ServiceError>((resolve) => {
    client.makeUnaryRequest(path, raw, raw, Buffer.from(bytes), metadata, (err, res) => {
      client.close();
      resolve(err ?? (res as Buffer));
    });
  });
  return within(answered, `the answer to ${path}`);
}

function metadataOf(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

function assertStatus(res: Buffer | ServiceError, code: status, details?: string | RegExp): void {
  assert.ok(!Buffer.isBuffer(res), `expected status ${status[code]}, got a response`);
  assert.equal(res.code, code, `status ${status[res.code]} (${res.details}), expected ${status[code]}`);
  if (typeof details === "string") assert.equal(res.details, details);
  else if (details !== undefined) assert.match(res.details, details);
}

const withKey = () => metadataOf({ authorization: `apikey ${grpcApiKey}` });
/** PublishRequest{channel=1, data=2} written by hand: the bad-input table works on raw bytes. */
function encodePublish(channel: string, data: string | Uint8Array): Uint8Array {
  const c = Buffer.from(channel);
  return Buffer.concat([
    Buffer.from([0x0a]),
    varint(c.length),
    c,
    Buffer.from([0x12]),
    varint(data.length),
    Buffer.from(data),
  ]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** PublishResponse with a result and no error: field 2, whatever its content. */
function assertPublished(res: Buffer | ServiceError): void {
  assert.ok(Buffer.isBuffer(res), `expected a response, got ${(res as ServiceError).details}`);
  assert.equal(res[0], 0x12, "result field first, no error field");
}

const PUBLISH = `/${SERVICE}/Publish`;
const MAX_RECEIVE = 4096;

interface BadInput {
  readonly name: string;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly metadata: () => Metadata;
  readonly code: status;
  readonly details?: string | RegExp;
}

const BAD_INPUT: readonly BadInput[] = [
  {
    name: "no authorization metadata",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.from("{}")),
    metadata: () => new Metadata(),
    code: status.UNAUTHENTICATED,
    details: "unauthenticated",
  },
  {
    name: "a wrong key",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.from("{}")),
    metadata: () => metadataOf({ authorization: "apikey wrong" }),
    code: status.UNAUTHENTICATED,
    details: "unauthenticated",
  },
  {
    name: "the key without the apikey scheme",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.from("{}")),
    metadata: () => metadataOf({ authorization: grpcApiKey }),
    code: status.UNAUTHENTICATED,
  },
  {
    name: "the scheme in another case (upstream compares the whole value)",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.from("{}")),
    metadata: () => metadataOf({ authorization: `APIKEY ${grpcApiKey}` }),
    code: status.UNAUTHENTICATED,
  },
  {
    name: "the key in the HTTP API's header",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.from("{}")),
    metadata: () => metadataOf({ "x-api-key": grpcApiKey }),
    code: status.UNAUTHENTICATED,
  },
  {
    name: "a PRO method",
    path: `/${SERVICE}/Connections`,
    bytes: new Uint8Array(),
    metadata: withKey,
    code: status.UNIMPLEMENTED,
  },
  {
    name: "an unknown service",
    path: "/centrifugal.centrifugo.api.Centrifugo/Publish",
    bytes: new Uint8Array(),
    metadata: withKey,
    code: status.UNIMPLEMENTED,
  },
  {
    name: "a method name in another case",
    path: `/${SERVICE}/publish`,
    bytes: new Uint8Array(),
    metadata: withKey,
    code: status.UNIMPLEMENTED,
  },
  {
    name: "a truncated message",
    path: PUBLISH,
    bytes: new Uint8Array([0x0a, 0x05, 0x61]),
    metadata: withKey,
    code: status.INTERNAL,
  },
  {
    name: "a truncated varint",
    path: `/${SERVICE}/History`,
    bytes: new Uint8Array([0x10, 0xff]),
    metadata: withKey,
    code: status.INTERNAL,
  },
  {
    name: "malformed bytes and no key (decoding comes first, as in grpc-go)",
    path: PUBLISH,
    bytes: new Uint8Array([0x0a, 0x05, 0x61]),
    metadata: () => new Metadata(),
    code: status.INTERNAL,
  },
  {
    name: "a message over max_receive_message_size",
    path: PUBLISH,
    bytes: encodePublish("watched", Buffer.alloc(MAX_RECEIVE + 1, 0x20)),
    metadata: withKey,
    code: status.RESOURCE_EXHAUSTED,
  },
];

describe("GRPC API edge", () => {
  let server: TestServer;
  let port: number;
  let watcher: Centrifuge;
  let watched: Subscription;

  before(async () => {
    server = await startTestServer({
      grpc_api: { ...grpcApiConfig.grpc_api, max_receive_message_size: MAX_RECEIVE },
      channel: { without_namespace: { allow_subscribe_for_client: true } },
      client: { insecure: true },
    });
    port = grpcPort(server);
    watcher = newClient(server.url, "json");
    watcher.connect();
    await watcher.ready(5000);
    watched = watcher.newSubscription("watched");
    watched.subscribe();
    await watched.ready(5000);
  });
  after(async () => {
    watcher.disconnect();
    await server.close();
  });

  /** Another client still receives what is published over GRPC. */
  async function stillServing(n: string): Promise<void> {
    const received = once<PublicationContext>(watched, "publication");
    assertPublished(await rawCall(port, PUBLISH, encodePublish("watched", JSON.stringify({ n })), withKey()));
    assert.deepEqual((await within(received, "publication")).data, { n });
  }

  for (const c of BAD_INPUT) {
    it(`${c.name}: ${status[c.code]}, and the server keeps serving`, async () => {
      assertStatus(await rawCall(port, c.path, c.bytes, c.metadata()), c.code, c.details);
      await stillServing(c.name);
    });
  }

  it("accepts a message of exactly max_receive_message_size bytes", async () => {
    const empty = encodePublish("watched", new Uint8Array()).length;
    // data's length prefix takes two bytes at this size.
    const bytes = encodePublish("watched", Buffer.alloc(MAX_RECEIVE - empty - 1, 0x20));
    assert.equal(bytes.length, MAX_RECEIVE);
    const res = await rawCall(port, PUBLISH, bytes, withKey());
    assert.ok(Buffer.isBuffer(res), (res as ServiceError).details);
  });

  it("a Centrifugo error stays in the response by default: status OK, error field set", async () => {
    const caller = new GrpcApiCaller(port);
    const res = (await caller.invoke("Publish", create(PublishRequestSchema, { channel: "" }))) as {
      error?: { code: number; message: string };
      result?: unknown;
    };
    assert.equal(res.error?.code, 107);
    assert.equal(res.error?.message, "bad request");
    assert.equal(res.result, undefined);
  });

  it("ignores unknown fields, as protobuf decoders do", async () => {
    // PublishRequest{channel="watched", data="{}", 99: varint 1}
    const bytes = Buffer.concat([
      encodePublish("watched", Buffer.from("{}")),
      Buffer.from([0x98, 0x06, 0x01]),
    ]);
    assertPublished(await rawCall(port, PUBLISH, bytes, withKey()));
  });
});

describe("GRPC API without a key", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ grpc_api: { enabled: true, address: "127.0.0.1", port: 0 } });
  });
  after(() => server.close());

  it("serves every method of the API list under centrifugal.centrifugo.api.CentrifugoApi (empty requests)", async () => {
    const paths = API_METHODS.map((m) => `/${SERVICE}/${m.grpc}`);
    assert.equal(paths.length, 14);
    for (const path of paths) {
      const res = await rawCall(grpcPort(server), path, new Uint8Array());
      assert.ok(Buffer.isBuffer(res), `${path}: ${(res as ServiceError).details}`);
    }
  });

  it("checks nothing, as upstream installs no key check then", async () => {
    const port = grpcPort(server);
    for (const metadata of [new Metadata(), metadataOf({ authorization: "apikey anything" })]) {
      assertPublished(await rawCall(port, PUBLISH, encodePublish("open", "{}"), metadata));
    }
  });
});

describe("GRPC transport error mode from config", () => {
  let server: TestServer;
  let api: GrpcApiCaller;
  before(async () => {
    server = await startTestServer({
      grpc_api: { ...grpcApiConfig.grpc_api, error_mode: "transport" },
      channel: { namespaces: [{ name: "hist", history_size: 10, history_ttl: "60s" }] },
    });
    api = new GrpcApiCaller(grpcPort(server));
  });
  after(() => server.close());

  it("every call maps errors to statuses with the Error in the details, without asking per call", async () => {
    await assertTransportModeStatuses(api);
    assert.deepEqual(
      await api.call("history", { channel: "hist:x", since: { offset: 5, epoch: "other" }, limit: 1 }),
      { status: 416, json: { code: 112, message: "unrecoverable position" } },
    );
  });

  it("the status carries the code and message directly too", async () => {
    const err = await api
      .invoke("Publish", create(PublishRequestSchema, { channel: "", data: Buffer.from("{}") }))
      .then(
        () => assert.fail("expected a failure"),
        (e: ServiceError) => e,
      );
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.equal(err.details, "bad request");
  });

  it("batch and broadcast still answer OK with errors inside", async () => {
    const batch = (await api.invoke(
      "Batch",
      create(BatchRequestSchema, {
        commands: [{}, { publish: { channel: "nope:x", data: Buffer.from("{}") } }],
      }),
    )) as unknown as { replies: { error?: { code: number } }[] };
    assert.deepEqual(
      batch.replies.map((r) => r.error?.code),
      [104, 102],
    );
    const broadcast = (await api.invoke(
      "Broadcast",
      create(BroadcastRequestSchema, { channels: ["ok", "nope:x"], data: Buffer.from("{}") }),
    )) as unknown as { result: { responses: { error?: { code: number } }[] } };
    assert.deepEqual(
      broadcast.result.responses.map((r) => r.error?.code),
      [undefined, 102],
    );
  });
});

describe("GRPC reflection", () => {
  const definition = loadSync(
    join(process.cwd(), "node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto"),
    { keepCase: true, longs: Number, bytes: Buffer, defaults: true, oneofs: true },
  );
  type ReflectionStream = {
    write(message: unknown): void;
    end(): void;
    on(event: "data", fn: (message: ReflectionResponse) => void): void;
    on(event: "error", fn: (err: ServiceError) => void): void;
  };
  type ReflectionResponse = {
    message_response: string;
    list_services_response?: { service: { name: string }[] };
    file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  };
  const pkg = loadPackageDefinition(definition) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            address: string,
            creds: ChannelCredentials,
          ) => Client & {
            ServerReflectionInfo(metadata?: Metadata): ReflectionStream;
          };
        };
      };
    };
  };

  async function reflect(port: number, request: Record<string, string>): Promise<ReflectionResponse> {
    const client = new pkg.grpc.reflection.v1.ServerReflection(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    );
    rawClients.push(client);
    const stream = client.ServerReflectionInfo();
    const answered = new Promise<ReflectionResponse>((resolve, reject) => {
      stream.on("data", (message) => {
        stream.end();
        resolve(message);
      });
      stream.on("error", reject);
      stream.write(request);
    });
    return within(answered, "a reflection answer");
  }

  let server: TestServer;
  before(async () => {
    server = await startTestServer({ grpc_api: { ...grpcApiConfig.grpc_api, reflection: true } });
  });
  after(() => server.close());

  it("lists the API service", async () => {
    const res = await reflect(grpcPort(server), { list_services: "" });
    const names = res.list_services_response?.service.map((s) => s.name) ?? [];
    assert.ok(names.includes(SERVICE), names.join(", "));
  });

  it("describes the service from api.proto: every method with its request and response types", async () => {
    const res = await reflect(grpcPort(server), { file_containing_symbol: SERVICE });
    const files = (res.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    const file = files.find((f) => f.service.some((s) => s.name === "CentrifugoApi"));
    assert.ok(file !== undefined);
    assert.equal(file.package, "centrifugal.centrifugo.api");
    const service = file.service.find((s) => s.name === "CentrifugoApi");
    assert.deepEqual(
      service?.method.map((m) => [m.name, m.inputType, m.outputType]),
      API_METHODS.map((m) => [
        m.grpc,
        `.centrifugal.centrifugo.api.${m.request.name}`,
        `.centrifugal.centrifugo.api.${m.response.name}`,
      ]).sort((a, b) => order(a[0] as string) - order(b[0] as string)),
    );
    const publish = file.messageType.find((m) => m.name === "PublishRequest");
    assert.deepEqual(
      publish?.field.map((f) => [f.name, f.number]),
      [
        ["channel", 1],
        ["data", 2],
        ["b64data", 3],
        ["skip_history", 4],
        ["tags", 5],
        ["idempotency_key", 6],
        ["delta", 7],
        ["version", 8],
        ["version_epoch", 9],
      ],
    );
  });

  it("is off unless enabled", async () => {
    const off = await startTestServer(grpcApiConfig);
    try {
      await assert.rejects(reflect(grpcPort(off), { list_services: "" }), (err: ServiceError) => {
        assert.equal(err.code, status.UNIMPLEMENTED);
        return true;
      });
    } finally {
      await off.close();
    }
  });
});

/** Position of a method in proto/api.proto's service. */
function order(name: string): number {
  return [
    "Batch",
    "Publish",
    "Broadcast",
    "Subscribe",
    "Unsubscribe",
    "Disconnect",
    "Presence",
    "PresenceStats",
    "History",
    "HistoryRemove",
    "Info",
    "RPC",
    "Refresh",
    "Channels",
  ].indexOf(name);
}

describe("GRPC API over TLS", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "turbine-grpc-tls-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves TLS with the certificate as PEM text, base64 or a file path; plaintext clients fail", async () => {
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, TEST_KEY_PEM);
    const forms = [
      { cert_pem: TEST_CERT_PEM, key_pem: TEST_KEY_PEM },
      { cert_pem: Buffer.from(TEST_CERT_PEM).toString("base64"), key_pem: keyFile },
    ];
    for (const tls of forms) {
      const server = await startTestServer({
        grpc_api: { ...grpcApiConfig.grpc_api, tls: { enabled: true, ...tls } },
      });
      try {
        const secure = new GrpcApiCaller(
          grpcPort(server),
          grpcApiKey,
          credentials.createSsl(Buffer.from(TEST_CERT_PEM)),
        );
        const info = (await secure.invoke("Info", create(InfoRequestSchema))) as unknown as {
          result: { nodes: unknown[] };
        };
        assert.equal(info.result.nodes.length, 1);
        const plain = await rawCall(grpcPort(server), `/${SERVICE}/Info`, new Uint8Array(), withKey());
        assertStatus(plain, status.UNAVAILABLE);
      } finally {
        await server.close();
      }
    }
  });

  it("refuses to start on bad TLS config, naming the key", async () => {
    await assert.rejects(
      startTestServer({
        grpc_api: { ...grpcApiConfig.grpc_api, tls: { enabled: true, key_pem: TEST_KEY_PEM } },
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /grpc_api\.tls: cert_pem and key_pem are required/);
        return true;
      },
    );
    await assert.rejects(
      startTestServer({
        grpc_api: {
          ...grpcApiConfig.grpc_api,
          tls: { enabled: true, cert_pem: join(dir, "missing.pem"), key_pem: TEST_KEY_PEM },
        },
      }),
      /grpc_api\.tls\.cert_pem: invalid PEM data/,
    );
  });
});

describe("GRPC API config forms", () => {
  it("v5 keys still enable and configure it, with warnings naming the v6 keys", async () => {
    const values = { grpc_api: true, grpc_api_port: 0, grpc_api_address: "127.0.0.1", grpc_api_key: "old" };
    const { config, warnings } = loadConfig({ values, env: {} });
    assert.equal(config.grpc_api.enabled, true);
    assert.equal(config.grpc_api.key, "old");
    assert.ok(
      warnings.some((w) => w.includes('"grpc_api.enabled"')),
      warnings.join("\n"),
    );
    const server = await startTestServer(values);
    try {
      const api = new GrpcApiCaller(grpcPort(server), "old");
      assert.deepEqual((await api.call("publish", { channel: "c", data: {} })).json, { result: {} });
    } finally {
      await server.close();
    }
  });

  it("CENTRIFUGO_GRPC_API=1 (the seed's Go example) enables it, with a warning naming grpc_api.enabled", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const server = await startTurbine({
      config: { http_server: { address: "127.0.0.1", port: 0 } },
      env: {
        CENTRIFUGO_GRPC_API: "1",
        CENTRIFUGO_GRPC_API_PORT: "0",
        CENTRIFUGO_GRPC_API_ADDRESS: "127.0.0.1",
      },
      logger,
    });
    try {
      assert.notEqual(server.grpcPort, undefined);
      assert.ok(
        lines.some((l) => l.includes("CENTRIFUGO_GRPC_API") && l.includes("grpc_api.enabled")),
        lines.join(""),
      );
      const res = await new GrpcApiCaller(server.grpcPort as number, undefined).call("info", {});
      assert.equal(res.status, 200);
    } finally {
      await server.close();
    }
  });

  it("is off by default", async () => {
    const server = await startTestServer({});
    try {
      assert.equal(server.server.grpcPort, undefined);
    } finally {
      await server.close();
    }
  });
});

describe("GRPC API shutdown", () => {
  it("stops with the node, promptly even with an idle client connected; later calls fail", async () => {
    const server = await startTestServer(grpcApiConfig);
    const api = grpcCaller(server);
    assert.equal((await api.call("info", {})).status, 200);
    // The shutdown timeout is 30 s: an idle GRPC connection must not hold the close up until then.
    await within(server.close(), "close");
    await assert.rejects(api.call("info", {}), (err: ServiceError) => {
      assert.equal(err.code, status.UNAVAILABLE);
      return true;
    });
  });
});
