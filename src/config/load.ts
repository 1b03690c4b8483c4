/** `loadConfig`: file, then env, then flags, then resolution and validation. */
import { applyEnv } from "./env.js";
import { ConfigError } from "./errors.js";
import { readConfigFile } from "./file.js";
import { applyFlags } from "./flags.js";
import type { RawObject } from "./raw.js";
import { resolveObject } from "./resolve.js";
import { type Config, schema } from "./schema/index.js";
import { unservedKeys, unservedMessage } from "./support.js";
import { migrateV5 } from "./v5.js";
import { validateConfig } from "./validate.js";

/** The config file read when none is given; unlike an explicit one, it may be missing. */
export const DEFAULT_CONFIG_FILE = "config.json";

/** Inputs of {@link loadConfig}. */
export interface LoadOptions {
  /**
   * Config file (.json, .yaml, .yml, .toml). Default `config.json`, which may be missing; a given one may not.
   * `""` reads no file at all.
   */
  file?: string;
  /** A config in the file's shape (v6 keys, v5 keys accepted), used instead of reading a file. */
  values?: Readonly<Record<string, unknown>>;
  /** Environment to read `CENTRIFUGO_*` vars from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Flag values keyed by v6 key path (`http_server.port`) or v5 name (`port`). */
  flags?: Readonly<Record<string, string | boolean>>;
  /**
   * Unknown keys and v5 keys in the file are errors instead of warnings (Centrifugo v6's `checkconfig --strict`
   * fails on unknown keys, and v5 keys are unknown to it).
   */
  strict?: boolean;
}

/**
 * A loaded configuration and what deserves a warning: v5 keys, unknown keys and env vars, and keys Turbine
 * accepts without serving them (see `support.ts`).
 */
export interface LoadResult {
  config: Config;
  warnings: string[];
}

function readTree(file: string | undefined): RawObject {
  if (file === "") return {};
  return readConfigFile(file ?? DEFAULT_CONFIG_FILE, file !== undefined);
}

/** Set keys Turbine does not serve: warned ones join `warnings`, refused ones `errors`. */
function checkSupport(config: Config, errors: string[], warnings: string[]): void {
  for (const key of unservedKeys(config)) {
    (key.support.level === "refused" ? errors : warnings).push(unservedMessage(key));
  }
}

/**
 * Resolves and validates `tree`; cross-key rules only run when every single key was fine. Resolution leaves a
 * bad key at its default, so the support check never reports a key for a value that was rejected.
 */
function resolveTree(
  tree: RawObject,
  env: NodeJS.ProcessEnv,
  strict: boolean,
  errors: string[],
  warnings: string[],
): Config {
  const config = resolveObject(schema, tree, "", { errors, warnings, strict, env }) as Config;
  if (errors.length === 0) errors.push(...validateConfig(config));
  checkSupport(config, errors, warnings);
  if (errors.length > 0) throw new ConfigError(errors);
  return config;
}

/**
 * Loads the configuration with precedence flags > env > file, accepting v5 keys with warnings.
 * Throws ConfigError listing every problem (`key.path: reason`).
 */
export function loadConfig(options: LoadOptions = {}): LoadResult {
  const { env = process.env, flags = {}, strict = false } = options;
  const warnings: string[] = [];
  const errors: string[] = [];
  // Cloned because v5 migration and the env and flag layers edit the tree in place.
  const tree = options.values === undefined ? readTree(options.file) : structuredClone(options.values);
  migrateV5(tree, schema, strict ? errors : warnings);
  applyEnv(tree, schema, env, errors, warnings);
  applyFlags(tree, schema, flags, errors, warnings);
  return { config: resolveTree(tree, env, strict, errors, warnings), warnings };
}

/** The configuration with every key at its default (no file, env or flags). */
export function defaultConfig(): Config {
  return resolveTree({}, {}, true, [], []);
}
