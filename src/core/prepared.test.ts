import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PublicationSchema, PushSchema } from "../protocol/index.js";
import { encodePublicationPush, PreparedPublication, PreparedPush } from "./prepared.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const json = (unit: Uint8Array | Error) => {
  assert.ok(unit instanceof Uint8Array, `expected an encoded unit, got ${String(unit)}`);
  return JSON.parse(new TextDecoder().decode(unit));
};

/** A publication of `data` on chat:1 at offset 5, optionally published with delta against `prev`. */
function prepared(data: string, prev?: string): PreparedPublication {
  const pub = create(PublicationSchema, { data: bytes(data), offset: 5 });
  return new PreparedPublication("chat:1", pub, "e1", 0, prev === undefined ? undefined : bytes(prev));
}

describe("PreparedPush", () => {
  it("encodes once per protocol: every subscriber shares the same bytes", () => {
    const push = prepared('{"n":1}');
    const first = push.unit("json");
    assert.equal(push.unit("json"), first);
    assert.equal(push.unit("protobuf"), push.unit("protobuf"));
    assert.notEqual(push.unit("protobuf"), first);
  });

  it("encodes the push as Centrifugo's JSON reply", () => {
    assert.deepEqual(json(prepared('{"n":1}').unit("json")), {
      push: { channel: "chat:1", pub: { data: { n: 1 }, offset: 5 } },
    });
  });

  it("encodes a Protobuf unit as one length-prefixed message, ready to be concatenated", () => {
    const unit = prepared('{"n":1}').unit("protobuf");
    assert.ok(unit instanceof Uint8Array);
    assert.equal(unit[0], unit.byteLength - 1);
  });

  it("keeps the encoding error for JSON when the data is not JSON, and still serves Protobuf", () => {
    const push = prepared("\x00binary");
    assert.ok(push.unit("json") instanceof Error);
    assert.equal(push.unit("json"), push.unit("json"));
    assert.ok(push.unit("protobuf") instanceof Uint8Array);
  });

  it("wraps any push, not only publications", () => {
    const push = new PreparedPush(create(PushSchema, { channel: "chat:1" }));
    assert.deepEqual(json(push.unit("json")), { push: { channel: "chat:1" } });
  });
});

describe("PreparedPublication.deltaUnit", () => {
  const previous = JSON.stringify({ text: "a long enough message that a patch is smaller than it", n: 1 });
  const next = JSON.stringify({ text: "a long enough message that a patch is smaller than it", n: 2 });

  it("sends a fossil patch to a subscriber holding the base, as a JSON string", () => {
    const unit = json(prepared(next, previous).deltaUnit("json", true));
    assert.equal(unit.push.pub.delta, true);
    assert.equal(typeof unit.push.pub.data, "string");
    assert.ok(unit.push.pub.data.length < next.length);
  });

  it("sends the full data to a subscriber without the base", () => {
    const unit = json(prepared(next, previous).deltaUnit("json", false));
    assert.equal(unit.push.pub.delta, undefined);
    assert.equal(unit.push.pub.data, next);
  });

  it("sends the full data when the publication was made without delta", () => {
    const unit = json(prepared(next).deltaUnit("json", true));
    assert.equal(unit.push.pub.data, next);
  });

  it("encodes each variant once per protocol", () => {
    const push = prepared(next, previous);
    assert.equal(push.deltaUnit("json", true), push.deltaUnit("json", true));
    assert.equal(push.deltaUnit("protobuf", false), push.deltaUnit("protobuf", false));
    assert.notEqual(push.deltaUnit("json", true), push.deltaUnit("json", false));
  });
});

describe("PreparedPublication.fromEngine", () => {
  const pub = { offset: 1, data: bytes('{"n":1}'), time: 5 };
  const position = { offset: 1, epoch: "e1" };

  it("writes the units its engine encoded, and asks for a protocol's only when it had to encode it", () => {
    const missing: string[] = [];
    const ready = encodePublicationPush("json", "chat:1", pub, position);
    const encoded = { json: ready as Uint8Array, missing: (protocol: string) => missing.push(protocol) };
    const push = PreparedPublication.fromEngine("chat:1", pub, position, undefined, encoded);
    assert.equal(push.unit("json"), ready, "the engine's bytes, as they are");
    assert.deepEqual(missing, []);
    assert.deepEqual(push.unit("protobuf"), encodePublicationPush("protobuf", "chat:1", pub, position));
    assert.equal(push.unit("protobuf"), push.unit("protobuf"));
    assert.deepEqual(missing, ["protobuf"], "asked once, then encoded here once");
    push.unit("json", true);
    assert.deepEqual(missing, ["protobuf"], "a unidirectional client's bare push is never the engine's");
  });

  it("encodes as the core does: the first publication of a stream carries its epoch", () => {
    const push = PreparedPublication.fromEngine("chat:1", pub, position);
    assert.deepEqual(json(push.unit("json")), {
      push: { channel: "chat:1", pub: { data: { n: 1 }, offset: 1, epoch: "e1" } },
    });
    assert.equal(push.offset, 1);
  });

  it("names the channel a publication was published to only where it is not the subscribers' channel", () => {
    const concrete = { offset: 0, data: bytes('{"n":2}'), time: 0, channel: "news.sport" };
    const none = { offset: 0, epoch: "" };
    const wildcard = PreparedPublication.fromEngine("news.*", concrete, none, bytes("{}"));
    const expected = { channel: "news.*", pub: { data: { n: 2 }, channel: "news.sport" } };
    assert.deepEqual(json(wildcard.unit("json")), { push: expected });
    assert.deepEqual(json(wildcard.unit("json", true)), expected);
    assert.equal(
      json(wildcard.deltaUnit("json", true)).push.pub.channel,
      "news.sport",
      "delta subscribers too",
    );
    assert.deepEqual(wildcard.unit("protobuf"), encodePublicationPush("protobuf", "news.*", concrete, none));
    const same = PreparedPublication.fromEngine("news.sport", concrete, none);
    assert.deepEqual(json(same.unit("json")), { push: { channel: "news.sport", pub: { data: { n: 2 } } } });
  });
});
