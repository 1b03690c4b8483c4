/** `turbine gen-clients`: the RPC contract and typed clients (TypeScript, Python, Go) of a handlers module. */
import {
  type GenerateOptions,
  generateFiles,
  type Language,
  LANGUAGES,
  writeFiles,
} from "../rpc/codegen/generate.js";
import { PYTHON_MODELS, type PythonModels } from "../rpc/codegen/python.js";
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
  /** "pydantic" (default) or "dataclasses". */
  pythonModels?: string;
  /** `language=name` items: npm package name, Python package name, Go module path. */
  packageName?: string[];
}

/** The generator options the flags ask for; throws naming a bad flag value. */
export function generateOptions(flags: GenClientsFlags): GenerateOptions {
  const models = flags.pythonModels ?? "pydantic";
  if (!PYTHON_MODELS.includes(models as PythonModels)) {
    throw new Error(`--python-models must be one of ${PYTHON_MODELS.join(", ")}, not "${models}"`);
  }
  const packageNames: Partial<Record<Language, string>> = {};
  for (const item of flags.packageName ?? []) {
    const [language, name] = item.split(/=(.*)/s) as [string, string | undefined];
    if (!LANGUAGES.includes(language as Language) || name === undefined || name === "") {
      throw new Error(
        `--package-name takes language=name with a language of ${LANGUAGES.join(", ")}: "${item}"`,
      );
    }
    packageNames[language as Language] = name;
  }
  return { pythonModels: models as PythonModels, packageNames };
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
    files = generateFiles(registry, chosenLanguages(flags), generateOptions(flags));
  } catch (err) {
    fail(`gen-clients: ${messageOf(err)}`);
  }
  const written = await writeFiles(flags.output, files);
  if (flags.verbose) for (const path of written) process.stdout.write(`wrote ${path}\n`);
  else process.stdout.write(`wrote ${written.length} files to ${flags.output}\n`);
}
