/** Writing the contract and the clients of a registry into an output directory (`turbine gen-clients`). */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RpcRegistry } from "../registry.js";
import { buildContract } from "./contract.js";
import { goClient } from "./go.js";
import { buildModel } from "./model.js";
import { pythonClient } from "./python.js";
import { typescriptClient } from "./typescript.js";

export type Language = "typescript" | "python" | "go";

export const LANGUAGES: readonly Language[] = ["typescript", "python", "go"];

/** Where each language's client goes, relative to the output directory. */
export const CLIENT_PATHS: Readonly<Record<Language, string>> = {
  typescript: "typescript/client.ts",
  python: "python/rpc_client/__init__.py",
  go: "go/rpcclient/client.go",
};

/** The contract file's path relative to the output directory. */
export const CONTRACT_PATH = "rpc-schema.json";

/** Every file to write (relative path → content): the contract, then one client per language. */
export function generateFiles(registry: RpcRegistry, languages: readonly Language[]): Map<string, string> {
  const contract = buildContract(registry);
  const model = buildModel(contract);
  const files = new Map([[CONTRACT_PATH, `${JSON.stringify(contract, null, 2)}\n`]]);
  const render = { typescript: typescriptClient, python: pythonClient, go: goClient };
  for (const language of languages) files.set(CLIENT_PATHS[language], render[language](model));
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
