/**
 * Resolution of the merged raw tree into the typed config: every key checked against its spec, defaults
 * filled in, durations turned into milliseconds. Problems are collected, never thrown, so that one run reports
 * all of them. Conversions are as lenient as Centrifugo's (viper's weak typing): "8000" is an integer, a
 * single string is a one-item list.
 */
import { nanosToMillis, parseDuration } from "./duration.js";
import { describe, isPlainObject, joinPath, type RawObject } from "./raw.js";
import type { AnySpec, DurationSpec, MapSpec, ObjectSpec, StringSpec, StringsSpec } from "./spec.js";
import { parseBool, parseInteger } from "./text.js";

/** Where resolution reports, and the environment used for `${CENTRIFUGO_VAR_X}` expansion. */
export interface ResolveContext {
  readonly errors: string[];
  readonly warnings: string[];
  /** Unknown keys are errors instead of warnings. */
  readonly strict: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Thrown inside a resolver to reject the value; caught once, where the default is used instead. */
class Rejected extends Error {}

function reject(reason: string): never {
  throw new Rejected(reason);
}

const EXPANSION = /\$\{(CENTRIFUGO_VAR_[^}]+)\}/g;

function resolveBool(raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  return (
    (typeof raw === "string" ? parseBool(raw) : undefined) ?? reject(`expected boolean, got ${describe(raw)}`)
  );
}

function resolveInt(raw: unknown): number {
  if (typeof raw === "number" && Number.isInteger(raw)) return raw;
  return (
    (typeof raw === "string" ? parseInteger(raw) : undefined) ??
    reject(`expected integer, got ${describe(raw)}`)
  );
}

function resolveNumber(raw: unknown): number {
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  return typeof value === "number" && Number.isFinite(value)
    ? value
    : reject(`expected number, got ${describe(raw)}`);
}

function checkOneOf(value: string, allowed: readonly string[] | undefined): string {
  if (allowed === undefined || allowed.includes(value)) return value;
  return reject(
    `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}; got ${JSON.stringify(value)}`,
  );
}

function resolveString(spec: StringSpec, raw: unknown): string {
  if (typeof raw !== "string" && typeof raw !== "number") reject(`expected string, got ${describe(raw)}`);
  const text = String(raw);
  return checkOneOf(spec.caseInsensitive ? text.toLowerCase() : text, spec.oneOf);
}

/** A number is nanoseconds, as Go decodes an integer into a time.Duration. */
function durationMillis(raw: unknown, path: string, ctx: ResolveContext): number {
  if (typeof raw === "string") return parseDuration(raw) ?? reject(`invalid duration ${JSON.stringify(raw)}`);
  if (typeof raw !== "number") return reject(`expected duration like "25s", got ${describe(raw)}`);
  if (raw !== 0) {
    ctx.warnings.push(
      `${path}: the number ${raw} is read as nanoseconds (like Centrifugo does); write "${raw}s" for seconds`,
    );
  }
  return nanosToMillis(raw);
}

function resolveDuration(spec: DurationSpec, raw: unknown, path: string, ctx: ResolveContext): number {
  const millis = durationMillis(raw, path, ctx);
  if (spec.wholeSeconds && millis > 0 && millis % 1000 !== 0) {
    reject(`sub-second precision is not supported for this key, got ${JSON.stringify(raw)}`);
  }
  // Negative durations mean "disabled" where Centrifugo accepts them; one canonical value keeps checks simple.
  return millis < 0 ? -1 : millis;
}

function resolveStrings(spec: StringsSpec, raw: unknown): string[] {
  const items = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(items)) return reject(`expected list of strings, got ${describe(raw)}`);
  return items.map((item) => {
    if (typeof item !== "string" && typeof item !== "number")
      reject(`expected list of strings, got item ${describe(item)}`);
    return checkOneOf(String(item), spec.oneOf);
  });
}

function mapEntries(raw: unknown): [string, unknown][] {
  if (isPlainObject(raw)) return Object.entries(raw);
  // Centrifugo also takes a map as [{"key": …, "value": …}], which suits env-templating tools.
  if (Array.isArray(raw) && raw.every(isPlainObject))
    return raw.map((item) => [String(item.key), item.value]);
  return reject(`expected object of strings, got ${describe(raw)}`);
}

function expand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(EXPANSION, (_, name: string) => {
    const replacement = env[name];
    return replacement ?? reject(`environment variable ${JSON.stringify(name)} not found`);
  });
}

function resolveMap(_spec: MapSpec, raw: unknown, ctx: ResolveContext): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of mapEntries(raw)) {
    if (typeof value !== "string")
      reject(`expected string value for key ${JSON.stringify(key)}, got ${describe(value)}`);
    map[key] = expand(value, ctx.env);
  }
  return map;
}

function resolveObjectList(raw: unknown, path: string, each: (item: RawObject, at: string) => RawObject) {
  if (!Array.isArray(raw)) return reject(`expected array of objects, got ${describe(raw)}`);
  return raw.map((item, i) => {
    if (!isPlainObject(item)) reject(`expected array of objects, got item ${describe(item)}`);
    return each(item, `${path}[${i}]`);
  });
}

function resolvePresent(spec: AnySpec, raw: unknown, path: string, ctx: ResolveContext): unknown {
  switch (spec.kind) {
    case "bool":
      return resolveBool(raw);
    case "int":
      return resolveInt(raw);
    case "number":
      return resolveNumber(raw);
    case "string":
      return resolveString(spec, raw);
    case "duration":
      return resolveDuration(spec, raw, path, ctx);
    case "strings":
      return resolveStrings(spec, raw);
    case "map":
      return resolveMap(spec, raw, ctx);
    case "object":
      return isPlainObject(raw)
        ? resolveObject(spec, raw, path, ctx)
        : reject(`expected object, got ${describe(raw)}`);
    case "list":
      return resolveObjectList(raw, path, (item, at) => resolveObject(spec.item, item, at, ctx));
  }
}

/** The default value of a spec, resolved (durations in milliseconds, objects with all their keys). */
function defaultOf(spec: AnySpec, path: string, ctx: ResolveContext): unknown {
  switch (spec.kind) {
    case "duration":
      return resolveDuration(spec, spec.def, path, ctx);
    case "strings":
      return [...spec.def];
    case "map":
      return {};
    case "object":
      return resolveObject(spec, {}, path, ctx);
    case "list":
      return [];
    default:
      return spec.def;
  }
}

function resolveValue(spec: AnySpec, raw: unknown, path: string, ctx: ResolveContext): unknown {
  // YAML's `key:` with nothing after it is null; treat it as not set rather than as a wrong type.
  if (raw === undefined || raw === null) return defaultOf(spec, path, ctx);
  try {
    return resolvePresent(spec, raw, path, ctx);
  } catch (err) {
    if (!(err instanceof Rejected)) throw err;
    ctx.errors.push(`${path}: ${err.message}`);
    return defaultOf(spec, path, ctx);
  }
}

/** Resolves one object: known keys by their specs, unknown keys reported (warnings, or errors when strict). */
export function resolveObject(
  spec: ObjectSpec,
  raw: RawObject,
  path: string,
  ctx: ResolveContext,
): RawObject {
  const resolved: RawObject = {};
  for (const [key, field] of Object.entries(spec.fields)) {
    resolved[key] = resolveValue(field, raw[key], joinPath(path, key), ctx);
  }
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(spec.fields, key)) continue;
    const message = `unknown key "${joinPath(path, key)}"`;
    (ctx.strict ? ctx.errors : ctx.warnings).push(message);
  }
  return resolved;
}
