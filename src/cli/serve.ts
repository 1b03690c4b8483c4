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
 * Installed before the server starts, so a signal during start-up stops it as soon as it is up. A worker stops
 * on SIGTERM only: its primary sends that, and a terminal's Ctrl-C (SIGINT to the whole process group) would
 * otherwise reach it twice.
 */
function stopOnSignals(starting: Promise<Closable>, config: Config, logger: Logger, worker: boolean): void {
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
  process.on("SIGINT", worker ? () => undefined : onSignal);
}

/**
 * Error codes that belong to one connection, incoming or outgoing: a peer's reset or abort, a write after the
 * peer went, a stream used after it ended, bytes that are not HTTP, HTTP/2, TLS or WebSocket. Reaching the
 * process level, such an error means one connection lacked a handler; that connection is gone, the others and
 * the process state are fine.
 */
const CONNECTION_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_ALREADY_FINISHED",
  "ERR_STREAM_PUSH_AFTER_EOF",
  "ERR_SOCKET_CLOSED",
  "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_GOAWAY_SESSION",
]);

/** Code prefixes of errors in a peer's bytes: Node's HTTP parser, OpenSSL and Node's TLS, `ws`. */
const CONNECTION_ERROR_PREFIXES = ["HPE_", "ERR_SSL_", "ERR_TLS_", "WS_ERR_"];

/**
 * Whether an error that reached the process level belongs to one connection (see `CONNECTION_ERROR_CODES`):
 * logged, and the process keeps serving. Anything else — a TypeError, a RangeError, an assertion, a non-Error
 * rejection, an unknown code — may have left shared state (the hub, a broker, a timer wheel) half-updated, so
 * the process is unsound: it logs fatal and exits 1 for the supervisor to restart it.
 */
export function belongsToOneConnection(err: unknown): boolean {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (typeof code !== "string") return false;
  return (
    CONNECTION_ERROR_CODES.has(code) || CONNECTION_ERROR_PREFIXES.some((prefix) => code.startsWith(prefix))
  );
}

/** The last line of defence: errors no handler caught, sorted by `belongsToOneConnection`. */
function guardProcess(config: Config, logger: Logger): void {
  const onUncaught = (err: unknown, origin: string) => {
    if (belongsToOneConnection(err)) {
      logger.error({ err, origin }, "uncaught connection error, serving on");
      return;
    }
    logger.fatal({ err, origin }, "uncaught error, exiting");
    removePidFile(config.pid_file);
    process.exit(1);
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", (reason) => onUncaught(reason, "unhandledRejection"));
}

/**
 * Signals that mean nothing to Turbine are logged and ignored, where their default would end the process (as
 * Go ignores them in Centrifugo). SIGUSR1 would open Node's inspector on 127.0.0.1:9229, where any local user
 * could run code in the server: it is ignored too (start with `node --inspect` to debug). SIGPIPE and SIGWINCH
 * are ignored by Node already; SIGHUP reloads, SIGTERM and SIGINT stop, SIGQUIT and SIGKILL end the process.
 */
function ignoreMeaninglessSignals(logger: Logger, primary: boolean): void {
  const ignored: NodeJS.Signals[] = ["SIGUSR1", "SIGALRM", "SIGVTALRM", "SIGIO", "SIGPWR"];
  // The primary of `workers` restarts them on SIGUSR2.
  if (!primary) ignored.push("SIGUSR2");
  for (const name of ignored) process.on(name, (signal) => logger.info({ signal }, "signal ignored"));
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
  // Imported here so that the helper commands don't load the whole server.
  const workers = await import("../app/workers.js");
  const worker = workers.isWorker();
  // The primary owns the pid file and reports the config; a worker's exit must not remove the file.
  const config = worker ? { ...loaded.config, pid_file: "" } : loaded.config;
  const logger = createLogger({ level: config.log.level, file: config.log.file });
  if (!worker) reportConfig(loaded, logger);
  try {
    const primary = !worker && workers.workerCount(config.workers) > 1;
    guardProcess(config, logger);
    ignoreMeaninglessSignals(logger, primary);
    if (config.pid_file !== "") writeFileSync(config.pid_file, `${process.pid}\n`);
    if (primary) {
      const starting = workers.runPrimary(config, workers.workerCount(config.workers), logger);
      stopOnSignals(starting, config, logger, false);
      await starting;
      return;
    }
    const engine = worker ? workers.joinPrimary(logger) : undefined;
    const { startServer } = await import("../app/server.js");
    const starting = startServer(config, logger, engine);
    stopOnSignals(starting, config, logger, worker);
    reloadOnSighup(starting, { file: loaded.file ?? "", flags }, logger);
    const server = await starting;
    if (worker && server.metrics !== undefined) workers.shareMetrics(server.metrics);
    if (worker) workers.workerReady();
  } catch (err) {
    logger.fatal({ err }, `failed to start: ${messageOf(err)}`);
    removePidFile(config.pid_file);
    process.exit(1);
  }
}

/** Start-up lines about the config: where it came from, its warnings, insecure modes. */
function reportConfig(loaded: ServerConfig, logger: Logger): void {
  logStart(loaded, logger);
  for (const warning of loaded.warnings) logger.warn(warning);
  logInsecureModes(loaded.config, logger);
}
