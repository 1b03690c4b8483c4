import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { create, ScalarType } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { file_client } from "./gen/client_pb.js";
import { PublicationSchema, ReplySchema } from "./index.js";
import { isJsNumberField } from "./jsnumber.js";

const INT64 = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

describe("generated client protocol", () => {
  it("marks every 64-bit field JS_NUMBER", () => {
    for (const type of nestedTypes(file_client)) {
      if (type.kind !== "message") continue;
      for (const field of type.fields) {
        if (field.scalar !== undefined && INT64.has(field.scalar)) {
          assert.ok(isJsNumberField(field), `${field.toString()} lacks [jstype = JS_NUMBER]`);
        }
      }
    }
  });

  it("types JS_NUMBER fields as number, with numeric zero values from create()", () => {
    const source = readFileSync(new URL("./gen/client_pb.ts", import.meta.url), "utf8");
    assert.doesNotMatch(source, /^\s+\w+\??: .*\bbigint\b/m);
    const pub = create(PublicationSchema);
    assert.equal(pub.offset, 0);
    assert.equal(pub.time, 0);
    assert.equal(pub.score, 0);
    assert.equal(create(ReplySchema, { subscribe: {} }).subscribe?.offset, 0);
  });

  it("keeps upstream's field numbers and reserved ranges", () => {
    const reply = ReplySchema.fields.map((f) => `${f.name}=${f.number}`).join(" ");
    assert.equal(
      reply,
      "id=1 error=2 push=4 connect=5 subscribe=6 unsubscribe=7 publish=8 presence=9 presence_stats=10 history=11 " +
        "ping=12 rpc=13 refresh=14 sub_refresh=15",
    );
    const rpc = file_client.messages.find((m) => m.name === "RPCRequest");
    assert.deepEqual(
      rpc?.fields.map((f) => [f.name, f.number]),
      [
        ["data", 1],
        ["method", 2],
      ],
    );
    assert.deepEqual(
      PublicationSchema.proto.reservedRange.map((r) => [r.start, r.end]),
      [
        [1, 2],
        [2, 3],
        [3, 4],
      ],
    );
  });
});
