/**
 * `defaultenv`: every `CENTRIFUGO_*` variable with its value, defaults or those of a base config file, sorted,
 * one `NAME=value` a line, formatted as Centrifugo prints them (centrifugo internal/cli/defaultenv.go): strings
 * quoted, string lists as quoted words, maps and lists of objects as escaped JSON in quotes, and the named lists
 * (namespaces, proxies, consumers) as their items' names. Items of named lists get their own variables.
 */
import { schema, toRawConfig } from "../config/index.js";
import { getPath, isPlainObject, type RawObject } from "../config/raw.js";
import type { LeafSpec, ObjectSpec } from "../config/spec.js";
import { ENV_PREFIX, envName, nameForEnv, scopeOf } from "../config/walk.js";
import { loadOrExit } from "./output.js";

/** Options of `defaultenv`. */
export interface DefaultEnvOptions {
  /** Config file whose values replace the defaults. */
  base?: string;
  /** Only variables whose value is not the zero value (false, 0, empty), as upstream's flag of that name. */
  baseNonZeroOnly: boolean;
}

/** One variable: its value as printed, and whether the value is non-zero. */
interface EnvVar {
  value: string;
  nonZero: boolean;
}

/** Go's `"%v"` of a string: quoted without escaping, as upstream prints it. */
function quoted(text: string): string {
  return `"${text}"`;
}

/** JSON with sorted map keys (Go's encoding/json order), quoted with its quotes escaped. */
function quotedJson(value: unknown): string {
  const sorted = isPlainObject(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
    : value;
  return quoted(JSON.stringify(sorted).replaceAll('"', '\\"'));
}

function itemNames(items: unknown[]): string {
  return quoted(items.map((item) => (isPlainObject(item) ? String(item.name ?? "") : "")).join(" "));
}

/** A value as upstream's `valueToStringReflect` prints it. */
function printed(spec: LeafSpec, value: unknown): string {
  switch (spec.kind) {
    case "string":
      return quoted(String(value));
    case "strings":
      return (value as string[]).length === 0 ? '""' : (value as string[]).map(quoted).join(" ");
    case "map":
      return quotedJson(value);
    case "list":
      return spec.named ? itemNames(value as unknown[]) : quotedJson(value);
    default:
      // Booleans, numbers, and durations already in Go's notation ("25s").
      return String(value);
  }
}

/** Go's `reflect.Value.IsZero` for the values a config holds. */
function isZero(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return value === false || value === 0 || value === "" || value === "0s";
}

/** The variables of one scope (the root, or a named item under `prefix`) into `vars`. */
function collect(spec: ObjectSpec, tree: RawObject, prefix: string, vars: Map<string, EnvVar>): void {
  const scope = scopeOf(spec);
  for (const [path, leaf] of scope.leaves) {
    const value = getPath(tree, path);
    vars.set(envName(path, prefix), { value: printed(leaf, value), nonZero: !isZero(value) });
  }
  for (const list of scope.lists) {
    if (!list.spec.named) continue;
    for (const item of getPath(tree, list.path) as unknown[]) {
      if (!isPlainObject(item) || typeof item.name !== "string" || item.name === "") continue;
      collect(list.spec.item, item, `${envName(list.path, prefix)}_${nameForEnv(item.name)}`, vars);
    }
  }
}

/** Prints the variables; exits 1 when the base file does not load. */
export function defaultenv(options: DefaultEnvOptions): void {
  const tree = toRawConfig(loadOrExit(options.base ?? "").config);
  const vars = new Map<string, EnvVar>();
  collect(schema, tree, ENV_PREFIX, vars);
  const lines = [...vars]
    .filter(([, v]) => v.nonZero || !options.baseNonZeroOnly)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, v]) => `${name}=${v.value}\n`);
  process.stdout.write(lines.join(""));
}
