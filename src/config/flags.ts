/** The CLI flag layer: `--<key.path>` for v6 keys and `--<v5_key>` for v5 names, both by key path. */
import { applyScopeInputs, type Input } from "./layer.js";
import type { RawObject } from "./raw.js";
import type { LeafSpec, ObjectSpec } from "./spec.js";
import { migrateV5 } from "./v5.js";
import { scopeOf } from "./walk.js";

/** A key the root command exposes as a flag. */
export interface FlagKey {
  /** The v6 key path, which is also the long flag name. */
  readonly path: string;
  readonly spec: LeafSpec;
  /** One-letter short name, if any. */
  readonly short?: string;
  /** v5 flag names of the same key (`port` for `http_server.port`). */
  readonly v5: readonly string[];
}

/** The keys of `spec` marked as root command flags, in schema order. */
export function flagKeys(spec: ObjectSpec): FlagKey[] {
  const flags: FlagKey[] = [];
  for (const [path, leaf] of scopeOf(spec).leaves) {
    if (leaf.flag === undefined) continue;
    const v5 = (leaf.v5 ?? []).filter((alias): alias is string => typeof alias === "string");
    const short = typeof leaf.flag === "string" ? { short: leaf.flag } : {};
    flags.push({ path, spec: leaf, v5, ...short });
  }
  return flags;
}

/**
 * Applies flag values (keyed by v6 path or v5 name, without dashes) onto `tree`. Any key of the schema outside
 * arrays is accepted, not only the ones `flagKeys` lists; a name that is neither is an error.
 */
export function applyFlags(
  tree: RawObject,
  spec: ObjectSpec,
  flags: Readonly<Record<string, string | boolean>>,
  errors: string[],
  warnings: string[],
): void {
  const root = scopeOf(spec);
  const keys = new Map<string, Input>();
  const aliases = new Map<string, Input>();
  for (const [name, value] of Object.entries(flags)) {
    const input = { value, source: `--${name}` };
    if (root.leaves.has(name)) keys.set(name, input);
    else if (root.aliases.has(name)) aliases.set(name, input);
    else errors.push(`--${name}: unknown flag`);
  }
  applyScopeInputs(
    tree,
    root,
    { keys, aliases },
    { errors, warnings, scopePath: "", sourceOf: (p) => `--${p}`, noun: "flag" },
  );
  migrateV5(tree, spec, warnings);
}
