/** Loading a handlers module: the file `rpc.handlers_module` or `gen-clients --handlers` names. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RpcMethod } from "./define.js";
import { isRpcRegistry, RpcRegistry } from "./registry.js";

/**
 * Import `modulePath` (relative to the working directory) and take its registry: the default export, or an
 * export named `registry`, being an `RpcRegistry` or an array of methods from `defineRpc`.
 */
export async function loadRpcRegistry(modulePath: string): Promise<RpcRegistry> {
  const url = pathToFileURL(resolve(modulePath)).href;
  const mod = (await import(url)) as Record<string, unknown>;
  for (const candidate of [mod.default, mod.registry]) {
    if (isRpcRegistry(candidate)) return candidate;
    if (Array.isArray(candidate) && candidate.every(isRpcMethod)) return new RpcRegistry(candidate);
  }
  throw new Error(
    `${modulePath}: export an RpcRegistry (or an array of defineRpc methods) as default or as "registry"`,
  );
}

function isRpcMethod(value: unknown): value is RpcMethod {
  if (typeof value !== "object" || value === null) return false;
  const method = value as Partial<RpcMethod>;
  return typeof method.name === "string" && typeof method.handler === "function";
}
