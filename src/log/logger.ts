/** Logging: pino, with Centrifugo's level names. */
import {
  type DestinationStream,
  type Level,
  type LevelWithSilent,
  type Logger as PinoLogger,
  pino,
} from "pino";

/** The logger type the rest of Turbine takes as an argument. */
export type Logger = PinoLogger;

/** Centrifugo's `log.level` values. */
export type LogLevel = "none" | "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Centrifugo level name; `none` turns logging off. */
  level: LogLevel;
  /** Log to this file (appended, created with its directory) instead of stdout. Empty or absent = stdout. */
  file?: string;
}

function pinoLevel(level: LogLevel): LevelWithSilent {
  return level === "none" ? "silent" : (level satisfies Level);
}

/**
 * Creates the process logger. File output is synchronous so that the last lines before `process.exit` (bad
 * config, shutdown) are not lost; at Turbine's log volume this costs little.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination: DestinationStream =
    options.file === undefined || options.file === ""
      ? pino.destination({ dest: 1, sync: true })
      : pino.destination({ dest: options.file, sync: true, mkdir: true, append: true });
  return pino({ level: pinoLevel(options.level) }, destination);
}
