/**
 * Go `time.Duration` text, the format Centrifugo's config uses for every duration ("25s", "720h", "1m30s",
 * "100ms"). Arithmetic is done in integer nanoseconds (BigInt) so "1.1s" becomes exactly 1100 ms.
 */

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const TERM = /^(\d*)(?:\.(\d*))?([a-zA-Z\u00b5\u03bc]+)/;

/** Nanoseconds of one `<number><unit>` term, or undefined when the term is malformed. */
function termNanos(whole: string, frac: string, unit: string): bigint | undefined {
  const perUnit = NS_PER_UNIT[unit];
  if (perUnit === undefined || (whole === "" && frac === "")) return undefined;
  let nanos = BigInt(whole || "0") * perUnit;
  if (frac !== "") nanos += (BigInt(frac) * perUnit) / 10n ** BigInt(frac.length);
  return nanos;
}

/**
 * Parses a Go duration string like `time.ParseDuration` does and returns nanoseconds, or undefined when the
 * text is not a valid duration. A unit is mandatory except for the bare "0".
 */
export function parseDurationNanos(text: string): bigint | undefined {
  let rest = text;
  let sign = 1n;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest.startsWith("-")) sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") return undefined;
  let total = 0n;
  while (rest !== "") {
    const match = TERM.exec(rest);
    if (!match) return undefined;
    const nanos = termNanos(match[1] ?? "", match[2] ?? "", match[3] ?? "");
    if (nanos === undefined) return undefined;
    total += nanos;
    rest = rest.slice(match[0].length);
  }
  return sign * total;
}

/** Parses a Go duration string to milliseconds (fractional below 1 ms), or undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const nanos = parseDurationNanos(text);
  return nanos === undefined ? undefined : nanosToMillis(nanos);
}

/** Nanoseconds (a bare number in a config file, as Go reads it) to milliseconds. */
export function nanosToMillis(nanos: bigint | number): number {
  return Number(nanos) / 1e6;
}

/** "." + the significant digits of `value / 10^digits`' remainder, or "" when it divides evenly. */
function fraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const rest = value % scale;
  if (rest === 0n) return "";
  return `.${rest.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/** Go's rendering of a sub-second duration: "0s", "750ns", "1.5µs", "100ms". */
function formatSubSecond(nanos: bigint): string {
  if (nanos === 0n) return "0s";
  if (nanos < 1_000n) return `${nanos}ns`;
  if (nanos < 1_000_000n) return `${nanos / 1_000n}${fraction(nanos, 3)}\u00b5s`;
  return `${nanos / 1_000_000n}${fraction(nanos, 6)}ms`;
}

/**
 * Formats milliseconds the way Go's `Duration.String()` does ("25s", "720h0m0s", "1m30s", "100ms"), so a
 * resolved config can be written back in Centrifugo's own notation.
 */
export function formatDuration(millis: number): string {
  const signed = BigInt(Math.round(millis * 1e6));
  const negative = signed < 0n;
  const nanos = negative ? -signed : signed;
  let text: string;
  if (nanos < 1_000_000_000n) {
    text = formatSubSecond(nanos);
  } else {
    const hours = nanos / 3_600_000_000_000n;
    const minutes = (nanos / 60_000_000_000n) % 60n;
    const seconds = `${(nanos / 1_000_000_000n) % 60n}${fraction(nanos, 9)}s`;
    if (hours > 0n) text = `${hours}h${minutes}m${seconds}`;
    else if (minutes > 0n) text = `${minutes}m${seconds}`;
    else text = seconds;
  }
  return negative ? `-${text}` : text;
}
