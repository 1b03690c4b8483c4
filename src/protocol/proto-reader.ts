/**
 * Protobuf decoding of protocol messages into protobuf-es message objects, with 64-bit integers as JS numbers.
 * Malformed input (truncated values, bad lengths, wire types that do not match a known field, over-long
 * varints) raises ProtocolDecodeError; unknown fields are skipped. Strings are decoded leniently (invalid UTF-8
 * becomes U+FFFD) because Centrifugo does not validate them either.
 */
import { type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { ProtocolDecodeError } from "./errors.js";
import { newMessage } from "./messages.js";
import { type FieldInfo, fieldsOf, fieldWireType, Shape, valueWireType, WireType } from "./schema.js";
import { decodeUtf8 } from "./utf8.js";

/** Nested messages (FilterNode trees) deeper than this are rejected instead of recursing further. */
const MAX_MESSAGE_DEPTH = 100;

const TWO_32 = 0x100000000;

type Fields = Record<string, unknown>;

const plans = new WeakMap<DescMessage, readonly (FieldInfo | undefined)[]>();

/** Fields indexed by number. */
function planOf(desc: DescMessage): readonly (FieldInfo | undefined)[] {
  let plan = plans.get(desc);
  if (plan === undefined) {
    const byNumber: (FieldInfo | undefined)[] = [];
    for (const f of fieldsOf(desc)) byNumber[f.number] = f;
    plan = byNumber;
    plans.set(desc, plan);
  }
  return plan;
}

/** Reads varints and length-delimited values from `b`, never past `end`. */
export class ProtoReader {
  pos = 0;
  end: number;
  /** Low and high 32 bits of the last varint read. */
  private lo = 0;
  private hi = 0;

  constructor(private readonly b: Uint8Array) {
    this.end = b.length;
  }

  fail(reason: string): never {
    throw new ProtocolDecodeError(`malformed Protobuf at byte ${this.pos}: ${reason}`);
  }

  /** Read a varint into `lo`/`hi`. */
  private varint(): void {
    const b = this.b;
    const first = b[this.pos] as number;
    if (this.pos < this.end && first < 0x80) {
      this.pos++;
      this.lo = first;
      this.hi = 0;
      return;
    }
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const byte = b[this.pos++] as number;
      if (i < 4) lo |= (byte & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (byte & 0x0f) << 28;
        hi = (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (7 * i - 32);
      if (byte < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A length prefix: the number of bytes that follow, which must all be there. */
  length(): number {
    this.varint();
    if (this.hi !== 0 || this.lo > this.end - this.pos) this.fail("length exceeds the data");
    return this.lo;
  }

  /** Read one message of type `desc` that spans `length` bytes from here. */
  message(desc: DescMessage, length: number, depth: number): Message {
    if (depth > MAX_MESSAGE_DEPTH) this.fail("messages nested too deeply");
    const outerEnd = this.end;
    this.end = this.pos + length;
    const msg = newMessage(desc);
    const values = msg as unknown as Fields;
    const fields = planOf(desc);
    while (this.pos < this.end) {
      const key = this.key();
      const f = fields[key >>> 3];
      if (f === undefined) this.skip(key & 7);
      else this.field(f, key & 7, values, depth);
    }
    this.end = outerEnd;
    return msg;
  }

  /** A field key: number << 3 | wire type. */
  private key(): number {
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) this.fail("invalid field number");
    return this.lo;
  }

  private field(f: FieldInfo, wireType: number, msg: Fields, depth: number): void {
    if (wireType !== fieldWireType(f)) this.fail(`wrong wire type for field ${f.name}`);
    switch (f.shape) {
      case Shape.Scalar:
        msg[f.localName] = this.scalar(f.scalar as ScalarType);
        return;
      case Shape.Message:
        msg[f.localName] = this.message(f.message as DescMessage, this.length(), depth + 1);
        return;
      case Shape.List:
        (msg[f.localName] as unknown[]).push(this.value(f, depth));
        return;
      default:
        this.mapEntry(f, msg[f.localName] as Fields, depth);
    }
  }

  /** A list element or map value. */
  private value(f: FieldInfo, depth: number): unknown {
    if (f.message !== undefined) return this.message(f.message, this.length(), depth + 1);
    return this.scalar(f.scalar as ScalarType);
  }

  private mapEntry(f: FieldInfo, map: Fields, depth: number): void {
    const length = this.length();
    const outerEnd = this.end;
    this.end = this.pos + length;
    let key = "";
    let value: unknown;
    while (this.pos < this.end) {
      const tag = this.key();
      if (tag === ((1 << 3) | WireType.LengthDelimited)) key = this.scalar(ScalarType.STRING) as string;
      else if (tag === ((2 << 3) | valueWireType(f))) value = this.value(f, depth);
      else this.skip(tag & 7);
    }
    this.end = outerEnd;
    value ??= f.message === undefined ? zeroOf(f.scalar as ScalarType) : newMessage(f.message);
    // A plain assignment to "__proto__" would replace the prototype instead of adding an entry.
    if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true });
    else map[key] = value;
  }

  private scalar(scalar: ScalarType): unknown {
    if (scalar === ScalarType.STRING || scalar === ScalarType.BYTES) {
      const length = this.length();
      const start = this.pos;
      this.pos += length;
      return scalar === ScalarType.STRING
        ? decodeUtf8(this.b, start, this.pos)
        : this.b.slice(start, this.pos);
    }
    if (scalar === ScalarType.DOUBLE) {
      const start = this.pos;
      this.advance(8);
      return new DataView(this.b.buffer, this.b.byteOffset).getFloat64(start, true);
    }
    this.varint();
    switch (scalar) {
      case ScalarType.BOOL:
        return this.lo !== 0 || this.hi !== 0;
      case ScalarType.UINT32:
        return this.lo;
      case ScalarType.INT32:
        return this.lo | 0;
      case ScalarType.UINT64:
        return this.hi * TWO_32 + this.lo;
      case ScalarType.SINT64: {
        const magnitude = (this.hi >>> 1) * TWO_32 + (((this.lo >>> 1) | (this.hi << 31)) >>> 0);
        return this.lo & 1 ? -magnitude - 1 : magnitude;
      }
      default:
        return this.int64();
    }
  }

  /** The last varint as a two's-complement int64. */
  private int64(): number {
    if (this.hi < 0x80000000) return this.hi * TWO_32 + this.lo;
    const lo = (~this.lo + 1) >>> 0;
    const hi = (~this.hi + (lo === 0 ? 1 : 0)) >>> 0;
    return -(hi * TWO_32 + lo);
  }

  private skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.advance(this.length());
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail("truncated value");
    this.pos += n;
  }
}

function zeroOf(scalar: ScalarType): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}
