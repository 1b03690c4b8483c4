/**
 * The neutral contract: every method with the JSON Schema of its params (as clients send them) and of its
 * result (as handlers return them after validation), and a hash over both, written as `rpc-schema.json` so a
 * change to the API shows up in review and generated clients can tell which contract they were built from.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { RpcRegistry } from "../registry.js";

/** A JSON Schema document (draft 2020-12) as zod writes it. */
export type JsonSchema = { [key: string]: unknown };

/** One method in the contract. */
export interface ContractMethod {
  name: string;
  description?: string;
  params: JsonSchema;
  result: JsonSchema;
}

/** The content of `rpc-schema.json`. */
export interface RpcContract {
  /** Format of this file. */
  contract: "turbine-rpc/1";
  /** sha256 (hex) of the canonical JSON of `methods`. */
  hash: string;
  methods: ContractMethod[];
}

/** The contract of a registry; methods sorted by name. */
export function buildContract(registry: RpcRegistry): RpcContract {
  const methods = registry.list().map((method): ContractMethod => {
    const schema = (type: z.ZodType, io: "input" | "output", what: string) => {
      try {
        return z.toJSONSchema(type, { io, unrepresentable: "throw" }) as JsonSchema;
      } catch (err) {
        throw new Error(`${method.name}: its ${what} schema has no JSON Schema: ${(err as Error).message}`, {
          cause: err,
        });
      }
    };
    return {
      name: method.name,
      ...(method.description === undefined ? {} : { description: method.description }),
      params: schema(method.params, "input", "params"),
      result: schema(method.result, "output", "result"),
    };
  });
  return { contract: "turbine-rpc/1", hash: contractHash(methods), methods };
}

/** sha256 over the canonical (sorted-key) JSON of the methods. */
export function contractHash(methods: ContractMethod[]): string {
  return createHash("sha256").update(canonicalJson(methods)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
