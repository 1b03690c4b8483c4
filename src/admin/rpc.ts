/**
 * The RPC playground's backend, a Turbine addition: the JSON Schemas of the typed RPC methods this node serves
 * in-process (`rpc.handlers_module`, the contract `turbine gen-clients` writes as rpc-schema.json), and calls
 * of those methods through the same handler client `rpc` commands reach, so validation errors (422) and
 * handler errors come back exactly as a client would get them.
 */
import type { RpcHandler } from "../core/rpc.js";
import { ClientError } from "../protocol/codes.js";

/** The contract document: what `rpc-schema.json` holds (turbine-rpc/1). */
export interface RpcSchemaDocument {
  readonly contract: string;
  readonly hash: string;
  readonly methods: readonly {
    name: string;
    description?: string;
    params: Record<string, unknown>;
    result: Record<string, unknown>;
  }[];
}

/** The typed methods the node serves in-process. */
export interface TypedRpc {
  readonly schema: RpcSchemaDocument;
  readonly handler: RpcHandler;
}

/** What the playground shows when no handlers module is loaded. */
export const NO_TYPED_RPC: RpcSchemaDocument = { contract: "turbine-rpc/1", hash: "", methods: [] };

/** A call's answer, as the client protocol's `rpc` reply carries it. */
export type RpcCallReply = { result: { data?: unknown } } | { error: { code: number; message: string } };

/**
 * Call `method` with `params` as the admin (user "", client "admin", transport "admin", JSON). Unknown
 * methods are 104 "method not found", as for clients of a node without that method.
 */
export async function callTypedRpc(
  rpc: TypedRpc | undefined,
  method: string,
  params: unknown,
  onInternalError: (err: unknown) => void,
): Promise<RpcCallReply> {
  if (rpc === undefined || !rpc.handler.handles(method)) {
    return { error: { code: 104, message: "method not found" } };
  }
  const data = params === undefined ? new Uint8Array(0) : Buffer.from(JSON.stringify(params));
  try {
    const result = await rpc.handler.call({
      method,
      data,
      user: "",
      client: "admin",
      transport: "admin",
      protocol: "json",
    });
    return { result: result.length === 0 ? {} : { data: JSON.parse(Buffer.from(result).toString("utf8")) } };
  } catch (err) {
    if (err instanceof ClientError) return { error: { code: err.code, message: err.message } };
    onInternalError(err);
    return { error: { code: 100, message: "internal server error" } };
  }
}
