/**
 * Fuzz target: the config loader. Any file content (as a JSON value) and any `CENTRIFUGO_*` environment give
 * a config or a ConfigError naming the keys; no other exception. Values follow the schema's shape (its keys,
 * often values of the right kind) so that runs reach the validators. Corpus files are JSON:
 * `{"values": {…}, "env": {…}}`.
 */
import fc from "fast-check";
import { ConfigError, envName, leafPaths, loadConfig, schema } from "../../src/config/index.js";
import type { AnySpec, ObjectSpec } from "../../src/config/spec.js";
import { expectOnly, fuzz, utf8 } from "./harness.js";

interface ConfigInput {
  values: Record<string, unknown>;
  env: Record<string, string>;
}

const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    "",
    "1s",
    "0",
    "-1s",
    "1.5h",
    "100ms",
    "1d",
    "redis://127.0.0.1:1",
    "nats://x",
    "http://[::1]:1/x",
  ),
  fc.constantFrom(
    "memory",
    "redis",
    "nats",
    "json",
    "protobuf",
    "debug",
    "none",
    "{{.x}}",
    "^(?P<a>b)$",
    "(",
    "*",
  ),
);
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

const memo = new Map<AnySpec, fc.Arbitrary<unknown>>();

/** A value for `spec`: mostly of its kind, sometimes any JSON value. */
function valueFor(spec: AnySpec, depth: number): fc.Arbitrary<unknown> {
  let arbitrary = memo.get(spec);
  if (arbitrary === undefined) {
    arbitrary = fc.oneof({ weight: 4, arbitrary: ofKind(spec, depth) }, anyJson);
    memo.set(spec, arbitrary);
  }
  return arbitrary;
}

function ofKind(spec: AnySpec, depth: number): fc.Arbitrary<unknown> {
  switch (spec.kind) {
    case "bool":
      return fc.boolean();
    case "int":
      return fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constantFrom(-1, 2 ** 53, 1e300, 0.5));
    case "number":
      return fc.double();
    case "string":
      return spec.oneOf === undefined ? text : fc.oneof(fc.constantFrom(...spec.oneOf), text);
    case "duration":
      return text;
    case "strings":
      return fc.array(text, { maxLength: 3 });
    case "map":
      return fc.dictionary(fc.string({ maxLength: 5 }), text, { maxKeys: 3 });
    case "list":
      return depth <= 0 ? fc.constant([]) : fc.array(objectFor(spec.item, depth - 1), { maxLength: 2 });
    case "object":
      return objectFor(spec, depth);
  }
}

/** Up to 6 of the object's keys (plus, at times, an unknown one). */
function objectFor(spec: ObjectSpec, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(spec.fields).map(([key, field]) =>
    valueFor(field, depth).map((value): [string, unknown] => [key, value]),
  );
  const unknown = fc.tuple(fc.string({ maxLength: 6 }), anyJson);
  return fc
    .array(fc.oneof({ weight: 8, arbitrary: fc.oneof(...entries) }, unknown), { maxLength: 6 })
    .map((pairs) => Object.fromEntries(pairs));
}

const envNames = leafPaths(schema)
  .filter((path) => !path.includes("[]"))
  .map((path) => envName(path));
const env = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...envNames),
    fc.string({ maxLength: 6 }).map((s) => `CENTRIFUGO_${s}`),
  ),
  fc.oneof(
    text,
    anyJson.map((value) => JSON.stringify(value)),
  ),
  { maxKeys: 3 },
);

fuzz<ConfigInput>({
  name: "config",
  arbitrary: fc.record({
    values: fc.oneof({ weight: 5, arbitrary: objectFor(schema, 2) }, fc.dictionary(fc.string(), anyJson)),
    env,
  }),
  numRuns: 1000,
  fromCorpus: (content) => JSON.parse(utf8.decode(content)) as ConfigInput,
  toCorpus: (input) => utf8.encode(`${JSON.stringify(input)}\n`),
  check: ({ values, env }) => expectOnly(() => loadConfig({ values, env, flags: {} }), ConfigError),
});
