/**
 * The fields of a log line as zerolog writes them in Centrifugo (centrifugo internal/logging/logging.go keeps
 * zerolog's defaults): `time` in RFC 3339 at second precision with the local zone offset, `level` as a word,
 * `message`, and an error under `error` as its text.
 */

/** Two digits, zero-padded. */
function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `2026-12-03T08:12:00Z`, or `2026-12-03T09:12:00+01:00` where local time is not UTC (Go's time.RFC3339). */
export function rfc3339(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${local}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes > 0 ? "+" : "-"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

let cachedSecond = -1;
let cachedTime = "";

/** pino's `timestamp` option: the `time` field, formatted once per second since lines share it. */
export function timeField(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedTime = `,"time":"${rfc3339(new Date(second * 1000))}"`;
  }
  return cachedTime;
}

/** The text of one error: its message, else its code or name; an AggregateError's parts when it has none. */
function ownText(err: Error): string {
  if (err.message !== "") return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorText).join("; ");
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? err.name;
}

/** Something thrown that is not an Error, as text; JSON when it can be (objects, numbers). */
function thrownText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An error as Go prints a wrapped one: `outer: inner` along the `cause` chain. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return thrownText(err);
  const text = ownText(err);
  return err.cause === undefined ? text : `${text}: ${errorText(err.cause)}`;
}

/**
 * pino's `formatters.log`: the `err` field Turbine's code logs (or an Error under `error`) becomes zerolog's
 * `error` string. With `stacks` (debug and trace levels) the stack goes along under zerolog's `stack` name, for
 * the unexpected errors that need one.
 */
export function errorField(stacks: boolean): (fields: Record<string, unknown>) => Record<string, unknown> {
  return (fields) => {
    const err = "err" in fields ? fields.err : fields.error instanceof Error ? fields.error : undefined;
    if (err === undefined) return fields;
    const { err: _err, ...rest } = fields;
    rest.error = errorText(err);
    if (stacks && err instanceof Error && err.stack !== undefined) rest.stack = err.stack;
    return rest;
  };
}
