/** Declaring one typed RPC method: its name, its params and result schemas (zod), and its handler. */
import type { z } from "zod";

/** Who is calling: the connection the `rpc` command came from. */
export interface RpcContext {
  /** The connection's user ID; "" for anonymous connections. */
  user: string;
  /** The connection's client ID. */
  client: string;
  /** Transport name: "websocket", "sse", … */
  transport: string;
  /** Client protocol: "json" or "protobuf". */
  protocol: string;
  /** The connection's server-only meta (a JSON object), undefined when there is none. */
  meta: Record<string, unknown> | undefined;
}

/** A handler: parsed params in, a result matching the result schema out (sync or async). */
export type RpcHandlerFn<P extends z.ZodType, R extends z.ZodType> = (
  params: z.output<P>,
  ctx: RpcContext,
) => z.input<R> | Promise<z.input<R>>;

/** One declared method, as {@link defineRpc} returns it. */
export interface RpcMethod<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly params: P;
  readonly result: R;
  /** Declared as a method so that any method fits a registry of `RpcMethod` (parameter bivariance). */
  handler(params: z.output<P>, ctx: RpcContext): z.input<R> | Promise<z.input<R>>;
  /** Shown in generated clients as the method's doc comment. */
  readonly description?: string;
}

/** Schemas (and an optional description) of a method. */
export interface RpcSchemas<P extends z.ZodType, R extends z.ZodType> {
  params: P;
  result: R;
  description?: string;
}

/**
 * Declare an RPC method. `name` is what clients pass as the `rpc` command's method (e.g. "tasks.get_stats");
 * generated clients name their typed method after it (tasksGetStats, tasks_get_stats, TasksGetStats).
 */
export function defineRpc<P extends z.ZodType, R extends z.ZodType>(
  name: string,
  schemas: RpcSchemas<P, R>,
  handler: RpcHandlerFn<P, R>,
): RpcMethod<P, R> {
  if (name === "") throw new Error("defineRpc: the method name is empty");
  return { name, params: schemas.params, result: schemas.result, handler, description: schemas.description };
}
