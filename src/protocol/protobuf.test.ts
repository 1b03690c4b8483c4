import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, equals, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type Command,
  CommandSchema,
  codecFor,
  decodeProtobufMessage,
  encodeProtobufMessage,
  FilterNodeSchema,
  ProtocolDecodeError,
  ReplySchema,
} from "./index.js";

const protobuf = codecFor("protobuf");
const text = new TextEncoder();
const bytes = (s: string) => text.encode(s);

/** Prefix with the uvarint length, as one unit of a frame. */
function framed(message: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = message.length;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  prefix.push(n);
  return new Uint8Array([...prefix, ...message]);
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

const fullCommand = create(CommandSchema, {
  id: 42,
  connect: {
    token: "jwt",
    data: bytes('{"a":1}'),
    subs: { news: { recover: true, offset: 2 ** 40, epoch: "e" } },
    name: "js",
    version: "5.7.1",
    headers: { "x-a": "b", "": "" },
    flag: 3,
    dict: "d",
    profile: "p",
  },
  subscribe: {
    channel: "chat:ё",
    token: "t",
    recover: true,
    epoch: "e",
    offset: 2 ** 53 - 1,
    data: new Uint8Array([0, 255, 10]),
    positioned: true,
    recoverable: true,
    joinLeave: true,
    delta: "fossil",
    tf: {
      op: "or",
      nodes: [
        { key: "k", cmp: "in", vals: ["a", "b"] },
        { op: "not", nodes: [{ key: "x", cmp: "ex" }] },
      ],
    },
    flag: 1,
    type: -3,
    phase: 2,
    cursor: "c",
    limit: -1,
    asc: true,
  },
  history: { channel: "h", limit: -1, since: { offset: 5, epoch: "e" }, reverse: true },
  subRefresh: {
    channel: "c",
    type: 1,
    track: [{ signature: "s", items: [{ key: "k", version: 9 }] }],
    untrack: ["u"],
  },
  rpc: { method: "m", data: bytes("[]") },
  send: { data: bytes("{}") },
  ping: {},
});

describe("Protobuf command decoding", () => {
  it("decodes what protobuf-es encodes, with 64-bit values as numbers", () => {
    const [cmd] = protobuf.decodeCommands(framed(toBinary(CommandSchema, fullCommand)));
    assert.ok(equals(CommandSchema, cmd as Command, fullCommand));
    assert.equal(typeof cmd?.subscribe?.offset, "number");
    assert.equal(cmd?.subscribe?.offset, 2 ** 53 - 1);
    assert.equal(cmd?.subscribe?.type, -3);
    assert.equal(cmd?.history?.limit, -1);
  });

  it("decodes several length-prefixed commands in one frame, and the empty command", () => {
    const ping = toBinary(CommandSchema, create(CommandSchema, { id: 1, ping: {} }));
    const big = toBinary(
      CommandSchema,
      create(CommandSchema, { id: 2, publish: { channel: "c", data: new Uint8Array(300) } }),
    );
    const cmds = protobuf.decodeCommands(concat(framed(ping), new Uint8Array([0]), framed(big)));
    assert.equal(cmds.length, 3);
    assert.ok(cmds[0]?.ping);
    assert.ok(equals(CommandSchema, cmds[1] as Command, create(CommandSchema)));
    assert.equal(cmds[2]?.publish?.data.length, 300);
    assert.deepEqual(protobuf.decodeCommands(new Uint8Array(0)), []);
  });

  it("skips unknown fields of every wire type", () => {
    // id=1, then field 99 as varint, fixed64, length-delimited and fixed32.
    const body = [
      0x08, 0x01, 0x98, 0x06, 0x05, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9a, 0x06, 0x01, 0xaa, 0x9d, 0x06, 1,
      2, 3, 4,
    ];
    const [cmd] = protobuf.decodeCommands(framed(new Uint8Array(body)));
    assert.equal(cmd?.id, 1);
  });

  it("decodes negative int64 and sint64 values", () => {
    const withNegative = create(CommandSchema, { connect: { flag: -(2 ** 40) - 1 } });
    const [cmd] = protobuf.decodeCommands(framed(toBinary(CommandSchema, withNegative)));
    assert.equal(cmd?.connect?.flag, -(2 ** 40) - 1);
  });

  const bad: [string, number[]][] = [
    ["truncated command", [0x05, 0x08, 0x01]],
    ["truncated length prefix", [0x80]],
    ["oversize varint length", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [
      "oversize varint inside",
      [0x0c, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    ],
    ["garbage (wire type 7)", [0x02, 0x0f, 0x00]],
    ["group wire type", [0x02, 0x0b, 0x0c]],
    ["field number 0", [0x02, 0x00, 0x00]],
    ["wrong wire type for id", [0x02, 0x0a, 0x00]],
    ["wrong wire type for a request", [0x02, 0x20, 0x01]],
    ["nested length beyond its parent", [0x04, 0x22, 0x05, 0x0a, 0x00]],
    ["truncated string", [0x05, 0x22, 0x03, 0x0a, 0x05, 0x61]],
    ["truncated fixed64 unknown field", [0x04, 0x99, 0x06, 0x01, 0x02]],
    ["truncated varint at the end of a command", [0x01, 0x08]],
    ["trailing byte after a command", [0x02, 0x08, 0x01, 0x05]],
  ];
  for (const [name, frame] of bad) {
    it(`rejects: ${name}`, () =>
      assert.throws(() => protobuf.decodeCommands(new Uint8Array(frame)), ProtocolDecodeError));
  }

  it("rejects filters nested too deeply", () => {
    let tf = create(FilterNodeSchema);
    for (let i = 0; i < 150; i++) tf = create(FilterNodeSchema, { op: "not", nodes: [tf] });
    const cmd = create(CommandSchema, { subscribe: { tf } });
    assert.throws(() => protobuf.decodeCommands(framed(toBinary(CommandSchema, cmd))), ProtocolDecodeError);
  });
});

describe("Protobuf reply encoding", () => {
  const replies: [string, MessageInitShape<typeof ReplySchema>][] = [
    ["ping", {}],
    [
      "connect",
      { id: 1, connect: { client: "c", version: "6.9.1", ping: 25, pong: true, subs: { a: { offset: 1 } } } },
    ],
    ["error", { id: 2, error: { code: 100, message: "internal server error", temporary: true } }],
    [
      "publication push",
      {
        push: {
          channel: "chat",
          pub: {
            data: new Uint8Array(1000).fill(7),
            info: { user: "u", client: "c", connInfo: new Uint8Array([1]) },
            offset: 2 ** 52,
            tags: { a: "b" },
            time: 1700000000000,
            score: -(2 ** 40),
            delta: true,
          },
        },
      },
    ],
    ["presence", { id: 3, presence: { presence: { c: { user: "u", client: "c" } } } }],
    ["history", { id: 4, history: { publications: [{ offset: 1 }, { offset: 2 }], epoch: "e", offset: 2 } }],
    [
      "every publication field and push kind",
      {
        push: {
          id: 3,
          channel: "c",
          pub: {
            data: bytes("{}"),
            info: { user: "u", client: "c", connInfo: bytes("1"), chanInfo: bytes("2") },
            offset: 1,
            tags: { a: "b", "": "" },
            delta: true,
            time: 2,
            channel: "ch",
            key: "k",
            removed: true,
            score: 3,
            epoch: "ep",
            prevData: bytes("[]"),
            version: 2 ** 50,
          },
          join: { info: { client: "c" } },
          leave: {},
          unsubscribe: { code: 2000, reason: "server unsubscribe" },
          message: { data: bytes("1") },
          subscribe: { recoverable: true, offset: 4 },
          connect: { client: "c", subs: { a: { offset: 1 } }, time: 5 },
          disconnect: { code: 3000, reconnect: true },
          refresh: { expires: true, ttl: 5 },
        },
      },
    ],
    [
      "several results and a string longer than 127 bytes",
      {
        id: 300,
        error: { message: "é".repeat(100) },
        rpc: { data: new Uint8Array(20000) },
        ping: {},
        publish: {},
      },
    ],
    [
      "subscribe with negative int32",
      { id: 5, subscribe: { type: -1, id: -(2 ** 33), state: [{ key: "k" }] } },
    ],
  ];
  for (const [name, init] of replies) {
    it(`matches protobuf-es byte for byte: ${name}`, () => {
      const reply = create(ReplySchema, init);
      assert.deepEqual(protobuf.encodeReply(reply), framed(toBinary(ReplySchema, reply)));
    });
  }

  it("encodes the ping as a single zero byte", () => {
    assert.deepEqual(protobuf.encodeReply(create(ReplySchema)), new Uint8Array([0]));
  });

  it("round-trips replies through the message-level helpers", () => {
    for (const [, init] of replies) {
      const reply = create(ReplySchema, init);
      assert.ok(
        equals(
          ReplySchema,
          decodeProtobufMessage(ReplySchema, encodeProtobufMessage(ReplySchema, reply)),
          reply,
        ),
      );
    }
  });

  it("concatenates units into a frame", () => {
    const a = protobuf.encodeReply(create(ReplySchema, { id: 1, publish: {} }));
    const b = protobuf.encodeReply(create(ReplySchema));
    assert.deepEqual(protobuf.joinFrame([a, b]), concat(a, b));
    assert.equal(protobuf.joinFrame([a]), a);
  });
});
