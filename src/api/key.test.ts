import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiKeyMatcher } from "./key.js";

describe("apiKeyMatcher", () => {
  const matches = apiKeyMatcher("secret");
  const cases: [string | Uint8Array, boolean][] = [
    ["secret", true],
    [new TextEncoder().encode("secret"), true],
    ["", false],
    ["Secret", false],
    ["secret ", false],
    ["secre", false],
    ["a much longer presented key than the configured one", false],
  ];
  for (const [given, expected] of cases) {
    it(`${JSON.stringify(String(given))} → ${expected}`, () => assert.equal(matches(given), expected));
  }
});
