/** Errors an RPC handler can throw, and the codes Turbine's RPC layer answers with. */

/**
 * Code of the error answered when a call's params do not match the method's params schema (or are not
 * JSON). It sits in the application range 400–1999 of Centrifugo's proxy protocol, so it passes unchanged
 * through real Centrifugo's RPC proxy too; the message lists the validation issues.
 */
export const RPC_INVALID_PARAMS = 422;
/** Unknown method: Centrifugo's client-protocol code "method not found". */
export const RPC_METHOD_NOT_FOUND = 104;
/** Handler failure or a result that breaks its schema: Centrifugo's "internal server error". */
export const RPC_INTERNAL = 100;

/** Brand that survives two copies of this module (a handlers module may import another build of Turbine). */
const BRAND = Symbol.for("turbine.rpc.error");

/**
 * An error a handler throws to answer the call with `code` and `message` as they are (use 400–1999 for
 * application errors, as Centrifugo's proxy protocol does).
 */
export class RpcError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

/** Whether `err` is an {@link RpcError}, from this copy of the module or another. */
export function isRpcError(err: unknown): err is RpcError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}
