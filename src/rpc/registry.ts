/** The set of declared RPC methods, and the one place a call is validated, run and turned into an outcome. */
import type { RpcContext, RpcMethod } from "./define.js";
import { isRpcError, RPC_INTERNAL, RPC_INVALID_PARAMS, RPC_METHOD_NOT_FOUND } from "./errors.js";

/** A call's outcome: the validated result, or an error for the client. */
export type RpcOutcome = { result: unknown } | { error: { code: number; message: string } };

/** Where failures of handlers are reported (a pino logger fits). */
export interface RpcLogger {
  error(details: object, message: string): void;
}

const BRAND = Symbol.for("turbine.rpc.registry");

/** The message of the error for params that are not valid JSON. */
export const NOT_JSON_MESSAGE = "invalid params: not JSON";

/** Declared methods by name; serves them in-process and behind an RPC proxy alike. */
export class RpcRegistry {
  readonly [BRAND] = true;
  private readonly methods = new Map<string, RpcMethod>();

  constructor(methods: Iterable<RpcMethod> = []) {
    for (const method of methods) this.add(method);
  }

  /** Add a method; a second method with the same name is a programming error and throws. */
  add(method: RpcMethod): this {
    if (this.methods.has(method.name)) throw new Error(`RPC method "${method.name}" is declared twice`);
    this.methods.set(method.name, method);
    return this;
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  /** Every method, sorted by name (generated code and the contract hash depend on a stable order). */
  list(): RpcMethod[] {
    return [...this.methods.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Validate `params`, run the handler, validate its result. Never throws: unknown method → 104, invalid
   * params → {@link RPC_INVALID_PARAMS} with the validation messages, an `RpcError` → its code and message,
   * anything else (or a result that breaks its schema) → 100 and a log line, without details to the client.
   */
  async invoke(name: string, params: unknown, ctx: RpcContext, logger: RpcLogger): Promise<RpcOutcome> {
    const method = this.methods.get(name);
    if (method === undefined) return { error: { code: RPC_METHOD_NOT_FOUND, message: "method not found" } };
    const parsed = await method.params.safeParseAsync(params);
    if (!parsed.success) {
      return {
        error: { code: RPC_INVALID_PARAMS, message: `invalid params: ${describeIssues(parsed.error)}` },
      };
    }
    let output: unknown;
    try {
      output = await method.handler(parsed.data, ctx);
    } catch (err) {
      if (isRpcError(err)) return { error: { code: err.code, message: err.message } };
      logger.error({ err, method: name, user: ctx.user, client: ctx.client }, "RPC handler failed");
      return internalError();
    }
    const result = await method.result.safeParseAsync(output);
    if (!result.success) {
      const issues = describeIssues(result.error);
      logger.error({ method: name, issues }, "RPC handler result does not match its schema");
      return internalError();
    }
    return { result: result.data };
  }
}

/** Whether `value` is an {@link RpcRegistry}, from this copy of the module or another. */
export function isRpcRegistry(value: unknown): value is RpcRegistry {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

function internalError(): RpcOutcome {
  return { error: { code: RPC_INTERNAL, message: "internal server error" } };
}

/** "path.to.field: message; …" from a zod error. */
function describeIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    })
    .join("; ");
}
