import fc from "fast-check";

/**
 * fast-check arbitraries for glob patterns and inputs over a small alphabet, so that random inputs often
 * match. At most three `*`: the RegExp oracle backtracks in time input^k for k stars.
 */
const ALPHABET = ["a", "b", ".", "-", ",", "}", "!", "\\", "😀", "\n"];

const literal = fc.constantFrom(...ALPHABET);
const escaped = fc.constantFrom(...["*", "?", "[", "{", "\\", ",", "}", "a"].map((ch) => `\\${ch}`));
const classBody = fc
  .array(fc.constantFrom("a", "b", "c", "-", "!", "^", "\\", "[", "z"), { maxLength: 4 })
  .map((chars) => chars.join(""));
const characterClass = classBody.map((body) => `[${body}]`);
const negatedClass = classBody.map((body) => `[!${body}]`);
const simpleTerm = fc.oneof(literal, escaped, fc.constant("?"), characterClass, negatedClass);

/** A pattern of terms with alternatives nested at most twice, and at most three stars. */
export const globPattern: fc.Arbitrary<string> = fc
  .tuple(fc.array(term(2), { maxLength: 6 }), fc.array(fc.nat(6), { maxLength: 3 }))
  .map(([terms, stars]) => {
    const parts = [...terms];
    for (const at of stars) parts.splice(Math.min(at, parts.length), 0, "*");
    return parts.join("");
  });

function term(depth: number): fc.Arbitrary<string> {
  if (depth === 0) return simpleTerm;
  const branch = fc.array(term(depth - 1), { maxLength: 3 }).map((terms) => terms.join(""));
  const alternatives = fc.array(branch, { minLength: 1, maxLength: 3 }).map((bs) => `{${bs.join(",")}}`);
  return fc.oneof({ weight: 4, arbitrary: simpleTerm }, { weight: 1, arbitrary: alternatives });
}

/** Raw strings of glob syntax characters: mostly invalid or odd patterns (unclosed, reversed ranges). */
export const rawGlobPattern: fc.Arbitrary<string> = fc
  .array(fc.constantFrom("a", "b", "z", "*", "?", "[", "]", "{", "}", ",", "!", "-", "\\"), { maxLength: 10 })
  .map((chars) => chars.join(""))
  .filter((pattern) => pattern.split("*").length <= 4);

/** Inputs over the same alphabet as the patterns. */
export const globInput: fc.Arbitrary<string> = fc
  .array(fc.constantFrom("a", "b", "c", "z", ".", "-", ",", "!", "\\", "[", "^", "😀", "\n", "*"), {
    maxLength: 12,
  })
  .map((chars) => chars.join(""));
