/**
 * `checkconfig`: silent and status 0 when the config loads; the problems and status 1 otherwise. It reports
 * what the server would: refused keys fail, and keys Turbine ignores are warnings.
 */
import { loadOrExit } from "./output.js";

/**
 * Checks `file` (which must exist); warnings go to stderr, prefixed. With `strict`, unknown and v5 keys fail the
 * check as well (centrifugo internal/cli/checkconfig.go fails on unknown keys, and v6 knows no v5 keys).
 */
export function checkconfig(file: string, strict: boolean): void {
  const { warnings } = loadOrExit(file, {}, strict);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
}
