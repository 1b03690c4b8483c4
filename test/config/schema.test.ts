import assert from "node:assert/strict";
import { test } from "node:test";
import { envName, schema } from "../../src/config/index.js";
import type { ObjectSpec } from "../../src/config/spec.js";
import { scopeOf } from "../../src/config/walk.js";

/** Every object spec that starts an alias scope: the root and array items. */
function scopes(spec: ObjectSpec): ObjectSpec[] {
  return [spec, ...scopeOf(spec).lists.flatMap((list) => scopes(list.spec.item))];
}

test("env var names of keys are unique within each scope", () => {
  for (const spec of scopes(schema)) {
    const names = [...scopeOf(spec).leaves.keys()].map((path) => envName(path));
    assert.equal(new Set(names).size, names.length);
  }
});

test("a v5 env name that equals a v6 env name points at the same key", () => {
  for (const spec of scopes(schema)) {
    const scope = scopeOf(spec);
    const v6 = new Map([...scope.leaves.keys()].map((path) => [envName(path), path]));
    for (const [alias, targets] of scope.aliases) {
      const same = v6.get(envName(alias));
      if (same !== undefined)
        assert.deepEqual(
          targets.map((t) => t.target),
          [same],
          alias,
        );
    }
  }
});

test("v5 names are not v6 keys of the same scope unless the v6 key is a section", () => {
  for (const spec of scopes(schema)) {
    for (const alias of scopeOf(spec).aliases.keys()) {
      const field = spec.fields[alias];
      assert.ok(field === undefined || field.kind === "object", alias);
    }
  }
});

test("only v5's shared proxy options map to several keys", () => {
  for (const [alias, targets] of scopeOf(schema).aliases) {
    if (targets.length > 1) assert.match(alias, /^proxy_/, alias);
  }
});

test("implied keys exist", () => {
  for (const spec of scopes(schema)) {
    const scope = scopeOf(spec);
    for (const targets of scope.aliases.values()) {
      for (const t of targets)
        for (const path of Object.keys(t.implies)) assert.ok(scope.leaves.has(path), path);
    }
  }
});
