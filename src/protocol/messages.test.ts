import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PublicationSchema, SubscribeRequestSchema, SubscribeResultSchema } from "./gen/client_pb.js";
import { newMessage, subscribeRequest, subscribeResult } from "./messages.js";

describe("fast-mode messages", () => {
  it("build the same zero messages as create()", () => {
    for (const schema of [SubscribeRequestSchema, SubscribeResultSchema, PublicationSchema]) {
      assert.deepEqual(newMessage(schema), create(schema));
    }
  });

  it("fill set members and leave unset or undefined ones at zero, as create() does", () => {
    const request = { channel: "chat", recover: undefined, offset: 5, epoch: "e" };
    assert.deepEqual(subscribeRequest(request), create(SubscribeRequestSchema, request));
    const pub = create(PublicationSchema, { offset: 3 });
    const result = { positioned: true, offset: 3, data: undefined, publications: [pub] };
    assert.deepEqual(subscribeResult(result), create(SubscribeResultSchema, result));
  });

  it("give each message its own lists", () => {
    const a = subscribeResult({});
    a.publications.push(create(PublicationSchema));
    assert.equal(subscribeResult({}).publications.length, 0);
  });
});
