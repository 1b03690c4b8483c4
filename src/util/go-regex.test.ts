import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileGoRegex } from "./go-regex.js";

/** [Go pattern, a text Go's MatchString accepts, one it refuses] */
const MATCHES: [string, string, string][] = [
  ["^room\\-[0-9]+$", "room-1", "room1"],
  ["^[\\w\\-\\.]+$", "a-b_c.d", "a b"],
  ["^a\\_b\\%c\\#d\\!e\\~f$", "a_b%c#d!e~f", "abcdef"],
  ["(?i)^abc$", "ABC", "abd"],
  ["(?is)^a.b$", "A\nB", "a\n\nb"],
  ["^(?P<id>[0-9]+)$", "12", "x"],
  ["^\\pL+$", "чат", "chat1"],
  ["^\\PN+$", "abc", "ab1"],
  ["^.$", "😀", "ab"],
  ["[0-9]", "abc1def", "abc"],
  ["\\Aroom\\z", "room", "room\n"],
  ["(?m)\\Aa$", "a\nb", "b\na"],
  ["^a\\\\-b$", "a\\-b", "a-b"],
];

/** Go RE2 syntax Turbine does not translate: refused with SyntaxError rather than silently misread. */
const REFUSED = ["(", "(?U)a+", "[[:alpha:]]+", "\\Qa.b\\E", "a(?i)b"];

describe("compileGoRegex", () => {
  for (const [pattern, yes, no] of MATCHES) {
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
  for (const pattern of REFUSED) {
    it(`refuses ${pattern}`, () => assert.throws(() => compileGoRegex(pattern), SyntaxError));
  }
});
