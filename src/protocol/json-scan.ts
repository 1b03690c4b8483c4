/**
 * Byte-level JSON grammar checks. `bytes` fields travel as raw embedded JSON, so the codec must find where a
 * value ends (decoding) and prove that stored bytes are one valid JSON value (encoding) without parsing them
 * into JS values, which would lose big integers and formatting.
 *
 * Scanners take `(b, pos, end)` and return the position just after what they matched, or -1 if the input is
 * not valid JSON. Like Go's encoding/json, they do not validate UTF-8 inside strings.
 */

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const COLON = 0x3a;
export const LBRACKET = 0x5b;
export const BACKSLASH = 0x5c;
export const RBRACKET = 0x5d;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;

/** Same limit as Go's encoding/json; deeper input is rejected rather than risking unbounded work. */
const MAX_NESTING = 10000;

/** The bytes of `true`, `false` and `null`, for {@link scanLiteral}. */
export const TRUE: readonly number[] = [0x74, 0x72, 0x75, 0x65];
export const FALSE: readonly number[] = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL: readonly number[] = [0x6e, 0x75, 0x6c, 0x6c];

/** Where one member of a JSON object lies, as byte ranges: its key (quotes included) and its value. */
export interface MemberRange {
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** Whether `b` holds exactly one JSON value, optionally surrounded by whitespace. */
export function isValidJson(b: Uint8Array): boolean {
  const end = b.length;
  const pos = scanValue(b, skipWhitespace(b, 0, end), end);
  return pos >= 0 && skipWhitespace(b, pos, end) === end;
}

export function skipWhitespace(b: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const c = b[pos];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    pos++;
  }
  return pos;
}

/**
 * Scan one JSON value starting exactly at `pos` (no leading whitespace). Iterative, so deeply nested input
 * cannot overflow the call stack.
 */
export function scanValue(b: Uint8Array, pos: number, end: number): number {
  const open: number[] = [];
  for (;;) {
    const c = b[pos];
    if (c === LBRACE || c === LBRACKET) {
      if (open.length === MAX_NESTING) return -1;
      const close = c === LBRACE ? RBRACE : RBRACKET;
      pos = skipWhitespace(b, pos + 1, end);
      if (b[pos] === close) {
        pos++;
      } else {
        open.push(c);
        pos = c === LBRACE ? scanKey(b, pos, end) : pos;
        if (pos < 0) return -1;
        continue;
      }
    } else {
      pos = scanPrimitive(b, pos, end);
      if (pos < 0) return -1;
    }
    pos = afterValue(b, pos, end, open);
    if (pos < 0 || open.length === 0) return pos;
  }
}

/**
 * After a value inside containers: close every container that ends here, then step over a comma (and the next
 * key, inside an object). Returns where the next value starts, or the end of the outermost value once `open`
 * is empty.
 */
function afterValue(b: Uint8Array, pos: number, end: number, open: number[]): number {
  while (open.length > 0) {
    pos = skipWhitespace(b, pos, end);
    const top = open[open.length - 1];
    const c = b[pos];
    if (c === COMMA) {
      pos = skipWhitespace(b, pos + 1, end);
      return top === LBRACE ? scanKey(b, pos, end) : pos;
    }
    if (c !== (top === LBRACE ? RBRACE : RBRACKET)) return -1;
    open.pop();
    pos++;
  }
  return pos;
}

/**
 * Scan the JSON object starting exactly at `pos`, pushing each member's ranges onto `members` in document
 * order, duplicates included: callers that hand values on byte for byte (legacy API params, JWT claims) need
 * the source text, which parsing into JS values would lose.
 */
