/**
 * Turbine's programmatic API: build and start a node in-process from a Centrifugo-shaped config object,
 * as the CLI does from a file.
 */
import type { Logger } from "pino";
import { type Engine, type NodeTuning, type RunningServer, startServer } from "./app/server.js";
import { loadConfig } from "./config/index.js";
import { createLogger } from "./log/logger.js";
import type { RpcMethod } from "./rpc/define.js";
import { isRpcRegistry, RpcRegistry } from "./rpc/registry.js";

export type { Engine, NodeTuning, RunningServer } from "./app/server.js";
export type * from "./engine/types.js";
export { startServer } from "./app/server.js";
export { type Config, ConfigError, loadConfig } from "./config/index.js";
export type { Node } from "./core/node.js";
export { createLogger } from "./log/logger.js";

export interface StartOptions {
  /** Config in the config file's shape (v6 keys; v5 keys accepted with warnings). */
  config?: Record<string, unknown>;
  /** Where `CENTRIFUGO_*` variables come from; default `process.env`. Pass `{}` to ignore the environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: a pino logger at the config's `log.level`. */
  logger?: Logger;
  /** A broker and presence manager to use instead of the configured engine. */
  engine?: Engine;
  /** Node settings without a config key, such as the node announcement interval. */
  tuning?: NodeTuning;
  /**
   * Typed RPC methods to answer in-process: a registry, or an array of `defineRpc` methods (instead of
   * `rpc.handlers_module`, which names a module).
   */
  rpc?: RpcRegistry | readonly RpcMethod[];
}

/** Validate the config (throws ConfigError naming each bad key), then start serving. */
export async function startTurbine(options: StartOptions = {}): Promise<RunningServer> {
  const { config, warnings } = loadConfig({ values: options.config ?? {}, env: options.env });
  const logger =
    options.logger ?? createLogger({ level: config.log.level, file: config.log.file || undefined });
  for (const warning of warnings) logger.warn(warning);
  const rpc =
    options.rpc === undefined || isRpcRegistry(options.rpc) ? options.rpc : new RpcRegistry(options.rpc);
  return startServer(config, logger, options.engine, { ...options.tuning, rpc });
}
