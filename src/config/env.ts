/**
 * The env layer: `CENTRIFUGO_<PATH>` for every key, v5 names (`CENTRIFUGO_API_KEY`), and per named item
 * `CENTRIFUGO_CHANNEL_NAMESPACES_<NAME>_<OPTION>` (also rpc namespaces and proxies).
 */
import { applyScopeInputs, type Input, type ScopeInputs } from "./layer.js";
import { getPath, isPlainObject, joinPath, type RawObject } from "./raw.js";
import type { ObjectSpec } from "./spec.js";
import { migrateV5 } from "./v5.js";
import { ENV_PREFIX, envName, nameForEnv, type Scope, scopeOf } from "./walk.js";

/** Vars Kubernetes injects for a service named like `centrifugo…` (`CENTRIFUGO_PORT=tcp://…`, `…_SERVICE_HOST`). */
const KUBERNETES_VAR = /^CENTRIFUGO(?:_[A-Z0-9_]+)?_(PORT|SERVICE_)/;

/** Vars meant for `${CENTRIFUGO_VAR_X}` expansion inside map values. */
const EXPANSION_VAR = /^CENTRIFUGO_VAR_/;

/**
 * Turbine extension: names that are neither v6 nor v5 but that deployment guides hand out (a Centrifugo
 * docker-compose env with `CENTRIFUGO_TOKEN_HMAC_SECRET`), read as the v6 key with a warning naming the v6
 * variable. A set v6 variable wins.
 */
const FOREIGN_ALIASES: ReadonlyMap<string, string> = new Map([
  ["CENTRIFUGO_TOKEN_HMAC_SECRET", "client.token.hmac_secret_key"],
]);

/** An unknown name gets a suggestion when the closest known one is at most this share of its length away. */
const SUGGEST_DISTANCE_SHARE = 0.25;

function isKubernetesVar(name: string, value: string): boolean {
  return KUBERNETES_VAR.test(name) && value.includes("://");
}

/** Picks the vars of one scope out of `vars`, removing them, so that what is left at the end is unknown. */
function takeScopeInputs(scope: Scope, prefix: string, vars: Map<string, string>): ScopeInputs {
  const keys = new Map<string, Input>();
  const aliases = new Map<string, Input>();
  const take = (name: string) => {
    const value = vars.get(name);
    if (value !== undefined) vars.delete(name);
    return value === undefined ? undefined : { value, source: name };
  };
  for (const path of scope.leaves.keys()) {
    const input = take(envName(path, prefix));
    if (input) keys.set(path, input);
  }
  for (const alias of scope.aliases.keys()) {
    const name = envName(alias, prefix);
    const value = vars.get(name);
    // A v5 name like CENTRIFUGO_PORT is also what Kubernetes injects for a service called "centrifugo".
    if (value !== undefined && isKubernetesVar(name, value)) continue;
    const input = take(name);
    if (input) aliases.set(alias, input);
  }
  return { keys, aliases };
}

function applyNamedItems(
  tree: RawObject,
  root: Scope,
  vars: Map<string, string>,
  errors: string[],
  warnings: string[],
) {
  for (const list of root.lists) {
    const items = getPath(tree, list.path);
    if (!list.spec.named || !Array.isArray(items)) continue;
    const itemScope = scopeOf(list.spec.item);
    items.forEach((item, i) => {
      if (!isPlainObject(item) || typeof item.name !== "string" || item.name === "") return;
      const prefix = `${envName(list.path)}_${nameForEnv(item.name)}`;
      const inputs = takeScopeInputs(itemScope, prefix, vars);
      const scopePath = `${list.path}[${i}]`;
      const sourceOf = (p: string) => `${envName(p, prefix)} ("${joinPath(scopePath, p)}")`;
      applyScopeInputs(item, itemScope, inputs, { errors, warnings, scopePath, sourceOf, noun: "variable" });
    });
  }
}

/**
 * Applies the `CENTRIFUGO_*` vars of `env` onto `tree`. Empty vars count as unset. Vars that match no key
 * are reported as warnings, except Kubernetes-injected ones and `CENTRIFUGO_VAR_*`.
 */
export function applyEnv(
  tree: RawObject,
  spec: ObjectSpec,
  env: NodeJS.ProcessEnv,
  errors: string[],
  warnings: string[],
) {
  const vars = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(`${ENV_PREFIX}_`) && value !== undefined && value !== "") vars.set(name, value);
  }
  const root = scopeOf(spec);
  const foreign = takeForeignAliases(root, vars, warnings);
  const inputs = takeScopeInputs(root, ENV_PREFIX, vars);
  const keys = new Map([...foreign, ...inputs.keys]);
  const sourceOf = (p: string) => `${envName(p)} ("${p}")`;
  applyScopeInputs(
    tree,
    root,
    { keys, aliases: inputs.aliases },
    {
      errors,
      warnings,
      scopePath: "",
      sourceOf,
      noun: "variable",
    },
  );
  // Arrays given as JSON may use v5 item keys (`proxy_subscribe`); migrate them before patching items.
  migrateV5(tree, spec, warnings);
  applyNamedItems(tree, root, vars, errors, warnings);
  const known = knownNames(root);
  for (const name of vars.keys()) {
    if (EXPANSION_VAR.test(name) || KUBERNETES_VAR.test(name)) continue;
    const suggestion = closest(name, known);
    warnings.push(
      `unknown environment variable ${name}${suggestion === undefined ? "" : `, did you mean ${suggestion}?`}`,
    );
  }
}

/** Takes the {@link FOREIGN_ALIASES} out of `vars` as inputs of their v6 keys, unless the v6 variable is set. */
function takeForeignAliases(root: Scope, vars: Map<string, string>, warnings: string[]): Map<string, Input> {
  const inputs = new Map<string, Input>();
  for (const [name, path] of FOREIGN_ALIASES) {
    const value = vars.get(name);
    if (value === undefined || !root.leaves.has(path)) continue;
    vars.delete(name);
    const v6 = envName(path);
    if (vars.has(v6)) {
      warnings.push(`${name} is not a Centrifugo variable, ignored: ${v6} is set too`);
      continue;
    }
    warnings.push(`${name} is not a Centrifugo variable, read as ${v6} ("${path}"): use ${v6}`);
    inputs.set(path, { value, source: name });
  }
  return inputs;
}

/** Every variable name the root scope reads: v6 keys and v5 names. */
function knownNames(root: Scope): string[] {
  return [...root.leaves.keys(), ...root.aliases.keys()].map((path) => envName(path));
}

/** The known name nearest to `name` by edit distance, when it is near enough to be a likely typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length * SUGGEST_DISTANCE_SHARE));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(name, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
