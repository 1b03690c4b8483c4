/**
 * Migration of v5 flat keys found in a raw tree (a config file, or arrays of objects given as JSON): each is
 * moved to its v6 key unless that key is set too, with a warning naming the v6 key. Centrifugo v6 itself only
 * warns about such keys as unknown; accepting them lets v5-era configs keep working.
 */
import { getPath, isPlainObject, joinPath, type RawObject, setPath } from "./raw.js";
import type { ObjectSpec } from "./spec.js";
import { type AliasTarget, scopeOf } from "./walk.js";

/**
 * A key that is also a v6 key of this object stays v6 when its value has the v6 shape. That tells v5's
 * `"admin": true` (→ `admin.enabled`) from v6's `"admin": {…}`.
 */
function isV6Key(spec: ObjectSpec, key: string, value: unknown): boolean {
  const field = spec.fields[key];
  return field !== undefined && (field.kind !== "object" || isPlainObject(value));
}

function moveAlias(raw: RawObject, targets: readonly AliasTarget[], value: unknown): AliasTarget[] {
  const moved = targets.filter((t) => getPath(raw, t.target) === undefined);
  for (const t of moved) {
    setPath(raw, t.target, value);
    if (!value) continue;
    for (const [path, implied] of Object.entries(t.implies)) {
      if (getPath(raw, path) === undefined) setPath(raw, path, implied);
    }
  }
  return moved;
}

function migrateObject(raw: RawObject, spec: ObjectSpec, at: string, warnings: string[]): void {
  const scope = scopeOf(spec);
  // Take every v5 key out first, so that moving one cannot clobber another still to be read
  // (`"engine": "redis"` next to `"redis_address": …`, which both land under `engine`).
  const found: [string, unknown][] = [];
  for (const key of scope.aliases.keys()) {
    if (Object.hasOwn(raw, key) && !isV6Key(spec, key, raw[key])) {
      found.push([key, raw[key]]);
      delete raw[key];
    }
  }
  for (const [key, value] of found) {
    const targets = scope.aliases.get(key) ?? [];
    const moved = moveAlias(raw, targets, value);
    const names = targets.map((t) => `"${joinPath(at, t.target)}"`).join(", ");
    const ignored = moved.length === 0 ? " (ignored: the v6 key is set too)" : "";
    warnings.push(`"${joinPath(at, key)}" is a v5 key, use ${names}${ignored}`);
  }
  for (const list of scope.lists) {
    const items = getPath(raw, list.path);
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      if (isPlainObject(item))
        migrateObject(item, list.spec.item, `${joinPath(at, list.path)}[${i}]`, warnings);
    });
  }
}

/**
 * Moves v5 keys of `tree` (described by `spec`) to their v6 places, in place, and appends one warning per v5
 * key. Running it again is a no-op, so it can follow every layer that may bring v5 keys in.
 */
export function migrateV5(tree: RawObject, spec: ObjectSpec, warnings: string[]): void {
  migrateObject(tree, spec, "", warnings);
}
