import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PublicationContext } from "centrifuge";
import { exportSPKI, generateKeyPair } from "jose";
import { newClient, once } from "../helpers/clients.js";
import {
  encodeProtobufCommand,
  lengthPrefixed,
  type Protocol,
  RawClient,
  type RawCommand,
} from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken, signWith } from "../helpers/tokens.js";

/**
 * Bad input, as a table run over raw sockets: each row sends frames and expects either an error reply to its
 * last command (the connection stays usable) or a close code. After every row a fresh official client still
 * connects and round-trips a publication, so one bad client never takes the server down for the others.
 */

/** A command (encoded in the row's protocol) or a frame sent exactly as given. */
type Input = RawCommand | string | Uint8Array;

interface Fixtures {
  /** Valid HS256 connection token for the main server. */
  token: string;
  /** Valid RS256 connection token for the RSA-only server. */
  rsaToken: string;
  wrongSecret: string;
  expired: string;
  algNone: string;
}

interface Row {
  name: string;
  /** Default: both protocols when every input is a command, else the protocol the raw frames are in. */
  protocols?: Protocol[];
  /** Default "main" (HMAC); "rsa" only knows an RSA public key. */
  server?: "main" | "rsa";
  /** Connect with a valid token before sending `input` (default true). */
  connect?: boolean;
  input: (f: Fixtures, protocol: Protocol) => Input[];
  /** An error reply to the last command (which must carry an id), or the close code. */
  expect: { error: number } | { close: number };
}

const chat = {
  name: "chat",
  allow_subscribe_for_client: true,
  allow_publish_for_subscriber: true,
  history_size: 10,
  history_ttl: "60s",
  allow_history_for_client: true,
};

const messageSizeLimit = 1024;

