/** Reading a config file: JSON, YAML or TOML, picked by extension as Centrifugo does. */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors.js";
import { isPlainObject, type RawObject } from "./raw.js";

/** Config file formats. */
export type ConfigFormat = "json" | "yaml" | "toml";

const FORMATS: Readonly<Record<string, ConfigFormat>> = {
  ".json": "json",
  ".yaml": "yaml",
  ".yml": "yaml",
  ".toml": "toml",
};

/** The format of a config file path by its extension, or undefined when unsupported. */
export function formatOf(path: string): ConfigFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** The supported extensions, for messages. */
export const SUPPORTED_EXTENSIONS = Object.keys(FORMATS).join(", ");

const PARSERS: Readonly<Record<ConfigFormat, (text: string) => unknown>> = {
  json: JSON.parse,
  yaml: parseYaml,
  toml: parseToml,
};

function readText(path: string, required: boolean): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !required) return undefined;
    const reason =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? "config file not found" : (err as Error).message;
    throw new ConfigError([`${path}: ${reason}`]);
  }
}

/**
 * Reads and parses a config file into a raw tree. A missing file gives an empty tree unless `required`.
 * Throws ConfigError naming the file when it can't be read, parsed, or isn't an object at the top.
 */
export function readConfigFile(path: string, required: boolean): RawObject {
  const format = formatOf(path);
  if (format === undefined) {
    throw new ConfigError([`${path}: unsupported config file extension (use ${SUPPORTED_EXTENSIONS})`]);
  }
  const text = readText(path, required);
  if (text === undefined) return {};
  let tree: unknown;
  try {
    tree = PARSERS[format](text);
  } catch (err) {
    throw new ConfigError([`${path}: invalid ${format.toUpperCase()}: ${(err as Error).message}`]);
  }
  if (tree === null || tree === undefined) return {};
  if (!isPlainObject(tree)) throw new ConfigError([`${path}: the top level must be an object`]);
  return tree;
}
