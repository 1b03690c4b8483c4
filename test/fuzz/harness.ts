/**
 * The bounded fuzz run of `npm test` (issue 18): property-based fuzzing with fast-check. Chosen over a
 * coverage-guided fuzzer such as @jazzer.js/core because it is pure JS (no native build, no libFuzzer
 * instrumentation), runs inside node:test with the other tests, is deterministic for a given seed (a CI
 * failure replays exactly with that seed), and shrinks a failing input to a small counterexample before
 * reporting it. Structure-aware arbitraries (command-shaped JSON, schema-shaped configs, signed tokens) make up
 * for the missing coverage feedback.
 *
 * Each target first replays its committed corpus (`test/fuzz/corpus/<target>/*`: interesting inputs and every
 * crash ever found), then runs random inputs:
 * - by default `numRuns` per target from a fixed seed (all targets together well under 60 s);
 * - `FUZZ_SECONDS=300` runs each target for that long from a random seed, and saves a failing input into
 *   the target's corpus folder (`crash-<seed>`), where it stays as a regression case once committed;
 * - `FUZZ_SEED=<n>` replays a reported seed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";

/** One fuzzed component: how to make inputs, store them, and judge the outcome. */
export interface FuzzTarget<T> {
  /** The corpus folder under test/fuzz/corpus/. */
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Random inputs per `npm test` run. */
  readonly numRuns: number;
  /** A corpus file's content as an input. */
  fromCorpus(content: Buffer): T;
  /** An input as a corpus file's content. */
  toCorpus(input: T): Uint8Array;
  /** Throws (an assertion or the unexpected error itself) when the outcome breaks the component's contract. */
  check(input: T): void | Promise<void>;
}

const CORPUS = new URL("./corpus/", import.meta.url);
/** Seed of the bounded run: fixed, so that `npm test` is reproducible. */
const CI_SEED = 18;
/** A run that does not settle this fast is a hang, reported like a crash. */
const RUN_TIMEOUT_MS = 10_000;

const seconds = Number(process.env.FUZZ_SECONDS ?? 0);
/** fast-check seeds are 32-bit integers. */
const seed =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : seconds > 0
      ? Date.now() % 0x7fffffff
      : CI_SEED;

/** Register the corpus replay and the random run of `target` as tests. */
export function fuzz<T>(target: FuzzTarget<T>): void {
  describe(`fuzz ${target.name}`, () => {
    it("replays the corpus", async () => {
      for (const file of corpusFiles(target.name)) {
        const content = readFileSync(new URL(`${target.name}/${file}`, CORPUS));
        try {
          await target.check(target.fromCorpus(content));
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          throw new Error(`corpus ${target.name}/${file} failed: ${reason}`, { cause: err });
        }
      }
    });

    const budget = seconds > 0 ? `${seconds} s` : `${target.numRuns} runs`;
    it(
      `random inputs (seed ${seed}, ${budget})`,
      { timeout: seconds > 0 ? seconds * 2000 : undefined },
      async (t) => {
        const property = fc.asyncProperty(target.arbitrary, async (input) => {
          await target.check(input);
        });
        const details = await fc.check(property, parameters(target));
        t.diagnostic(`${details.numRuns} runs, seed ${seed}`);
        if (!details.failed) return;
        const kept = seconds > 0 ? keep(target, details.counterexample?.[0] as T) : "";
        throw new Error(`${fc.defaultReportMessage(details) ?? "failed"}${kept}`);
      },
    );
  });
}

function parameters<T>(target: FuzzTarget<T>): fc.Parameters<[T]> {
  const common = { seed, timeout: RUN_TIMEOUT_MS };
  if (seconds <= 0) return { ...common, numRuns: target.numRuns };
  return { ...common, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000 };
}

function corpusFiles(name: string): string[] {
  try {
    return readdirSync(new URL(`${name}/`, CORPUS)).sort();
  } catch {
    return [];
  }
}

/** Save the shrunk counterexample of a long run into the corpus; returns a line for the report. */
function keep<T>(target: FuzzTarget<T>, input: T): string {
  const folder = new URL(`${target.name}/`, CORPUS);
  mkdirSync(folder, { recursive: true });
  const file = new URL(`crash-${seed}`, folder);
  writeFileSync(file, target.toCorpus(input));
  return `\nkept as ${file.pathname}`;
}

/** Judge an outcome that must be a value or an error of the `allowed` classes. */
export function expectOnly(
  run: () => unknown,
  ...allowed: (abstract new (...args: never[]) => Error)[]
): void {
  try {
    run();
  } catch (err) {
    if (!allowed.some((type) => err instanceof type)) throw err;
  }
}

/** The async counterpart of {@link expectOnly}. */
export async function expectOnlyAsync(
  run: () => Promise<unknown>,
  ...allowed: (abstract new (...args: never[]) => Error)[]
): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!allowed.some((type) => err instanceof type)) throw err;
  }
}

/** Text as UTF-8 bytes and back, for targets whose corpus files are text. */
export const utf8 = {
  encode: (text: string): Uint8Array => Buffer.from(text, "utf8"),
  decode: (content: Buffer): string => content.toString("utf8"),
};

/**
 * Mutations of valid-looking inputs: truncated, with a byte range replaced by random bytes, or with a chunk
 * repeated, the cheap part of what a coverage-guided fuzzer does.
 */
export function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(base, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.nat(3))
    .map(([bytes, a, b, insert, kind]) => {
      if (bytes.length === 0) return insert;
      const from = a % bytes.length;
      const to = from + (b % (bytes.length - from + 1));
      if (kind === 0) return bytes.subarray(0, from);
      if (kind === 1) return Buffer.concat([bytes.subarray(0, from), insert, bytes.subarray(to)]);
      if (kind === 2)
        return Buffer.concat([bytes.subarray(0, to), bytes.subarray(from, to), bytes.subarray(to)]);
      return bytes;
    });
}
