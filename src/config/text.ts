/**
 * Reading one key's value from text (env vars, CLI flags) the way Centrifugo does: Go ParseBool for booleans,
 * Go duration strings, space-separated lists, JSON for maps and arrays of objects.
 */
import { parseDuration } from "./duration.js";
import { isPlainObject } from "./raw.js";
import type { LeafSpec } from "./spec.js";

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's `strconv.ParseBool`; undefined for anything else. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

/** Decimal (or 0x hex) integer text, as Go's `ParseInt(s, 0, 64)` mostly accepts it; undefined otherwise. */
export function parseInteger(text: string): number | undefined {
  if (!/^[+-]?(\d+|0[xX][0-9a-fA-F]+)$/.test(text)) return undefined;
  const sign = text.startsWith("-") ? -1 : 1;
  return sign * Number(text.replace(/^[+-]/, ""));
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON ${what}: ${(err as Error).message}`);
  }
}

function parseObjectArray(text: string, named: boolean): unknown[] {
  const trimmed = text.trim();
  // Like Centrifugo, a named list may also be given as space-separated names: "ns1 ns2".
  if (named && !trimmed.startsWith("[")) return trimmed.split(/\s+/).map((name) => ({ name }));
  const value = parseJson(trimmed, "array");
  if (!Array.isArray(value) || !value.every(isPlainObject))
    throw new Error("expected a JSON array of objects");
  return value;
}

function parseMap(text: string): Record<string, unknown> {
  const value = parseJson(text, "object");
  if (!isPlainObject(value)) throw new Error("expected a JSON object");
  return value;
}

function parseScalar(spec: LeafSpec, text: string): unknown {
  if (spec.kind === "bool") return parseBool(text) ?? fail(`invalid boolean ${JSON.stringify(text)}`);
  if (spec.kind === "int") return parseInteger(text) ?? fail(`invalid integer ${JSON.stringify(text)}`);
  if (spec.kind === "number") {
    const value = Number(text);
    return text.trim() !== "" && Number.isFinite(value)
      ? value
      : fail(`invalid number ${JSON.stringify(text)}`);
  }
  if (spec.kind === "duration" && parseDuration(text) === undefined)
    fail(`invalid duration ${JSON.stringify(text)}`);
  return text;
}

function fail(reason: string): never {
  throw new Error(reason);
}

/**
 * Parses the text of one key into a raw value (a duration stays Go duration text, resolved later with the rest
 * of the tree). Throws an Error whose message is the reason when the text is not valid for the key.
 */
export function parseText(spec: LeafSpec, text: string): unknown {
  switch (spec.kind) {
    case "strings":
      return text.split(" ").filter((item) => item !== "");
    case "map":
      return parseMap(text);
    case "list":
      return parseObjectArray(text, spec.named);
    default:
      return parseScalar(spec, text);
  }
}
