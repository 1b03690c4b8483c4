/**
 * `checkconfig`: silent and status 0 when the config loads; the problems and status 1 otherwise. It reports
 * what the server would: refused keys fail, and keys Turbine ignores are warnings.
 */
import { loadRpcRegistry } from "../rpc/load.js";
import { fail, loadOrExit, messageOf } from "./output.js";

/**
 * Checks `file` (which must exist); warnings go to stderr, prefixed. With `strict`, unknown and v5 keys fail the
 * check as well (centrifugo internal/cli/checkconfig.go fails on unknown keys, and v6 knows no v5 keys).
 * `rpc.handlers_module` is loaded as the server would load it, so a module that would stop the start fails here.
 */
export async function checkconfig(file: string, strict: boolean): Promise<void> {
  const { config, warnings } = loadOrExit(file, {}, strict);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  const modulePath = config.rpc.handlers_module;
  if (modulePath === "") return;
  try {
    await loadRpcRegistry(modulePath);
  } catch (err) {
    fail(`rpc.handlers_module: ${messageOf(err)}`);
  }
}
