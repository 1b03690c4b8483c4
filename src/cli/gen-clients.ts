/** `turbine gen-clients`: the RPC contract and typed clients (TypeScript, Python, Go) of a handlers module. */
import { generateFiles, type Language, LANGUAGES, writeFiles } from "../rpc/codegen/generate.js";
import { loadRpcRegistry } from "../rpc/load.js";
import { fail, messageOf } from "./output.js";

export interface GenClientsFlags {
  handlers: string;
  output: string;
  all?: boolean;
  typescript?: boolean;
  python?: boolean;
  go?: boolean;
  verbose?: boolean;
}

/** Languages chosen by the flags; none chosen means all, as `--all`. */
export function chosenLanguages(flags: GenClientsFlags): Language[] {
  const chosen = LANGUAGES.filter((language) => flags[language] === true);
  return flags.all === true || chosen.length === 0 ? [...LANGUAGES] : chosen;
}

export async function genClients(flags: GenClientsFlags): Promise<void> {
  let files: Map<string, string>;
  try {
    const registry = await loadRpcRegistry(flags.handlers);
    if (flags.verbose) {
      for (const method of registry.list()) process.stdout.write(`method ${method.name}\n`);
    }
    files = generateFiles(registry, chosenLanguages(flags));
  } catch (err) {
    fail(`gen-clients: ${messageOf(err)}`);
  }
  const written = await writeFiles(flags.output, files);
  if (flags.verbose) for (const path of written) process.stdout.write(`wrote ${path}\n`);
  else process.stdout.write(`wrote ${written.length} files to ${flags.output}\n`);
}
