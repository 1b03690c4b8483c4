/**
 * Fuzz target: the glob matcher against the backtracking RegExp it replaced (same answer, or both refuse the
 * pattern). Corpus files are JSON: `{"pattern": …, "input": …}`.
 */
import fc from "fast-check";
import { globInput, globPattern, rawGlobPattern } from "../util/glob-arbitraries.js";
import { assertAgrees } from "../util/glob-oracle.js";
import { fuzz, utf8 } from "./harness.js";

interface GlobCase {
  pattern: string;
  input: string;
}

fuzz<GlobCase>({
  name: "glob",
  arbitrary: fc
    .tuple(fc.oneof({ weight: 3, arbitrary: globPattern }, rawGlobPattern), globInput)
    .map(([pattern, input]) => ({ pattern, input })),
  numRuns: 5000,
  fromCorpus: (content) => JSON.parse(utf8.decode(content)) as GlobCase,
  toCorpus: (input) => utf8.encode(`${JSON.stringify(input)}\n`),
  check: ({ pattern, input }) => assertAgrees(pattern, input),
});
