/** Shared exits and config loading of the CLI commands. */
import { ConfigError, type LoadResult, loadConfig } from "../config/index.js";

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
