/** Writing a config back in Centrifugo's notation (durations as Go strings) as JSON, YAML or TOML. */
import { stringify as stringifyToml } from "smol-toml";
import { stringify as stringifyYaml } from "yaml";
import { formatDuration } from "./duration.js";
import type { ConfigFormat } from "./file.js";
import type { RawObject } from "./raw.js";
import { type Config, schema } from "./schema/index.js";
import type { AnySpec, ObjectSpec } from "./spec.js";

function toRawValue(spec: AnySpec, value: unknown): unknown {
  switch (spec.kind) {
    case "duration":
      return formatDuration(value as number);
    case "object":
      return toRawObject(spec, value as RawObject);
    case "list":
      return (value as RawObject[]).map((item) => toRawObject(spec.item, item));
    default:
      return value;
  }
}

function toRawObject(spec: ObjectSpec, value: RawObject): RawObject {
  const raw: RawObject = {};
  for (const [key, field] of Object.entries(spec.fields)) raw[key] = toRawValue(field, value[key]);
  return raw;
}

/** The file form of a resolved config: same keys, durations as Go duration strings ("25s"). */
export function toRawConfig(config: Config): RawObject {
  return toRawObject(schema, config as unknown as RawObject);
}

/** Serializes a resolved config as a config file of the given format. */
export function renderConfig(config: Config, format: ConfigFormat): string {
  const raw = toRawConfig(config);
  if (format === "yaml") return stringifyYaml(raw);
  if (format === "toml") return `${stringifyToml(raw)}\n`;
  return `${JSON.stringify(raw, null, 2)}\n`;
}
