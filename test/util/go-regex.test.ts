import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileGoRegex } from "../../src/util/go-regex.js";
import { GO_PATTERNS, GO_PATTERNS_REFUSED } from "../helpers/go-patterns.js";

describe("compileGoRegex", () => {
  for (const [pattern, yes, no] of GO_PATTERNS) {
    it(`${pattern} matches ${JSON.stringify(yes)}, not ${JSON.stringify(no)}`, () => {
      const re = compileGoRegex(pattern);
      assert.equal(re.test(yes), true);
      assert.equal(re.test(no), false);
    });
  }
  it("turns (?P<name> into a named group", () => {
    assert.equal(compileGoRegex("^(?P<tenant>[a-z]+)$").exec("acme")?.groups?.tenant, "acme");
  });
  it("leaves an escaped (?P< alone", () => {
    assert.equal(compileGoRegex("^\\(?P<x>$").test("P<x>"), true);
  });
  for (const pattern of GO_PATTERNS_REFUSED) {
    it(`refuses ${pattern}`, () => assert.throws(() => compileGoRegex(pattern), SyntaxError));
  }
});
