/**
 * Applying one layer of overrides (env vars or CLI flags) onto the raw tree. Values are parsed per key, and a
 * v5 name only sets its v6 key when the same layer does not set the v6 key itself.
 */
import { getPath, joinPath, type RawObject, setPath } from "./raw.js";
import type { LeafSpec } from "./spec.js";
import { parseText } from "./text.js";
import type { AliasTarget, Scope } from "./walk.js";

/** One value of the layer and where it came from (`CENTRIFUGO_X`, `--x`), for messages. */
export interface Input {
  readonly value: string | boolean;
  readonly source: string;
}

/** The inputs of one scope, already told apart into v6 keys (by path) and v5 names. */
export interface ScopeInputs {
  readonly keys: ReadonlyMap<string, Input>;
  readonly aliases: ReadonlyMap<string, Input>;
}

/** Where to report, and how to name a v6 key the way this layer spells it (env var or flag). */
export interface LayerContext {
  readonly errors: string[];
  readonly warnings: string[];
  /** Path of the scope in the whole config, "" for the root. */
  readonly scopePath: string;
  readonly sourceOf: (path: string) => string;
  /** What the layer's inputs are called in messages: "variable" or "flag". */
  readonly noun: string;
}

function parseInput(spec: LeafSpec, input: Input): unknown {
  if (typeof input.value === "string") return parseText(spec, input.value);
  if (spec.kind !== "bool") throw new Error("a value is required");
  return input.value;
}

function setKey(target: RawObject, path: string, spec: LeafSpec, input: Input, ctx: LayerContext): unknown {
  try {
    const value = parseInput(spec, input);
    setPath(target, path, value);
    return value;
  } catch (err) {
    ctx.errors.push(`${joinPath(ctx.scopePath, path)}: ${(err as Error).message} (from ${input.source})`);
    return undefined;
  }
}

function applyAlias(
  target: RawObject,
  targets: readonly AliasTarget[],
  input: Input,
  inputs: ScopeInputs,
  ctx: LayerContext,
) {
  const used = targets.filter((t) => !inputs.keys.has(t.target));
  for (const t of used) {
    const value = setKey(target, t.target, t.spec, input, ctx);
    if (!value) continue;
    for (const [path, implied] of Object.entries(t.implies)) {
      if (!inputs.keys.has(path) && getPath(target, path) === undefined) setPath(target, path, implied);
    }
  }
  const names = targets.map((t) => ctx.sourceOf(t.target)).join(", ");
  const ignored = used.length === 0 ? " (ignored: the v6 name is set too)" : "";
  ctx.warnings.push(`${input.source} is a v5 ${ctx.noun}, use ${names}${ignored}`);
}

/** Sets every input of one scope into `target` (the scope's raw object). */
export function applyScopeInputs(
  target: RawObject,
  scope: Scope,
  inputs: ScopeInputs,
  ctx: LayerContext,
): void {
  for (const [path, input] of inputs.keys) {
    const spec = scope.leaves.get(path);
    if (spec !== undefined) setKey(target, path, spec, input, ctx);
  }
  for (const [alias, input] of inputs.aliases) {
    const targets = scope.aliases.get(alias);
    if (targets !== undefined) applyAlias(target, targets, input, inputs, ctx);
  }
}
