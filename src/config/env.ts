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
  const inputs = takeScopeInputs(root, ENV_PREFIX, vars);
  const sourceOf = (p: string) => `${envName(p)} ("${p}")`;
  applyScopeInputs(tree, root, inputs, { errors, warnings, scopePath: "", sourceOf, noun: "variable" });
  // Arrays given as JSON may use v5 item keys (`proxy_subscribe`); migrate them before patching items.
  migrateV5(tree, spec, warnings);
  applyNamedItems(tree, root, vars, errors, warnings);
  for (const name of vars.keys()) {
    if (!EXPANSION_VAR.test(name) && !KUBERNETES_VAR.test(name))
      warnings.push(`unknown environment variable ${name}`);
  }
}
