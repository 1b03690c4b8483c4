/** The root command: load the config, start the server, reload on SIGHUP, stop gracefully on SIGTERM/SIGINT. */
import { rmSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { type Config, ConfigError, loadConfig } from "../config/index.js";
import { createLogger, type Logger } from "../log/logger.js";
import { version } from "../version.js";
import { givenConfigFile, givenConfigFlags } from "./config-flags.js";
import { loadServerConfig, messageOf, type ServerConfig } from "./output.js";

/** What `startServer` from app.ts returns that the CLI needs. */
interface Closable {
  close(): Promise<void>;
}

/** What `startServer` from app.ts returns that SIGHUP needs. */
interface Reloadable {
  /** Throws when `config` cannot be applied; the running one is kept. */
  reload(config: Config): unknown;
}

/** Modes that are fine for local testing only; Centrifugo warns about each at start. */
function logInsecureModes(config: Config, logger: Logger): void {
  const modes: [boolean, string][] = [
    [config.client.insecure, "INSECURE client mode enabled, make sure you understand risks"],
    [config.http_api.insecure, "INSECURE HTTP API mode enabled, make sure you understand risks"],
    [config.admin.insecure, "INSECURE admin mode enabled, make sure you understand risks"],
    [config.client.insecure_skip_token_signature_verify, "INSECURE skip token signature verify enabled"],
  ];
  for (const [on, message] of modes) if (on) logger.warn(message);
}

function removePidFile(path: string): void {
  if (path !== "") rmSync(path, { force: true });
}

/**
 * Exits after `close()`; a second signal, or `shutdown.timeout` passing, exits at once with status 1.
 * Installed before the server starts, so a signal during start-up stops it as soon as it is up.
 */
function stopOnSignals(starting: Promise<Closable>, config: Config, logger: Logger): void {
  let stopping = false;
  const exit = (code: number) => {
    removePidFile(config.pid_file);
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal received, exiting immediately");
      exit(1);
    }
    stopping = true;
    logger.info({ signal }, "signal received, shutting down");
    if (config.shutdown.timeout > 0) {
      setTimeout(() => {
        logger.fatal("shutdown timeout reached");
        exit(1);
      }, config.shutdown.timeout).unref();
    }
    starting
      .then((server) => server.close())
      .then(
        () => exit(0),
        (err: unknown) => {
          logger.error({ err }, "error during shutdown");
          exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** Where the running config came from: the file read at start ("" when there was none) and the flags. */
interface ConfigSource {
  file: string;
  flags: Record<string, string | boolean>;
}

/**
 * SIGHUP re-reads the config file, env and flags the server started with and applies what can be reloaded
 * (centrifugo internal/app/run.go `handleSignals`). Installed with the stop signals, so that a SIGHUP never ends
 * the process, not even during start-up (the reload then waits for the server).
 */
function reloadOnSighup(starting: Promise<Reloadable>, source: ConfigSource, logger: Logger): void {
  process.on("SIGHUP", (signal) => {
    logger.info({ signal }, "signal received, reloading configuration");
    void starting.then(
      (server) => reload(server, source, logger),
      () => undefined,
    );
  });
}

/** A config that does not load or does not apply is logged, and the running one stays. */
function reload(server: Reloadable, source: ConfigSource, logger: Logger): void {
  try {
    const { config, warnings } = loadConfig(source);
    for (const warning of warnings) logger.warn(warning);
    server.reload(config);
  } catch (err) {
    // A config error's message lists every problem by key path; its stack would only add noise.
    const context = err instanceof ConfigError ? {} : { err };
    logger.error(context, `configuration not reloaded, keeping the running one: ${messageOf(err)}`);
  }
}

/** What Centrifugo logs first (centrifugo internal/app/run.go): the config file used, then version and engine. */
function logStart({ config, file }: ServerConfig, logger: Logger): void {
  if (file === undefined) logger.warn("config file not found, continue using environment and flag options");
  else logger.info({ path: file }, "using config file");
  const engine = {
    ...(config.broker.enabled ? { broker: config.broker.type } : {}),
    ...(config.presence_manager.enabled ? { presence_manager: config.presence_manager.type } : {}),
    ...(config.broker.enabled && config.presence_manager.enabled ? {} : { engine: config.engine.type }),
  };
  logger.info({ version, runtime: process.version, pid: process.pid, ...engine }, "starting Turbine");
}

/** Action of the root command. */
export async function serve(command: Command): Promise<void> {
  const flags = givenConfigFlags(command);
  const loaded = loadServerConfig(givenConfigFile(command), flags);
  const { config, warnings } = loaded;
  const logger = createLogger({ level: config.log.level, file: config.log.file });
  logStart(loaded, logger);
  for (const warning of warnings) logger.warn(warning);
  logInsecureModes(config, logger);
  try {
    if (config.pid_file !== "") writeFileSync(config.pid_file, `${process.pid}\n`);
    // Imported here so that the helper commands don't load the whole server.
    const { startServer } = await import("../app/server.js");
    const starting = startServer(config, logger);
    stopOnSignals(starting, config, logger);
    reloadOnSighup(starting, { file: loaded.file ?? "", flags }, logger);
    await starting;
  } catch (err) {
    logger.fatal({ err }, `failed to start: ${messageOf(err)}`);
    removePidFile(config.pid_file);
    process.exit(1);
  }
}
