/**
 * JSON decoding of protocol messages with the semantics of Centrifugo's Go decoder: keys are proto names
 * (matched case-insensitively as a fallback, like Go), unknown keys are skipped, `null` leaves a field at its
 * zero value, values of the wrong type are errors, and `bytes` fields keep the exact bytes of the embedded JSON
 * value (including `null`).
 */
import { type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { ProtocolDecodeError } from "./errors.js";
import { newMessage } from "./messages.js";
import {
  BACKSLASH,
  COLON,
  COMMA,
  FALSE,
  hexValue,
  isNullAt,
  LBRACE,
  LBRACKET,
  MINUS,
  QUOTE,
  RBRACE,
  RBRACKET,
  scanLiteral,
  scanNumber,
  scanString,
  scanValue,
  skipWhitespace,
  TRUE,
} from "./json-scan.js";
import { type FieldInfo, fieldsOf, Shape } from "./schema.js";
import { decodeUtf8 } from "./utf8.js";

/** Nested messages (FilterNode trees) deeper than this are rejected instead of recursing further. */
const MAX_MESSAGE_DEPTH = 100;

/** Integer ranges by scalar type, exact (bigint) and as doubles for the fast check. */
interface IntRange {
  readonly min: bigint;
  readonly max: bigint;
  readonly minNumber: number;
  readonly maxNumber: number;
}

function range(min: bigint, max: bigint): IntRange {
  return { min, max, minNumber: Number(min), maxNumber: Number(max) };
}

const INT_RANGES: Partial<Record<ScalarType, IntRange>> = {
  [ScalarType.INT32]: range(-(2n ** 31n), 2n ** 31n - 1n),
  [ScalarType.UINT32]: range(0n, 2n ** 32n - 1n),
  [ScalarType.INT64]: range(-(2n ** 63n), 2n ** 63n - 1n),
  [ScalarType.SINT64]: range(-(2n ** 63n), 2n ** 63n - 1n),
  [ScalarType.UINT64]: range(0n, 2n ** 64n - 1n),
};

/**
 * The longest integer literal that can be in range of any type: `-9223372036854775808` and
 * `18446744073709551615` are 20 characters. Longer literals are out of range without a BigInt, whose
 * parsing is superlinear in the digits (9 million digits would block the event loop for seconds).
 */
const MAX_INTEGER_LITERAL = 20;

type Fields = Record<string, unknown>;

const keyMaps = new WeakMap<DescMessage, ReadonlyMap<string, FieldInfo>>();

function keyMapOf(desc: DescMessage): ReadonlyMap<string, FieldInfo> {
  let map = keyMaps.get(desc);
  if (map === undefined) {
    map = new Map(fieldsOf(desc).map((f) => [f.name, f]));
    keyMaps.set(desc, map);
  }
  return map;
}

/**
 * Decode `b` (the whole buffer: one JSON object, optionally surrounded by whitespace) into a message of type
 * `desc`. Throws ProtocolDecodeError on any malformed input.
 */
export function readJsonDocument<T extends Message>(b: Uint8Array, desc: DescMessage): T {
  const r = new JsonReader(b);
  r.pos = skipWhitespace(b, 0, b.length);
  const msg = r.message(desc, 0);
  if (skipWhitespace(b, r.pos, b.length) !== b.length) r.fail("unexpected data after the object");
  return msg as T;
}

class JsonReader {
  pos = 0;
  private readonly end: number;

  constructor(private readonly b: Uint8Array) {
    this.end = b.length;
  }

  fail(reason: string): never {
    throw new ProtocolDecodeError(`malformed JSON at byte ${this.pos}: ${reason}`);
  }

  /** Read a JSON object into a new message of type `desc`. */
  message(desc: DescMessage, depth: number): Message {
    if (depth > MAX_MESSAGE_DEPTH) this.fail("messages nested too deeply");
    if (this.b[this.pos] !== LBRACE) this.fail("expected an object");
    const msg = newMessage(desc);
    const fields = keyMapOf(desc);
    this.pos = skipWhitespace(this.b, this.pos + 1, this.end);
    if (this.b[this.pos] === RBRACE) {
      this.pos++;
      return msg;
    }
    for (;;) {
      const key = this.key();
      const field = fields.get(key) ?? fields.get(key.toLowerCase());
      if (field === undefined) this.skip();
      else this.field(field, msg as unknown as Fields, depth);
      if (this.separator(RBRACE)) return msg;
    }
  }

  /** After a member: true at the closing bracket (consumed), false after a comma (consumed). */
  private separator(close: number): boolean {
    this.pos = skipWhitespace(this.b, this.pos, this.end);
    const c = this.b[this.pos];
    this.pos = skipWhitespace(this.b, this.pos + 1, this.end);
    if (c === close) return true;
    if (c !== COMMA) this.fail("expected a comma");
    return false;
  }

  /** An object key and its colon; leaves `pos` at the value. */
  private key(): string {
    const key = this.string();
    this.pos = skipWhitespace(this.b, this.pos, this.end);
    if (this.b[this.pos] !== COLON) this.fail("expected a colon");
    this.pos = skipWhitespace(this.b, this.pos + 1, this.end);
    return key;
  }

  private field(f: FieldInfo, msg: Fields, depth: number): void {
    if (f.scalar === ScalarType.BYTES && f.shape === Shape.Scalar) {
      msg[f.localName] = this.raw();
      return;
    }
    if (isNullAt(this.b, this.pos, this.end)) {
      this.pos += 4;
      if (f.shape === Shape.Message) msg[f.localName] = undefined;
      return;
    }
    switch (f.shape) {
      case Shape.Scalar:
        msg[f.localName] = this.scalar(f.scalar as ScalarType);
        return;
      case Shape.Message:
        msg[f.localName] = this.message(f.message as DescMessage, depth + 1);
        return;
      case Shape.List:
        msg[f.localName] = this.list(f, depth);
        return;
      default:
        msg[f.localName] = this.map(f, depth);
    }
  }

  private list(f: FieldInfo, depth: number): unknown[] {
    if (this.b[this.pos] !== LBRACKET) this.fail("expected an array");
    const list: unknown[] = [];
    this.pos = skipWhitespace(this.b, this.pos + 1, this.end);
    if (this.b[this.pos] === RBRACKET) {
      this.pos++;
      return list;
    }
    do list.push(this.listElement(f, depth));
    while (!this.separator(RBRACKET));
    return list;
  }

  /**
   * A list element. A `null` message element stays a hole (undefined), as Go keeps a nil pointer in a
   * `[]*Message`, so callers can tell it apart (the server API answers a `null` batch command with 107).
   */
  private listElement(f: FieldInfo, depth: number): unknown {
    if (f.message === undefined || !isNullAt(this.b, this.pos, this.end)) return this.element(f, depth);
    this.pos += 4;
    return undefined;
  }

  private map(f: FieldInfo, depth: number): Fields {
    if (this.b[this.pos] !== LBRACE) this.fail("expected an object");
    const map: Fields = {};
    this.pos = skipWhitespace(this.b, this.pos + 1, this.end);
    if (this.b[this.pos] === RBRACE) {
      this.pos++;
      return map;
    }
    do {
      const key = this.key();
      const value = this.element(f, depth);
      // A plain assignment to "__proto__" would replace the prototype instead of adding an entry.
      if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true });
      else map[key] = value;
    } while (!this.separator(RBRACE));
    return map;
  }

  /** A list element or map value; `null` stands for the element type's zero value. */
  private element(f: FieldInfo, depth: number): unknown {
    if (f.scalar === ScalarType.BYTES) return this.raw();
    const isNull = isNullAt(this.b, this.pos, this.end);
    if (isNull) this.pos += 4;
    if (f.message !== undefined) return isNull ? newMessage(f.message) : this.message(f.message, depth + 1);
    return isNull ? zeroOf(f.scalar as ScalarType) : this.scalar(f.scalar as ScalarType);
  }

  private scalar(scalar: ScalarType): unknown {
    switch (scalar) {
      case ScalarType.STRING:
        return this.string();
      case ScalarType.BOOL:
        return this.bool();
      case ScalarType.DOUBLE:
        return this.double();
      default:
        return this.integer(scalar);
    }
  }

  /** The exact bytes of any JSON value, copied so they do not pin the frame. */
  private raw(): Uint8Array {
    const start = this.pos;
    const end = scanValue(this.b, start, this.end);
    if (end < 0) this.fail("invalid JSON value");
    this.pos = end;
    return this.b.slice(start, end);
  }

  private skip(): void {
    const end = scanValue(this.b, this.pos, this.end);
    if (end < 0) this.fail("invalid JSON value");
    this.pos = end;
  }

  private bool(): boolean {
    let end = scanLiteral(this.b, this.pos, this.end, TRUE);
    const value = end > 0;
    if (!value) end = scanLiteral(this.b, this.pos, this.end, FALSE);
    if (end < 0) this.fail("expected a boolean");
    this.pos = end;
    return value;
  }

  /** A JSON number of a double field. */
  private double(): number {
    const start = this.pos;
    const end = scanNumber(this.b, start, this.end);
    if (end < 0) this.fail("expected a number");
    this.pos = end;
    return Number(String.fromCharCode(...this.b.subarray(start, end)));
  }

  /**
   * An integer literal of the field's type: no fraction or exponent, no sign for unsigned types, within the
   * type's range (as Go requires). Values beyond 2^53 lose precision, like every JS number.
   */
  private integer(scalar: ScalarType): number {
    const b = this.b;
    const start = this.pos;
    const end = scanNumber(b, start, this.end);
    if (end < 0) this.fail("expected a number");
    const limits = INT_RANGES[scalar] as IntRange;
    const negative = b[start] === MINUS;
    if (negative && limits.min === 0n) this.fail("expected an unsigned integer");
    let value = 0;
    for (let i = negative ? start + 1 : start; i < end; i++) {
      const d = (b[i] as number) - 0x30;
      if (d < 0 || d > 9) this.fail("expected an integer");
      value = value * 10 + d;
    }
    if (negative) value = -value || 0;
    if (!Number.isSafeInteger(value) || value < limits.minNumber || value > limits.maxNumber) {
      if (end - start > MAX_INTEGER_LITERAL) this.fail("integer out of range");
      const exact = BigInt(decodeUtf8(b, start, end));
      if (exact < limits.min || exact > limits.max) this.fail("integer out of range");
    }
    this.pos = end;
    return value;
  }

  /** A JSON string, unescaped. */
  private string(): string {
    const b = this.b;
    const start = this.pos;
    if (b[start] !== QUOTE) this.fail("expected a string");
    let i = start + 1;
    while (i < this.end && b[i] !== QUOTE && b[i] !== BACKSLASH && (b[i] as number) >= 0x20) i++;
    if (b[i] === QUOTE) {
      this.pos = i + 1;
      return decodeUtf8(b, start + 1, i);
    }
    return this.escapedString(start);
  }

  private escapedString(start: number): string {
    const b = this.b;
    const end = scanString(b, start, this.end);
    if (end < 0) this.fail("invalid string");
    let s = "";
    let from = start + 1;
    for (let i = from; i < end - 1; i++) {
      if (b[i] !== BACKSLASH) continue;
      s += decodeUtf8(b, from, i);
      const [text, last] = decodeEscape(b, i + 1);
      s += text;
      i = last;
      from = last + 1;
    }
    this.pos = end;
    return s + decodeUtf8(b, from, end - 1);
  }
}

