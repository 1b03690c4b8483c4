import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CommandSchema,
  codecFor,
  decodeJsonMessage,
  encodeJsonMessage,
  InappropriateProtocolError,
  ProtocolDecodeError,
  ReplySchema,
} from "./index.js";
import { type MemberRange, scanMembers } from "./json-scan.js";

const json = codecFor("json");
const text = new TextEncoder();
const bytes = (s: string) => text.encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const encode = (init: MessageInitShape<typeof ReplySchema>) =>
  str(json.encodeReply(create(ReplySchema, init)));
const decode = (frame: string) => json.decodeCommands(bytes(frame));

describe("JSON reply encoding", () => {
  const cases: [string, MessageInitShape<typeof ReplySchema>, string][] = [
    ["ping", {}, "{}"],
    [
      "connect result",
      { id: 1, connect: { client: "c1", version: "6.9.1", expires: true, ttl: 3600, ping: 25, pong: true } },
      '{"id":1,"connect":{"client":"c1","version":"6.9.1","expires":true,"ttl":3600,"ping":25,"pong":true}}',
    ],
    [
      "connect result with data and server-side subs",
      {
        id: 1,
        connect: { client: "c1", data: bytes('{"a":1}'), subs: { news: { recoverable: true, offset: 2 } } },
      },
      '{"id":1,"connect":{"client":"c1","data":{"a":1},"subs":{"news":{"recoverable":true,"offset":2}}}}',
    ],
    [
      "subscribe result with publications",
      {
        id: 2,
        subscribe: {
          recoverable: true,
          epoch: "abc",
          publications: [{ data: bytes('{"x":1}'), info: { client: "c" }, offset: 3, time: 1700000000000 }],
          recovered: true,
          offset: 3,
          positioned: true,
          wasRecovering: true,
        },
      },
      '{"id":2,"subscribe":{"recoverable":true,"epoch":"abc","publications":[{"data":{"x":1},' +
        '"info":{"user":"","client":"c"},"offset":3,"time":1700000000000}],"recovered":true,"offset":3,' +
        '"positioned":true,"was_recovering":true}}',
    ],
    [
      "push pub",
      { push: { channel: "chat:1", pub: { data: bytes('{"text":"hi"}'), offset: 5, tags: { k: "v" } } } },
      '{"push":{"channel":"chat:1","pub":{"data":{"text":"hi"},"offset":5,"tags":{"k":"v"}}}}',
    ],
    [
      "push join",
      { push: { channel: "c", join: { info: { user: "u", client: "c1", connInfo: bytes('{"n":1}') } } } },
      '{"push":{"channel":"c","join":{"info":{"user":"u","client":"c1","conn_info":{"n":1}}}}}',
    ],
    [
      "push leave",
      { push: { channel: "c", leave: { info: { user: "", client: "c1" } } } },
      '{"push":{"channel":"c","leave":{"info":{"user":"","client":"c1"}}}}',
    ],
    [
      "push unsubscribe",
      { push: { channel: "c", unsubscribe: { code: 2000, reason: "server unsubscribe" } } },
      '{"push":{"channel":"c","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}',
    ],
    [
      "push subscribe",
      { push: { channel: "c", subscribe: { recoverable: true, epoch: "e", offset: 10, positioned: true } } },
      '{"push":{"channel":"c","subscribe":{"recoverable":true,"epoch":"e","offset":10,"positioned":true}}}',
    ],
    [
      "push message and disconnect",
      {
        push: {
          message: { data: bytes("[1,2]") },
          disconnect: { code: 3001, reason: "shutdown", reconnect: true },
        },
      },
      '{"push":{"message":{"data":[1,2]},"disconnect":{"code":3001,"reason":"shutdown","reconnect":true}}}',
    ],
    [
      "error reply",
      { id: 3, error: { code: 103, message: "permission denied" } },
      '{"id":3,"error":{"code":103,"message":"permission denied"}}',
    ],
    [
      "temporary error reply",
      { id: 4, error: { code: 100, message: "internal server error", temporary: true } },
      '{"id":4,"error":{"code":100,"message":"internal server error","temporary":true}}',
    ],
    ["publish result", { id: 2, publish: {} }, '{"id":2,"publish":{}}'],
    ["presence result with empty map", { id: 5, presence: {} }, '{"id":5,"presence":{"presence":{}}}'],
    [
      "presence result",
      { id: 5, presence: { presence: { c1: { user: "u", client: "c1" } } } },
      '{"id":5,"presence":{"presence":{"c1":{"user":"u","client":"c1"}}}}',
    ],
    [
      "presence stats",
      { id: 6, presenceStats: {} },
      '{"id":6,"presence_stats":{"num_clients":0,"num_users":0}}',
    ],
    [
      "history result with zero offset",
      { id: 7, history: {} },
      '{"id":7,"history":{"publications":[],"epoch":"","offset":0}}',
    ],
    ["rpc result", { id: 8, rpc: { data: bytes('{"ok":true}') } }, '{"id":8,"rpc":{"data":{"ok":true}}}'],
    [
      "refresh and sub_refresh results",
      { id: 9, refresh: { client: "c1", version: "6.9.1", expires: true, ttl: 60 }, subRefresh: { ttl: 30 } },
      '{"id":9,"refresh":{"client":"c1","version":"6.9.1","expires":true,"ttl":60},"sub_refresh":{"ttl":30}}',
    ],
    [
      "64-bit values, including negative sint64",
      { push: { pub: { offset: 2 ** 53 - 1, score: -5, version: 7 } } },
      '{"push":{"pub":{"offset":9007199254740991,"score":-5,"version":7}}}',
    ],
    [
      "every publication field",
      {
        push: {
          id: 3,
          channel: "c",
          pub: {
            data: bytes('{"a":1}'),
            info: { user: "u", client: "c", connInfo: bytes("1"), chanInfo: bytes('"x"') },
            offset: 1,
            tags: { a: "b", c: "d" },
            delta: true,
            time: 2,
            channel: "ch",
            key: "k",
            removed: true,
            score: -3,
            epoch: "ep",
            prevData: bytes("{}"),
            version: 4,
          },
        },
      },
      '{"push":{"id":3,"channel":"c","pub":{"data":{"a":1},"info":{"user":"u","client":"c","conn_info":1,' +
        '"chan_info":"x"},"offset":1,"tags":{"a":"b","c":"d"},"delta":true,"time":2,"channel":"ch","key":"k",' +
        '"removed":true,"score":-3,"epoch":"ep","prev_data":{},"version":4}}}',
    ],
    [
      "every push kind",
      {
        push: {
          join: { info: { client: "c" } },
          leave: {},
          unsubscribe: { code: 2000 },
          message: { data: bytes("1") },
          subscribe: { data: bytes("2") },
          connect: { client: "c", subs: { a: {} } },
          disconnect: { code: 3000 },
          refresh: { expires: true, ttl: 5 },
        },
      },
      '{"push":{"join":{"info":{"user":"","client":"c"}},"leave":{},"unsubscribe":{"code":2000},' +
        '"message":{"data":1},"subscribe":{"data":2},"connect":{"client":"c","subs":{"a":{}}},' +
        '"disconnect":{"code":3000},"refresh":{"expires":true,"ttl":5}}}',
    ],
  ];
  for (const [name, init, expected] of cases) {
    it(name, () => assert.equal(encode(init), expected));
  }

  it("escapes strings like Go", () => {
    const channel = 'a"b\\c\n\r\t\u0001<>&\u2028é😀\ud800/\u007f';
    assert.equal(
      encode({ push: { channel } }),
      '{"push":{"channel":"a\\"b\\\\c\\n\\r\\t\\u0001\\u003c\\u003e\\u0026\\u2028é😀\\ufffd/\u007f"}}',
    );
  });

  it("embeds bytes verbatim, stripping raw newlines only", () => {
    const data = bytes('{\n  "n": 12345678901234567890,\r\n  "s": "<&>"\n}');
    assert.equal(
      encode({ push: { pub: { data } } }),
      '{"push":{"pub":{"data":{  "n": 12345678901234567890,\r  "s": "<&>"}}}}',
    );
  });

  it("rejects bytes that are not valid JSON", () => {
    for (const data of [new Uint8Array([0xff, 0x00]), bytes("{"), bytes("1 2"), bytes("\n")]) {
      assert.throws(
        () => json.encodeReply(create(ReplySchema, { push: { pub: { data } } })),
        InappropriateProtocolError,
      );
    }
  });

  it("omits empty bytes", () => {
    assert.equal(encode({ push: { pub: { data: new Uint8Array(0) } } }), '{"push":{"pub":{}}}');
  });

  it("recovers after a failed encode", () => {
    assert.throws(() => encode({ rpc: { data: bytes("nope") } }), InappropriateProtocolError);
    assert.equal(encode({ id: 1, publish: {} }), '{"id":1,"publish":{}}');
  });

  it("joins units with newlines", () => {
    const units = [bytes("{}"), bytes('{"id":1}'), bytes('{"id":2}')];
    assert.equal(str(json.joinFrame(units)), '{}\n{"id":1}\n{"id":2}');
    assert.equal(json.joinFrame([units[1] as Uint8Array]), units[1]);
  });
});