export function scanMembers(b: Uint8Array, pos: number, end: number, members: MemberRange[]): number {
  if (b[pos] !== LBRACE) return -1;
  pos = skipWhitespace(b, pos + 1, end);
  if (b[pos] === RBRACE) return pos + 1;
  for (;;) {
    const keyEnd = b[pos] === QUOTE ? scanString(b, pos, end) : -1;
    if (keyEnd < 0) return -1;
    const colon = skipWhitespace(b, keyEnd, end);
    if (b[colon] !== COLON) return -1;
    const valueStart = skipWhitespace(b, colon + 1, end);
    const valueEnd = scanValue(b, valueStart, end);
    if (valueEnd < 0) return -1;
    members.push({ keyStart: pos, keyEnd, valueStart, valueEnd });
    pos = skipWhitespace(b, valueEnd, end);
    if (b[pos] === RBRACE) return pos + 1;
    if (b[pos] !== COMMA) return -1;
    pos = skipWhitespace(b, pos + 1, end);
  }
}

/** A key, its colon and the whitespace before the value. */
function scanKey(b: Uint8Array, pos: number, end: number): number {
  if (b[pos] !== QUOTE) return -1;
  pos = skipWhitespace(b, scanString(b, pos, end), end);
  if (pos < 0 || b[pos] !== COLON) return -1;
  return skipWhitespace(b, pos + 1, end);
}

function scanPrimitive(b: Uint8Array, pos: number, end: number): number {
  const c = b[pos];
  if (c === QUOTE) return scanString(b, pos, end);
  if (c === MINUS || isDigit(c)) return scanNumber(b, pos, end);
  if (c === 0x74) return scanLiteral(b, pos, end, TRUE);
  if (c === 0x66) return scanLiteral(b, pos, end, FALSE);
  if (c === 0x6e) return scanLiteral(b, pos, end, NULL);
  return -1;
}

export function scanLiteral(b: Uint8Array, pos: number, end: number, literal: readonly number[]): number {
  if (pos + literal.length > end) return -1;
  for (let i = 0; i < literal.length; i++) if (b[pos + i] !== literal[i]) return -1;
  return pos + literal.length;
}

/** True when the bytes at `pos` spell `null`. */
export function isNullAt(b: Uint8Array, pos: number, end: number): boolean {
  return scanLiteral(b, pos, end, NULL) > 0;
}

/** Scan a string starting at its opening quote; returns the position after the closing quote. */
export function scanString(b: Uint8Array, pos: number, end: number): number {
  for (let i = pos + 1; i < end; i++) {
    const c = b[i] as number;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      i = scanEscape(b, i + 1, end);
      if (i < 0) return -1;
    }
  }
  return -1;
}

/** Validate the escape whose letter is at `pos`; returns the position of its last byte. */
function scanEscape(b: Uint8Array, pos: number, end: number): number {
  switch (b[pos]) {
    case QUOTE:
    case BACKSLASH:
    case 0x2f: // /
    case 0x62: // b
    case 0x66: // f
    case 0x6e: // n
    case 0x72: // r
    case 0x74: // t
      return pos;
    case 0x75: // u
      if (pos + 4 >= end) return -1;
      for (let k = 1; k <= 4; k++) if (hexValue(b[pos + k]) < 0) return -1;
      return pos + 4;
    default:
      return -1;
  }
}

/** Scan a number per the JSON grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
export function scanNumber(b: Uint8Array, pos: number, end: number): number {
  if (b[pos] === MINUS) pos++;
  if (b[pos] === 0x30) pos++;
  else if (isDigit(b[pos])) pos = digits(b, pos, end);
  else return -1;
  if (b[pos] === 0x2e) {
    if (!isDigit(b[pos + 1])) return -1;
    pos = digits(b, pos + 1, end);
  }
  if (b[pos] === 0x65 || b[pos] === 0x45) {
    pos++;
    if (b[pos] === 0x2b || b[pos] === MINUS) pos++;
    if (!isDigit(b[pos])) return -1;
    pos = digits(b, pos, end);
  }
  return pos;
}

function digits(b: Uint8Array, pos: number, end: number): number {
  while (pos < end && isDigit(b[pos])) pos++;
  return pos;
}

export function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** The value of a hex digit, or -1. */
export function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