const rows: Row[] = [
  { name: "malformed JSON", input: () => ['{"id":100,"publish":'], expect: { close: 3501 } },
  {
    name: "malformed JSON instead of connect",
    connect: false,
    input: () => ['{"id":1,"connect":{"token":'],
    expect: { close: 3501 },
  },
  { name: "non-object JSON (array)", input: () => ["[1,2,3]"], expect: { close: 3501 } },
  { name: "non-object JSON (number)", input: () => ["42"], expect: { close: 3501 } },
  { name: "non-object JSON (string)", input: () => ['"connect"'], expect: { close: 3501 } },
  { name: "JSON null", input: () => ["null"], expect: { close: 3501 } },
  { name: "empty JSON frame", input: () => [""], expect: { close: 3501 } },
  {
    name: "truncated Protobuf",
    input: () => {
      const frame = lengthPrefixed(
        encodeProtobufCommand({ id: 100, publish: { channel: "chat:a", data: {} } }),
      );
      return [frame.subarray(0, frame.length - 3)];
    },
    expect: { close: 3501 },
  },
  {
    name: "truncated Protobuf connect",
    connect: false,
    input: (f) => {
      const frame = lengthPrefixed(encodeProtobufCommand({ id: 1, connect: { token: f.token } }));
      return [frame.subarray(0, frame.length - 10)];
    },
    expect: { close: 3501 },
  },
  {
    name: "garbage Protobuf (wire type 7)",
    input: () => [Uint8Array.of(0x04, 0x0f, 0x01, 0x02, 0x03)],
    expect: { close: 3501 },
  },
  {
    name: "garbage Protobuf (endless length varint)",
    input: () => [new Uint8Array(12).fill(0xff)],
    expect: { close: 3501 },
  },
  { name: "empty Protobuf frame", input: () => [new Uint8Array(0)], expect: { close: 3501 } },
  { name: "unknown command", input: () => [{ id: 100 }], expect: { close: 3501 } },
  {
    name: "command before connect",
    connect: false,
    input: () => [{ id: 1, subscribe: { channel: "chat:a" } }],
    expect: { close: 3501 },
  },
  {
    name: "second connect",
    input: (f) => [{ id: 100, connect: { token: f.token } }],
    expect: { close: 3501 },
  },
  {
    name: "id 0 on a non-send command before any ping",
    input: () => [{ subscribe: { channel: "chat:a" } }],
    expect: { close: 3501 },
  },
  { name: "pong before any ping", input: () => [{}], expect: { close: 3501 } },
  {
    name: "oversized frame",
    input: () => [{ id: 100, publish: { channel: "chat:a", data: { text: "x".repeat(messageSizeLimit) } } }],
    expect: { close: 1009 },
  },
  {
    name: "invalid token",
    connect: false,
    input: () => [{ id: 1, connect: { token: "not-a-jwt" } }],
    expect: { close: 3500 },
  },
  {
    name: "wrongly-signed token",
    connect: false,
    input: (f) => [{ id: 1, connect: { token: f.wrongSecret } }],
    expect: { close: 3500 },
  },
  {
    name: "expired token",
    connect: false,
    input: (f) => [{ id: 1, connect: { token: f.expired } }],
    expect: { error: 109 },
  },
  {
    name: "alg none token",
    connect: false,
    input: (f) => [{ id: 1, connect: { token: f.algNone } }],
    expect: { close: 3500 },
  },
  {
    name: "HS256 token when only RSA is configured",
    server: "rsa",
    connect: false,
    input: (f) => [{ id: 1, connect: { token: f.token } }],
    expect: { close: 3500 },
  },
  {
    name: "no credentials",
    connect: false,
    input: () => [{ id: 1, connect: {} }],
    expect: { close: 3501 },
  },
  {
    name: "channel too long",
    input: () => [{ id: 100, subscribe: { channel: `chat:${"a".repeat(300)}` } }],
    expect: { error: 107 },
  },
  {
    name: "non-ASCII channel",
    input: () => [{ id: 100, subscribe: { channel: "chat:привет" } }],
    expect: { error: 107 },
  },
  {
    name: "unknown namespace",
    input: () => [{ id: 100, subscribe: { channel: "nope:x" } }],
    expect: { error: 102 },
  },
  {
    name: "empty channel on subscribe",
    input: () => [{ id: 100, subscribe: { channel: "" } }],
    expect: { close: 3501 },
  },
  {
    name: "already subscribed",
    input: () => [
      { id: 100, subscribe: { channel: "chat:dup" } },
      { id: 101, subscribe: { channel: "chat:dup" } },
    ],
    expect: { error: 105 },
  },
  { name: "send command", input: () => [{ send: { data: { hello: 1 } } }], expect: { close: 3508 } },
  // The RSA server keeps the default message_size_limit (64 KB), room for a 60,000-digit id.
  {
    name: "id above uint32",
    server: "rsa",
    input: () => ['{"id":4294967296,"ping":{}}'],
    expect: { close: 3501 },
  },
  {
    name: "60,000-digit id (rejected by length before any BigInt)",
    server: "rsa",
    input: () => [`{"id":${"4".repeat(60_000)},"ping":{}}`],
    expect: { close: 3501 },
  },
  {
    name: "rpc with unknown method",
    input: () => [{ id: 100, rpc: { method: "nope", data: {} } }],
    expect: { error: 104 },
  },
  {
    name: "rpc without an RPC proxy or the ping extension",
    server: "rsa",
    input: () => [{ id: 100, rpc: { method: "anything", data: {} } }],
    expect: { error: 108 },
  },
  {
    name: "history with reverse and since offset 0",
    input: () => [
      { id: 100, history: { channel: "chat:h", reverse: true, since: { offset: 0, epoch: "x" } } },
    ],
    expect: { error: 107 },
  },
  {
    name: "sub_refresh without a token",
    input: () => [
      { id: 99, subscribe: { channel: "chat:refresh" } },
      { id: 100, sub_refresh: { channel: "chat:refresh" } },
    ],
    expect: { error: 107 },
  },
  {
    name: "sub_refresh of a channel not subscribed",
    input: () => [{ id: 100, sub_refresh: { channel: "chat:elsewhere", token: "x" } }],
    expect: { error: 103 },
  },
  {
    name: "map subscription type on a stream namespace",
    input: () => [{ id: 100, subscribe: { channel: "chat:map", type: 1 } }],
    expect: { error: 103 },
  },
];