describe("JSON command decoding", () => {
  it("decodes a connect command as centrifuge-js sends it", () => {
    const [cmd] = decode('{"id":1,"connect":{"token":"JWT","name":"js","headers":{"X-A":"b"}}}');
    assert.equal(cmd?.id, 1);
    assert.equal(cmd?.connect?.token, "JWT");
    assert.equal(cmd?.connect?.name, "js");
    assert.deepEqual(cmd?.connect?.headers, { "X-A": "b" });
  });

  it("decodes numbers, booleans and nested messages", () => {
    const [cmd] = decode(
      '{"id":4294967295,"subscribe":{"channel":"c","recover":true,"offset":18446744073709551615,"epoch":"e",' +
        '"flag":-1,"limit":-1,"tf":{"op":"and","nodes":[{"key":"a","cmp":"in","vals":["x","y"]}]}},' +
        '"history":{"channel":"c","limit":-1,"since":{"offset":0,"epoch":"e"},"reverse":true}}',
    );
    assert.equal(cmd?.id, 4294967295);
    assert.equal(cmd?.subscribe?.recover, true);
    assert.equal(cmd?.subscribe?.offset, 2 ** 64, "uint64 max, rounded to the nearest double");
    assert.equal(cmd?.subscribe?.flag, -1);
    assert.deepEqual(cmd?.subscribe?.tf?.nodes[0]?.vals, ["x", "y"]);
    assert.equal(cmd?.history?.limit, -1);
    assert.equal(cmd?.history?.since?.epoch, "e");
  });

  it("keeps the exact bytes of raw data", () => {
    const data = '{"n":12345678901234567890, "x": 1.0}';
    const [cmd] = decode(`{"id":1,"publish":{"channel":"a","data":${data}}}`);
    assert.equal(cmd?.publish?.channel, "a");
    assert.equal(str(cmd?.publish?.data as Uint8Array), data);
    for (const value of ['"str\\n"', "null", "[ 1 , [] ]", "-0.5e+10", "true"]) {
      const [rpc] = decode(`{"id":2,"rpc":{"method":"m","data": ${value} }}`);
      assert.equal(str(rpc?.rpc?.data as Uint8Array), value);
    }
  });

  it("decodes escapes, including surrogate pairs", () => {
    const [cmd] = decode('{"id":1,"subscribe":{"channel":"ch\\u00e9\\ud83d\\ude00\\n\\"\\/\\ud800x é"}}');
    assert.equal(cmd?.subscribe?.channel, 'ché😀\n"/\ufffdx é');
  });

  it("ignores unknown keys and nulls, matches keys case-insensitively like Go", () => {
    const [cmd] = decode(
      '{"id":1,"foo":{"a":[1,2,{"b":null}]},"publish":null,"rpc":{"method":null},"SEND":{"Data":{}}}',
    );
    assert.equal(cmd?.id, 1);
    assert.equal(cmd?.publish, undefined);
    assert.equal(cmd?.rpc?.method, "");
    assert.equal(str(cmd?.send?.data as Uint8Array), "{}");
  });

  it("decodes batches and the empty command (pong)", () => {
    const cmds = decode('{"id":1,"ping":{}}\n{}\n{"id":2,"presence":{"channel":"c"}}\n');
    assert.equal(cmds.length, 3);
    assert.ok(equals(CommandSchema, cmds[1] as (typeof cmds)[number], create(CommandSchema)));
    assert.equal(cmds[2]?.presence?.channel, "c");
    assert.equal(decode(" {} \r").length, 1);
  });

  it("round-trips every command field through the JSON writer", () => {
    const cmd = create(CommandSchema, {
      id: 7,
      connect: {
        token: "t",
        data: bytes('{"a":1}'),
        subs: { c: { offset: 3, epoch: "e" } },
        headers: { h: "v" },
      },
      subscribe: { channel: "c", tf: { op: "not", nodes: [{ key: "k", cmp: "eq", val: "v" }] }, flag: 2 },
      subRefresh: {
        channel: "c",
        track: [{ signature: "s", items: [{ key: "k", version: 9 }] }],
        untrack: ["u"],
      },
      rpc: { method: "m", data: bytes("[1]") },
    });
    assert.ok(
      equals(CommandSchema, decodeJsonMessage(CommandSchema, encodeJsonMessage(CommandSchema, cmd)), cmd),
    );
  });

  it("does not let a map key replace the prototype", () => {
    const [cmd] = decode('{"id":1,"connect":{"headers":{"__proto__":"x"}}}');
    assert.equal(Object.getPrototypeOf(cmd?.connect?.headers), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(cmd?.connect?.headers, "__proto__")?.value, "x");
  });

  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  const deepFilter = (n: number) => `${'{"nodes":['.repeat(n)}{}${"]}".repeat(n)}`;
  const bad: [string, string][] = [
    ["empty frame", ""],
    ["only a newline", "\n"],
    ["two trailing newlines", "{}\n\n"],
    ["empty line in a batch", '{"id":1}\n\n{"id":2}'],
    ["malformed JSON", "{"],
    ["array command", "[]"],
    ["null command", "null"],
    ["number command", "123"],
    ["string command", '"x"'],
    ["trailing data", '{"id":1}x'],
    ["two objects on a line", "{} {}"],
    ["bad second command", '{"id":1}\n[]'],
    ["trailing comma", '{"id":1,}'],
    ["missing colon", '{"id" 1}'],
    ["unquoted key", "{id:1}"],
    ["negative id", '{"id":-1}'],
    ["negative zero id", '{"id":-0}'],
    ["fractional id", '{"id":1.5}'],
    ["exponent id", '{"id":1e2}'],
    ["string id", '{"id":"1"}'],
    ["boolean id", '{"id":true}'],
    ["id above uint32", '{"id":4294967296}'],
    ["int64 out of range", '{"id":1,"connect":{"flag":-9223372036854775809}}'],
    ["uint64 out of range", '{"id":1,"subscribe":{"offset":18446744073709551616}}'],
    ["60,000-digit id", `{"id":${"4".repeat(60_000)}}`],
    ["million-digit uint64", `{"id":1,"subscribe":{"offset":${"1".repeat(1_000_000)}}}`],
    ["million-digit negative int64", `{"id":1,"connect":{"flag":-${"1".repeat(1_000_000)}}}`],
    ["leading zero", '{"id":01}'],
    ["request is an array", '{"id":1,"connect":[]}'],
    ["string field is a number", '{"id":1,"connect":{"token":5}}'],
    ["bool field is a string", '{"id":1,"subscribe":{"channel":"c","recover":"yes"}}'],
    ["map value of wrong type", '{"id":1,"connect":{"headers":{"a":1}}}'],
    ["map of messages holds a number", '{"id":1,"connect":{"subs":{"a":5}}}'],
    ["list field is a string", '{"id":1,"sub_refresh":{"untrack":"x"}}'],
    ["missing raw value", '{"id":1,"publish":{"channel":"c","data":}}'],
    ["invalid raw value", '{"id":1,"publish":{"channel":"c","data":{"a":}}}'],
    ["raw value with a leading zero", '{"id":1,"publish":{"channel":"c","data":01}}'],
    ["raw control character in a string", '{"id":1,"connect":{"token":"a\u0001"}}'],
    ["invalid escape", '{"id":1,"connect":{"token":"\\x"}}'],
    ["short unicode escape", '{"id":1,"connect":{"token":"\\u12"}}'],
    ["unterminated string", '{"id":1,"connect":{"token":"abc'],
    ["unknown value nested too deeply", `{"x":${deep(20000)}}`],
    ["filter nested too deeply", `{"id":1,"subscribe":{"tf":${deepFilter(150)}}}`],
  ];
  for (const [name, frame] of bad) {
    it(`rejects: ${name}`, () => assert.throws(() => decode(frame), ProtocolDecodeError));
  }

  it("rejects an over-long integer with the same reason as one just out of range", () => {
    const reason = (frame: string) =>
      assert.throws(
        () => decode(frame),
        (err: Error) => /integer out of range$/.test(err.message),
      );
    reason(`{"id":1,"subscribe":{"offset":18446744073709551616}}`);
    reason(`{"id":1,"subscribe":{"offset":${"1".repeat(1_000_000)}}}`);
    reason(`{"id":${"4".repeat(60_000)}}`);
  });

  it("never runs BigInt over more than 20 characters", () => {
    const original = globalThis.BigInt;
    const lengths: number[] = [];
    const spy = (value: string) => {
      lengths.push(value.length);
      return original(value);
    };
    globalThis.BigInt = spy as unknown as BigIntConstructor;
    try {
      for (const offset of ["18446744073709551616", "1".repeat(60_000), `-${"1".repeat(21)}`]) {
        assert.throws(() => decode(`{"id":1,"subscribe":{"offset":${offset}}}`), ProtocolDecodeError);
      }
    } finally {
      globalThis.BigInt = original;
    }
    assert.deepEqual(lengths, [20]);
  });

  it("accepts the 20-character extremes of int64 and uint64", () => {
    assert.equal(decode('{"id":1,"subscribe":{"offset":18446744073709551615}}').length, 1);
    assert.equal(decode('{"id":1,"connect":{"flag":-9223372036854775808}}').length, 1);
  });

  it("accepts deep but bounded nesting", () => {
    assert.equal(decode(`{"x":${deep(5000)}}`).length, 1);
    assert.equal(decode(`{"id":1,"subscribe":{"tf":${deepFilter(50)}}}`).length, 1);
  });
});

describe("scanMembers", () => {
  const members = (s: string) => {
    const found: MemberRange[] = [];
    const end = scanMembers(bytes(s), 0, bytes(s).length, found);
    const slice = (a: number, b: number) => s.slice(a, b);
    return { end, found: found.map((m) => [slice(m.keyStart, m.keyEnd), slice(m.valueStart, m.valueEnd)]) };
  };
  it("gives each key and value as written, in order, duplicates included", () => {
    assert.deepEqual(members('{ "a" : [1, "]}"] ,"b":null,"a":{} } tail'), {
      end: 36,
      found: [
        ['"a"', '[1, "]}"]'],
        ['"b"', "null"],
        ['"a"', "{}"],
      ],
    });
  });
  it("returns -1 for anything but an object", () => {
    for (const s of ["[]", "{", '{"a"}', '{"a":1,}', "{a:1}", '{"a":1 "b":2}']) {
      assert.equal(members(s).end, -1, s);
    }
  });
});
