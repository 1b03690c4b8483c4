/** `defaultconfig`: the full configuration with every key, from the schema's defaults (or a base file). */
import { existsSync, writeFileSync } from "node:fs";
import { formatOf, renderConfig, SUPPORTED_EXTENSIONS } from "../config/index.js";
import { fail, loadOrExit } from "./output.js";

/** Options of `defaultconfig`. */
export interface DefaultConfigOptions {
  /** Output file; its extension picks the format. */
  file: string;
  /** Config whose values override the defaults. */
  base: string | undefined;
  /** Print instead of writing. */
  dryRun: boolean;
}

/** Renders defaults (overridden by `base`, env) in the output file's format; never overwrites a file. */
export function defaultconfig(options: DefaultConfigOptions): void {
  const format =
    formatOf(options.file) ??
    fail(`error: output config file must have one of extensions ${SUPPORTED_EXTENSIONS}`);
  if (!options.dryRun && existsSync(options.file)) fail("error: target file already exists");
  const text = renderConfig(loadOrExit(options.base ?? "").config, format);
  if (options.dryRun) process.stdout.write(text);
  else writeFileSync(options.file, text, { mode: 0o600 });
}
