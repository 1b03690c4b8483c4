/** Loading a handlers module: the file `rpc.handlers_module` or `gen-clients --handlers` names. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RpcMethod } from "./define.js";
import { isRpcRegistry, RpcRegistry } from "./registry.js";

/** Modules that need a TypeScript loader. */
const TYPESCRIPT_MODULE = /\.(?:ts|mts|cts|tsx)$/;

/**
 * Import `modulePath` (relative to the working directory) and take its registry: the default export, or an
 * export named `registry`, being an `RpcRegistry` or an array of methods from `defineRpc`. A TypeScript module
 * is loaded through tsx's scoped import, so it needs no `--import tsx` and no `"type": "module"` in the app.
 */
export async function loadRpcRegistry(modulePath: string): Promise<RpcRegistry> {
  const url = pathToFileURL(resolve(modulePath)).href;
  const mod = (
    TYPESCRIPT_MODULE.test(modulePath) ? await importTypeScript(url) : await import(url)
  ) as Record<string, unknown>;
  for (const candidate of candidates(mod)) {
    if (isRpcRegistry(candidate)) return candidate;
    if (Array.isArray(candidate) && candidate.every(isRpcMethod)) {
      return new RpcRegistry(candidate);
    }
  }
  throw new Error(
    `${modulePath}: export an RpcRegistry (or an array of defineRpc methods) as default or as "registry"`,
  );
}

/** tsx's import of one module (and what it imports), without registering a loader for the whole process. */
async function importTypeScript(url: string): Promise<unknown> {
  const { tsImport } = await import("tsx/esm/api");
  return tsImport(url, import.meta.url);
}

/**
 * The exports that may hold the registry. A module compiled as CommonJS (a `.ts` file in a package without
 * `"type": "module"`) arrives with its `exports` object as the default export, holding `default` and `registry`.
 */
function candidates(mod: Record<string, unknown>): unknown[] {
  const found = [mod.default, mod.registry];
  const exportsObject = mod.default;
  if (typeof exportsObject === "object" && exportsObject !== null && !isRpcRegistry(exportsObject)) {
    const commonJs = exportsObject as Record<string, unknown>;
    found.push(commonJs.default, commonJs.registry);
  }
  return found;
}

function isRpcMethod(value: unknown): value is RpcMethod {
  if (typeof value !== "object" || value === null) return false;
  const method = value as Partial<RpcMethod>;
  return typeof method.name === "string" && typeof method.handler === "function";
}
