/**
 * Logging: pino, writing lines in the shape of Centrifugo's zerolog output (centrifugo
 * internal/logging/logging.go): JSON lines on stderr, or a readable coloured format on stdout when stdout is a
 * terminal, or JSON lines appended to `log.file` instead of either.
 */
import {
  type DestinationStream,
  type Level,
  type LevelWithSilent,
  type Logger as PinoLogger,
  pino,
} from "pino";
import { consoleStream } from "./console.js";
import { errorField, timeField } from "./format.js";

/** The logger type the rest of Turbine takes as an argument. */
export type Logger = PinoLogger;

/** Centrifugo's `log.level` values. */
export type LogLevel = "none" | "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Centrifugo level name; `none` turns logging off. */
  level: LogLevel;
  /** Log to this file (appended, created with its directory) instead of stderr. Empty or absent = stderr. */
  file?: string;
}

const STDOUT = 1;
const STDERR = 2;

function pinoLevel(level: LogLevel): LevelWithSilent {
  return level === "none" ? "silent" : (level satisfies Level);
}

/** Upstream picks the console format by stdout being a terminal (not on Windows), and then writes it there. */
function destination(file: string | undefined): DestinationStream {
  if (file !== undefined && file !== "") {
    return pino.destination({ dest: file, sync: true, mkdir: true, append: true });
  }
  if (process.stdout.isTTY && process.platform !== "win32") return consoleStream(STDOUT);
  return pino.destination({ dest: STDERR, sync: true });
}

/**
 * Creates the process logger. Output is synchronous so that the last lines before `process.exit` (bad
 * config, shutdown) are not lost; at Turbine's log volume this costs little.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: pinoLevel(options.level),
      // zerolog adds no pid or hostname.
      base: undefined,
      messageKey: "message",
      timestamp: timeField,
      formatters: {
        level: (label) => ({ level: label }),
        log: errorField(options.level === "debug" || options.level === "trace"),
      },
    },
    destination(options.file),
  );
}
