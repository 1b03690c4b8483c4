import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compileGlob } from "../../src/util/glob.js";
import { originChecker } from "../../src/transport/origin.js";
import { globInput, globPattern, rawGlobPattern } from "./glob-arbitraries.js";
import { assertAgrees as agrees } from "./glob-oracle.js";

/** pattern, inputs that match, inputs that do not. */
const CASES: [string, string[], string[]][] = [
  ["", [""], ["a"]],
  ["chat:*", ["chat:", "chat:index", "chat:a\nb"], ["chat", "xchat:a"]],
  ["https://*.example.com", ["https://a.example.com", "https://a.b.example.com"], ["https://example.com"]],
  ["a?c", ["abc", "a😀".slice(0, 2) + "c"], ["ac", "abbc"]],
  ["[abc]x", ["ax", "cx"], ["dx", "x"]],
  ["[a-c]", ["a", "b", "c"], ["d", "-"]],
  ["[!a-c]", ["d", "-"], ["a", "b", ""]],
  ["[a-]", ["a", "-"], ["b"]],
  ["[a-c-e]", ["b", "-", "e"], ["d"]],
  ["[]", [], ["", "a", "]"]],
  ["[!]", ["a", "]", "\n"], ["", "ab"]],
  ["[^a]", ["^", "a"], ["b"]],
  ["{a,b}", ["a", "b"], ["", "ab", "{a,b}"]],
  ["{a,}x", ["ax", "x"], ["bx"]],
  ["{a,{b,c}d}", ["a", "bd", "cd"], ["b", "ad"]],
  ["{}", [""], ["a"]],
  ["a,b}", ["a,b}"], ["a"]],
  ["\\*\\?\\[\\{", ["*?[{"], ["a?[{"]],
  ["a\\", ["a\\"], ["a"]],
  ["*a*a*b", ["aab", "xaxaxb"], ["aba", "ab"]],
  ["😀*", ["😀", "😀x"], ["x😀"]],
];

describe("compileGlob", () => {
  for (const [pattern, yes, no] of CASES) {
    it(`${JSON.stringify(pattern)} matches ${JSON.stringify(yes)}, not ${JSON.stringify(no)}`, () => {
      const glob = compileGlob(pattern);
      for (const input of yes) assert.equal(glob.test(input), true, input);
      for (const input of no) assert.equal(glob.test(input), false, input);
    });
  }

  for (const pattern of ["[", "a[b", "{a", "{a,b", "{a}{", "[z-a]"]) {
    it(`refuses ${JSON.stringify(pattern)}`, () => assert.throws(() => compileGlob(pattern), Error));
  }

  it("can be reused for many inputs", () => {
    const glob = compileGlob("{a,b}*c");
    assert.deepEqual(
      ["ac", "bxc", "cc", "ac", "a"].map((input) => glob.test(input)),
      [true, true, false, true, false],
    );
  });

  it("a long pattern does not overflow the stack", () => {
    assert.equal(compileGlob("*".repeat(100_000)).test("abc"), true);
    assert.equal(compileGlob("{".repeat(1000) + "a" + "}".repeat(1000)).test("a"), true);
    assert.throws(() => compileGlob("{".repeat(1001) + "a" + "}".repeat(1001)), /nested too deeply/);
  });
});

// Both cases took seconds each with the RegExp matcher; 1000 rounds of them would outlast the timeout by far.
describe("compileGlob: no backtracking blow-up", { timeout: 60_000 }, () => {
  it("*a*a*a*a*a*a*a*a*a*a*b against 40 a's, 1000 times", () => {
    const glob = compileGlob("*a*a*a*a*a*a*a*a*a*a*b");
    for (let i = 0; i < 1000; i++) assert.equal(glob.test("a".repeat(40)), false);
    assert.equal(glob.test(`${"a".repeat(40)}b`), true);
  });

  it("allowed_origins https://*.*.*.example.com against a 4 KB Origin, 100 times", async () => {
    const allowed = originChecker(["https://*.*.*.example.com"]);
    const origin = `https://${"a.".repeat(2048)}`;
    let ticks = 0;
    for (let i = 0; i < 100; i++) {
      setImmediate(() => ticks++);
      assert.equal(allowed(origin), false);
      await new Promise(setImmediate);
    }
    assert.equal(ticks, 100);
    assert.equal(allowed(`${origin}example.com`), true);
  });
});

describe("compileGlob against the RegExp it replaces", () => {
  it("agrees on generated patterns", () => {
    fc.assert(
      fc.property(globPattern, fc.array(globInput, { maxLength: 8 }), (pattern, inputs) => {
        for (const input of inputs) agrees(pattern, input);
      }),
      { numRuns: 2000, seed: 18 },
    );
  });

  it("agrees on raw syntax, errors included", () => {
    fc.assert(fc.property(rawGlobPattern, globInput, agrees), { numRuns: 2000, seed: 18 });
  });

  it("agrees on literal-and-star patterns, which take the fast path", () => {
    const starPattern = fc
      .array(fc.constantFrom("a", "b", "ab", "ba", ".", "*", "**"), { maxLength: 8 })
      .map((parts) => parts.join(""));
    const input = fc.array(fc.constantFrom("a", "b", "."), { maxLength: 14 }).map((cs) => cs.join(""));
    fc.assert(fc.property(starPattern, input, agrees), { numRuns: 5000, seed: 18 });
  });
});
