/**
 * Typed RPC for application backends: declare methods with zod schemas, collect them in a registry, and serve
 * it in-process (`rpc.handlers_module`) or behind an RPC proxy (`createRpcProxyHandler`).
 */
export { defineRpc, type RpcContext, type RpcHandlerFn, type RpcMethod, type RpcSchemas } from "./define.js";
export { isRpcError, RPC_INTERNAL, RPC_INVALID_PARAMS, RPC_METHOD_NOT_FOUND, RpcError } from "./errors.js";
export { InProcessRpcHandler } from "./in-process.js";
export { loadRpcRegistry } from "./load.js";
export {
  answerRpcProxy,
  createRpcProxyHandler,
  type RpcProxyOptions,
  type RpcProxyResponse,
} from "./proxy-endpoint.js";
export { isRpcRegistry, type RpcLogger, type RpcOutcome, RpcRegistry } from "./registry.js";
