/** Writing the contract and the clients of a registry into an output directory (`turbine gen-clients`). */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RpcRegistry } from "../registry.js";
import { buildContract } from "./contract.js";
import { exported, goClient, goModule, goPackageName } from "./go.js";
import { type ApiModel, buildModel, words } from "./model.js";
import { goReadme, pythonPackageFiles, typescriptPackageFiles } from "./package-files.js";
import { pythonClient, type PythonModels } from "./python.js";
import { camel, typescriptClient } from "./typescript.js";

export type Language = "typescript" | "python" | "go";

export const LANGUAGES: readonly Language[] = ["typescript", "python", "go"];

/** How the clients are packaged; every field has a default. */
export interface GenerateOptions {
  /** Per language: the npm package name, the Python package (import) name, the Go module path. */
  packageNames?: Partial<Record<Language, string>>;
  /** Pydantic models (the default) or dataclasses in the Python client. */
  pythonModels?: PythonModels;
}

/** The package name each language gets when none is given. */
export const DEFAULT_PACKAGE_NAMES: Readonly<Record<Language, string>> = {
  typescript: "rpc-client",
  python: "rpc_client",
  go: "rpcclient",
};

/** Where each language's client goes, relative to the output directory, with the default package names. */
export const CLIENT_PATHS: Readonly<Record<Language, string>> = {
  typescript: "typescript/client.ts",
  python: "python/rpc_client/__init__.py",
  go: "go/rpcclient/client.go",
};

/** The contract file's path relative to the output directory. */
export const CONTRACT_PATH = "rpc-schema.json";

type Renderer = (model: ApiModel, packageName: string, options: GenerateOptions) => Map<string, string>;

const RENDERERS: Readonly<Record<Language, Renderer>> = {
  typescript: (model, packageName) =>
    new Map([
      ["typescript/client.ts", typescriptClient(model)],
      ...typescriptPackageFiles(model, packageName, camel),
    ]),
  python: (model, packageName, options) => {
    const models = options.pythonModels ?? "pydantic";
    return new Map([
      [`python/${packageName}/__init__.py`, pythonClient(model, models)],
      ...pythonPackageFiles(model, packageName, models, (name) => words(name).join("_")),
    ]);
  },
  go: (model, modulePath) => {
    const dir = `go/${goPackageName(modulePath)}`;
    return new Map([
      [`${dir}/client.go`, goClient(model, goPackageName(modulePath))],
      [`${dir}/go.mod`, goModule(modulePath)],
      [`${dir}/README.md`, goReadme(model, modulePath, exported)],
    ]);
  },
};

/** Every file to write (relative path → content): the contract, then each language's package. */
export function generateFiles(
  registry: RpcRegistry,
  languages: readonly Language[],
  options: GenerateOptions = {},
): Map<string, string> {
  const contract = buildContract(registry);
  const model = buildModel(contract);
  const files = new Map([[CONTRACT_PATH, `${JSON.stringify(contract, null, 2)}\n`]]);
  for (const language of languages) {
    const packageName = options.packageNames?.[language] ?? DEFAULT_PACKAGE_NAMES[language];
    for (const [path, content] of RENDERERS[language](model, packageName, options)) files.set(path, content);
  }
  return files;
}

/** Write `files` under `outputDir`, creating directories; returns the absolute paths written. */
export async function writeFiles(outputDir: string, files: Map<string, string>): Promise<string[]> {
  const written: string[] = [];
  for (const [path, content] of files) {
    const target = join(outputDir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    written.push(target);
  }
  return written;
}
