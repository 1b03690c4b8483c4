import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64Std, decodeBase64Url } from "../../src/auth/base64.js";
import { objectMembers } from "../../src/auth/json-members.js";

describe("objectMembers", () => {
  it("keeps each value's source text, in document order, duplicates included", () => {
    const text =
      ' { "a" : { "x" : [1, "]}"] } , "b":12345678901234567890,"a":"\\"q\\"", "c" :null,"d":true }';
    assert.deepEqual(objectMembers(text), [
      { key: "a", raw: '{ "x" : [1, "]}"] }' },
      { key: "b", raw: "12345678901234567890" },
      { key: "a", raw: '"\\"q\\""' },
      { key: "c", raw: "null" },
      { key: "d", raw: "true" },
    ]);
  });

  it("decodes escaped keys", () => {
    assert.deepEqual(objectMembers('{"\\u0073ub":"1","\\\\":2}'), [
      { key: "sub", raw: '"1"' },
      { key: "\\", raw: "2" },
    ]);
  });

  it("handles empty objects and nested empties", () => {
    assert.deepEqual(objectMembers("{}"), []);
    assert.deepEqual(objectMembers('{"a":{},"b":[]}'), [
      { key: "a", raw: "{}" },
      { key: "b", raw: "[]" },
    ]);
  });

  it("returns undefined for anything but a JSON object", () => {
    for (const text of ["", "[]", "null", "1", '"{}"', "{", '{"a":}', "{} {}"]) {
      assert.equal(objectMembers(text), undefined, text);
    }
  });
});

describe("base64 decoders", () => {
  it("accepts only unpadded base64url for JWS segments", () => {
    assert.deepEqual([...(decodeBase64Url("_-8") ?? [])], [255, 239]);
    assert.deepEqual([...(decodeBase64Url("") ?? [])], []);
    for (const text of ["AQ==", "a+b", "a/b", "a b", "A"])
      assert.equal(decodeBase64Url(text), undefined, text);
  });

  it("accepts only padded standard base64 for b64info, skipping line breaks like Go", () => {
    assert.deepEqual([...(decodeBase64Std("+/8=") ?? [])], [251, 255]);
    assert.deepEqual([...(decodeBase64Std("AQID\r\nBA==") ?? [])], [1, 2, 3, 4]);
    for (const text of ["AQ", "AQ=", "-_8=", "A===", "AQ==AQ==", " AQ=="]) {
      assert.equal(decodeBase64Std(text), undefined, text);
    }
  });
});
