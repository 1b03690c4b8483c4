/**
 * The readable format for a terminal, in the feel of zerolog's ConsoleWriter as Centrifugo sets it up
 * (centrifugo internal/logging/logging.go, internal/logutils/colorize.go): `2006-01-02 15:04:05 [INF] message
 * key=value …` with coloured three-letter levels and field names.
 */
import type { DestinationStream } from "pino";
import { build as pretty, type MessageFormatFunc } from "pino-pretty";

const RESET = "\x1b[0m";
const CYAN = "\x1b[36m";

/** zerolog console labels and ANSI colours by level word. */
const LABELS: Readonly<Record<string, string>> = {
  trace: `\x1b[34mTRC${RESET}`,
  debug: `\x1b[35mDBG${RESET}`,
  info: `\x1b[32mINF${RESET}`,
  warn: `\x1b[33mWRN${RESET}`,
  error: `\x1b[31mERR${RESET}`,
  fatal: `\x1b[1m\x1b[31mFTL${RESET}${RESET}`,
};

/** Keys pino-pretty shows before the message. */
const SHOWN_APART = new Set(["level", "time"]);

function levelLabel(level: unknown): string {
  return `[${(typeof level === "string" ? LABELS[level] : undefined) ?? `\x1b[31m???${RESET}`}]`;
}

/** A value as zerolog's console shows it: bare when it has no blanks or quotes, else JSON-quoted. */
function shown(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** The message, then every other field as `key=value`. */
const messageFormat: MessageFormatFunc = (log, messageKey) => {
  const fields = Object.entries(log)
    .filter(([key]) => key !== messageKey && !SHOWN_APART.has(key))
    .map(([key, value]) => `${CYAN}${key}=${RESET}${shown(value)}`);
  return [typeof log[messageKey] === "string" ? log[messageKey] : "", ...fields].join(" ");
};

/** A stream that prints JSON log lines readably to `fd`, synchronously so that lines before an exit show. */
export function consoleStream(fd: number): DestinationStream {
  return pretty({
    destination: fd,
    sync: true,
    colorize: true,
    customColors: "message:reset",
    messageKey: "message",
    messageFormat,
    hideObject: true,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss",
    customPrettifiers: {
      time: (time) => String(time),
      level: (level) => levelLabel(level),
    },
  });
}