const SIMPLE_ESCAPES: Record<number, string> = {
  [QUOTE]: '"',
  [BACKSLASH]: "\\",
  47: "/",
  98: "\b",
  102: "\f",
  110: "\n",
  114: "\r",
  116: "\t",
};

/**
 * Decode the escape whose letter is at `pos` (already validated by scanString); returns the text and the
 * position of the escape's last byte. A `\u` surrogate pair becomes one character; a lone surrogate becomes
 * U+FFFD, as Go decodes it.
 */
function decodeEscape(b: Uint8Array, pos: number): [string, number] {
  const simple = SIMPLE_ESCAPES[b[pos] as number];
  if (simple !== undefined) return [simple, pos];
  const unit = hex4(b, pos + 1);
  if (unit < 0xd800 || unit > 0xdfff) return [String.fromCharCode(unit), pos + 4];
  if (unit <= 0xdbff && b[pos + 5] === BACKSLASH && b[pos + 6] === 0x75) {
    const low = hex4(b, pos + 7);
    if (low >= 0xdc00 && low <= 0xdfff) return [String.fromCharCode(unit, low), pos + 10];
  }
  return ["\ufffd", pos + 4];
}

function hex4(b: Uint8Array, pos: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const h = hexValue(b[pos + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

function zeroOf(scalar: ScalarType): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}