describe("bad input over raw sockets", { timeout: 30_000 }, () => {
  let main: TestServer;
  let rsa: TestServer;
  let fixtures: Fixtures;

  before(async () => {
    const keys = await generateKeyPair("RS256", { extractable: true });
    const rsaPem = await exportSPKI(keys.publicKey);
    main = await startTestServer({
      client: { token: { hmac_secret_key: hmacSecret } },
      websocket: { message_size_limit: messageSizeLimit },
      channel: { namespaces: [chat] },
      rpc: { ping: { enabled: true } },
    });
    rsa = await startTestServer({
      client: { token: { rsa_public_key: rsaPem } },
      channel: { namespaces: [chat] },
    });
    const now = Math.floor(Date.now() / 1000);
    fixtures = {
      token: await connectToken("alice"),
      rsaToken: await signWith(keys.privateKey, "RS256", { sub: "alice" }),
      wrongSecret: await signWith(new TextEncoder().encode("not-the-secret"), "HS256", { sub: "alice" }),
      expired: await connectToken("alice", { exp: now - 10 }),
      algNone: `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "alice" })}.`,
    };
  });
  after(async () => {
    await Promise.all([main.close(), rsa.close()]);
  });

  for (const row of rows) {
    for (const protocol of row.protocols ?? protocolsOf(row)) {
      const expected = "error" in row.expect ? `error ${row.expect.error}` : `close ${row.expect.close}`;
      it(`${row.name} (${protocol}) → ${expected}`, async () => {
        const server = row.server === "rsa" ? rsa : main;
        const token = row.server === "rsa" ? fixtures.rsaToken : fixtures.token;
        const client = await RawClient.open(server.url, { protocol });
        try {
          if (row.connect !== false) await client.connect(token);
          const inputs = row.input(fixtures, protocol);
          for (const input of inputs) {
            if (typeof input === "string" || input instanceof Uint8Array) client.sendFrame(input);
            else client.send(input);
          }
          if ("close" in row.expect) {
            assert.equal((await client.expectClose()).code, row.expect.close);
          } else {
            const last = inputs[inputs.length - 1] as RawCommand;
            const reply = await client.reply(last.id as number);
            assert.equal(reply.error?.code, row.expect.error, JSON.stringify(reply));
            if (row.connect !== false) {
              // An error reply leaves the session usable.
              assert.equal((await client.call({ ping: {} })).error, undefined);
            }
          }
        } finally {
          await client.terminate();
        }
        await assertServing(server, token);
      });
    }
  }

  it("a malformed command in a batch closes with 3501 after the commands before it ran", async () => {
    const client = await RawClient.connected(main.url, fixtures.token);
    client.sendFrame('{"id":2,"ping":{}}\n{"id":3,"publish":');
    const reply = await client.reply(2);
    assert.equal(reply.error, undefined);
    assert.equal((await client.expectClose()).code, 3501);
    await assertServing(main, fixtures.token);
  });

  it("binary data to a JSON subscriber closes it with 3506; the Protobuf subscriber still gets it", async () => {
    const jsonSub = await RawClient.connected(main.url, fixtures.token);
    const protoSub = await RawClient.connected(main.url, fixtures.token, { protocol: "protobuf" });
    try {
      for (const client of [jsonSub, protoSub]) {
        assert.equal((await client.call({ subscribe: { channel: "chat:binary" } })).error, undefined);
      }
      const binary = Uint8Array.of(0xff, 0x00, 0xfe, 0x7b);
      const published = await protoSub.call({ publish: { channel: "chat:binary", data: binary } });
      assert.equal(published.error, undefined);
      const push = await protoSub.push((p) => p.channel === "chat:binary" && p.pub !== undefined);
      assert.deepEqual(push.pub?.data, binary);
      assert.equal((await jsonSub.expectClose()).code, 3506);
      assert.ok(protoSub.isOpen);
    } finally {
      await Promise.all([jsonSub.terminate(), protoSub.terminate()]);
    }
    await assertServing(main, fixtures.token);
  });
});

/** Rows made only of commands run in both protocols; raw text frames are JSON, raw bytes Protobuf. */
function protocolsOf(row: Row): Protocol[] {
  const inputs = row.input({ token: "", rsaToken: "", wrongSecret: "", expired: "", algNone: "" }, "json");
  if (inputs.some((input) => typeof input === "string")) return ["json"];
  if (inputs.some((input) => input instanceof Uint8Array)) return ["protobuf"];
  return ["json", "protobuf"];
}

/** A fresh official client connects, subscribes and gets its own publication back. */
async function assertServing(server: TestServer, token: string): Promise<void> {
  const client = newClient(server.url, "json", { token });
  try {
    client.connect();
    await client.ready(5000);
    const sub = client.newSubscription("chat:health");
    sub.subscribe();
    await sub.ready(5000);
    const received = once<PublicationContext>(sub, "publication");
    await sub.publish({ ok: true });
    assert.deepEqual((await within(received, "the health publication")).data, { ok: true });
  } finally {
    client.disconnect();
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
