/**
 * Root command flags, derived from the config schema: every key marked as a flag becomes `--<key.path>` (with
 * its short name), and its v5 names become hidden `--<v5_name>` flags that load with a warning. Flags of keys
 * Turbine does not serve are hidden too, yet still parsed (the official Helm chart passes `--uni_grpc.port`),
 * so that loading warns about them or refuses them.
 */
import { type Command, Option } from "commander";
import { DEFAULT_CONFIG_FILE, type FlagKey, flagKeys, schema, supportOf } from "../config/index.js";

const FLAGS: readonly FlagKey[] = flagKeys(schema);

function option(name: string, key: FlagKey, short?: string): Option {
  const flags = `${short ? `-${short}, ` : ""}--${name}`;
  // Booleans take an optional value so that both `--admin.enabled` and `--admin.enabled=false` work, as in pflag.
  const withValue = key.spec.kind === "bool" ? `${flags} [bool]` : `${flags} <value>`;
  const shown = "def" in key.spec && key.spec.def !== "" ? ` (default: ${JSON.stringify(key.spec.def)})` : "";
  return new Option(withValue, `${key.spec.doc}${shown}`);
}

/** Adds `-c/--config` and every config flag to `command`: v6 ones, listed in help when served, and hidden v5 ones. */
export function addConfigFlags(command: Command): Command {
  command.option("-c, --config <file>", "path to config file", DEFAULT_CONFIG_FILE);
  for (const key of FLAGS) {
    const flag = option(key.path, key, key.short);
    command.addOption(supportOf(key.path)?.level === "served" ? flag : flag.hideHelp());
    for (const v5 of key.v5) command.addOption(option(v5, key).hideHelp());
  }
  return command;
}

/** The config flags given on the command line, keyed by v6 path or v5 name, as `loadConfig` takes them. */
export function givenConfigFlags(command: Command): Record<string, string | boolean> {
  const given: Record<string, string | boolean> = {};
  for (const name of FLAGS.flatMap((key) => [key.path, ...key.v5])) {
    const value: unknown = command.getOptionValue(name);
    if (typeof value === "string" || typeof value === "boolean") given[name] = value;
  }
  return given;
}

/** The `-c` file when given explicitly; undefined leaves `loadConfig`'s optional default. */
export function givenConfigFile(command: Command): string | undefined {
  return command.getOptionValueSource("config") === "cli"
    ? (command.getOptionValue("config") as string)
    : undefined;
}
