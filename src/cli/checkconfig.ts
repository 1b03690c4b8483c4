/** `checkconfig`: silent and status 0 when the config loads; the problems and status 1 otherwise. */
import { loadOrExit } from "./output.js";

/** Checks `file` (which must exist); warnings go to stderr, prefixed, without failing unless `strict`. */
export function checkconfig(file: string, strict: boolean): void {
  const { warnings } = loadOrExit(file, {}, strict);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
}
