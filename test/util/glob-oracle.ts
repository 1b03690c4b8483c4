import assert from "node:assert/strict";
import { compileGlob } from "../../src/util/glob.js";

/**
 * The glob matcher Turbine had before src/util/glob.ts became an automaton: the pattern translated to an
 * anchored backtracking RegExp. Exact, but polynomial of degree the number of `*`; kept only as the oracle of
 * the glob tests and the glob fuzz target.
 */
export function compileGlobAsRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern)}$`, "s");
}

function translate(pattern: string): string {
  let out = "";
  let alternatives = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern.charAt(++i));
    } else if (ch === "*") {
      out += ".*";
    } else if (ch === "?") {
      out += ".";
    } else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new Error(`unclosed "[" in glob pattern ${JSON.stringify(pattern)}`);
      out += characterClass(pattern.slice(i + 1, end));
      i = end;
    } else if (ch === "{") {
      alternatives++;
      out += "(?:";
    } else if (ch === "}" && alternatives > 0) {
      alternatives--;
      out += ")";
    } else if (ch === "," && alternatives > 0) {
      out += "|";
    } else {
      out += escapeRegExp(ch);
    }
  }
  if (alternatives > 0) throw new Error(`unclosed "{" in glob pattern ${JSON.stringify(pattern)}`);
  return out;
}

function characterClass(body: string): string {
  const negated = body.startsWith("!");
  const chars = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&");
  return `[${negated ? "^" : ""}${chars}]`;
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The oracle's answer: whether `input` matches, or "error" when the pattern does not compile. */
export function oracleMatch(pattern: string, input: string): boolean | "error" {
  let re: RegExp;
  try {
    re = compileGlobAsRegExp(pattern);
  } catch {
    return "error";
  }
  return re.test(input);
}

/** Asserts that `compileGlob` and the RegExp oracle agree on `pattern` and `input`, errors included. */
export function assertAgrees(pattern: string, input: string): void {
  let actual: boolean | "error";
  try {
    actual = compileGlob(pattern).test(input);
  } catch {
    actual = "error";
  }
  assert.equal(actual, oracleMatch(pattern, input));
}
