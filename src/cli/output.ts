/** Shared exits and config loading of the CLI commands. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, DEFAULT_CONFIG_FILE, type LoadResult, loadConfig } from "../config/index.js";

/** Prints `message` to stderr and exits with status 1. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Loads the config or exits 1 with every problem listed. */
export function loadOrExit(
  file: string | undefined,
  flags: Record<string, string | boolean> = {},
  strict = false,
): LoadResult {
  try {
    return loadConfig({ ...(file === undefined ? {} : { file }), flags, strict });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/** The server's config and where it came from. */
export interface ServerConfig extends LoadResult {
  /** Absolute path of the config file read; undefined when it did not exist. */
  file?: string;
}

/**
 * Loads the server's config or exits 1. A config file that does not exist, given with `-c` or not, is no
 * error: the server runs from env vars and flags, as Centrifugo's does (centrifugo internal/config/config.go
 * `GetConfig` sets `FileNotFound`, internal/app/run.go warns and goes on).
 */
export function loadServerConfig(
  file: string | undefined,
  flags: Record<string, string | boolean>,
): ServerConfig {
  const path = file ?? DEFAULT_CONFIG_FILE;
  if (!existsSync(path)) return loadOrExit("", flags);
  return { ...loadOrExit(path, flags), file: resolve(path) };
}
