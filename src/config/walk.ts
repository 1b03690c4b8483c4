/** Schema introspection: key paths, env var names and v5 alias scopes, computed once per object spec. */
import { joinPath } from "./raw.js";
import type { Alias, LeafSpec, ListSpec, ObjectSpec } from "./spec.js";

/** Prefix of every env var Centrifugo reads. */
export const ENV_PREFIX = "CENTRIFUGO";

/** Env var name of a key path: `CENTRIFUGO_` + path upper-cased with `.` → `_`. */
export function envName(path: string, prefix = ENV_PREFIX): string {
  return `${prefix}_${path.toUpperCase().replaceAll(".", "_")}`;
}

/** How an item name appears inside env var names (`.` and `-` become `_`, as in Centrifugo). */
export function nameForEnv(name: string): string {
  return name.replace(/[.-]/g, "_").toUpperCase();
}

/** One v5 key pointing at a v6 key of the same scope. */
export interface AliasTarget {
  /** Path of the v6 key, relative to the scope. */
  readonly target: string;
  readonly spec: LeafSpec;
  /** Keys v5 set implicitly along with this one (scope-relative path → value). */
  readonly implies: Readonly<Record<string, unknown>>;
}

/**
 * Keys reachable from an object spec without entering array items. Array items start a scope of their own:
 * their aliases and env names are relative to the item.
 */
export interface Scope {
  readonly spec: ObjectSpec;
  /** Every non-object key by path. Arrays of objects are leaves here. */
  readonly leaves: ReadonlyMap<string, LeafSpec>;
  /** v5 key → the v6 keys it maps to (several for v5's shared proxy options). */
  readonly aliases: ReadonlyMap<string, readonly AliasTarget[]>;
  /** The arrays of objects among the leaves. */
  readonly lists: readonly { readonly path: string; readonly spec: ListSpec }[];
}

const scopes = new WeakMap<ObjectSpec, Scope>();

function aliasKey(alias: Alias): string {
  return typeof alias === "string" ? alias : alias.key;
}

function collect(spec: ObjectSpec, prefix: string, leaves: Map<string, LeafSpec>): void {
  for (const [key, field] of Object.entries(spec.fields)) {
    const path = joinPath(prefix, key);
    if (field.kind === "object") collect(field, path, leaves);
    else leaves.set(path, field);
  }
}

function buildScope(spec: ObjectSpec): Scope {
  const leaves = new Map<string, LeafSpec>();
  collect(spec, "", leaves);
  const aliases = new Map<string, AliasTarget[]>();
  const lists: { path: string; spec: ListSpec }[] = [];
  for (const [path, leaf] of leaves) {
    if (leaf.kind === "list") lists.push({ path, spec: leaf });
    for (const alias of leaf.v5 ?? []) {
      const implies = typeof alias === "string" ? {} : alias.implies;
      const targets = aliases.get(aliasKey(alias)) ?? [];
      targets.push({ target: path, spec: leaf, implies });
      aliases.set(aliasKey(alias), targets);
    }
  }
  return { spec, leaves, aliases, lists };
}

/** The (cached) scope of an object spec. */
export function scopeOf(spec: ObjectSpec): Scope {
  let scope = scopes.get(spec);
  if (scope === undefined) {
    scope = buildScope(spec);
    scopes.set(spec, scope);
  }
  return scope;
}

/**
 * Every key path of `spec` that holds a value, in schema order. Fields of array items are written
 * `list[].field` (`channel.namespaces[].presence`), the notation of the support table.
 */
export function leafPaths(spec: ObjectSpec, prefix = ""): string[] {
  return Object.entries(spec.fields).flatMap(([key, field]) => {
    const path = joinPath(prefix, key);
    if (field.kind === "object") return leafPaths(field, path);
    if (field.kind === "list") return leafPaths(field.item, `${path}[]`);
    return [path];
  });
}
