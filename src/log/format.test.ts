import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { errorField, errorText, rfc3339 } from "./format.js";

describe("rfc3339", () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });
  const instant = new Date("2026-12-03T08:12:00.789Z");

  test("UTC is written with Z, at second precision", () => {
    process.env.TZ = "UTC";
    assert.equal(rfc3339(instant), "2026-12-03T08:12:00Z");
  });

  test("other zones are written in local time with their offset, as Go's time.RFC3339", () => {
    process.env.TZ = "Asia/Kolkata";
    assert.equal(rfc3339(instant), "2026-12-03T13:42:00+05:30");
    process.env.TZ = "America/New_York";
    assert.equal(rfc3339(instant), "2026-12-03T03:12:00-05:00");
  });
});

describe("errorText", () => {
  test("follows the cause chain as Go prints wrapped errors", () => {
    const err = new Error("HTTP request error", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
    assert.equal(errorText(err), "HTTP request error: connect ECONNREFUSED 127.0.0.1:1");
  });

  test("an error without a message gives its parts, code or name", () => {
    assert.equal(errorText(new AggregateError([new Error("a"), new Error("b")], "")), "a; b");
    assert.equal(errorText(Object.assign(new Error(""), { code: "ECONNRESET" })), "ECONNRESET");
    assert.equal(errorText(new TypeError("")), "TypeError");
  });

  test("anything else thrown becomes text", () => {
    assert.equal(errorText("plain"), "plain");
    assert.equal(errorText({ code: 1 }), '{"code":1}');
    assert.equal(errorText(10n), "10");
  });
});

describe("errorField", () => {
  test("err becomes the error string; other fields stay", () => {
    const fields = errorField(false)({ err: new Error("boom"), client: "c" });
    assert.deepEqual(fields, { client: "c", error: "boom" });
  });

  test("an Error under error is turned into text too; a string there is left alone", () => {
    assert.deepEqual(errorField(false)({ error: new Error("boom") }), { error: "boom" });
    assert.deepEqual(errorField(false)({ error: "as is" }), { error: "as is" });
  });

  test("the stack goes along only when asked (debug and trace levels)", () => {
    const fields = errorField(true)({ err: new Error("boom") });
    assert.match(String(fields.stack), /^Error: boom\n\s+at /);
  });
});
