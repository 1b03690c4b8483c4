/**
 * The codecs walk message descriptors rather than carrying code per message: one set of rules covers every
 * message in client.proto. Each message's fields are classified once and cached, so encoding and decoding loop
 * over a short array instead of consulting protobuf-es reflection. (The few messages on the fan-out path also
 * have hand-written writers; see json-writer.ts and proto-writer.ts.)
 */
import { type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";

/** How a field holds its value. */
export const Shape = { Scalar: 0, Message: 1, List: 2, Map: 3 } as const;
export type Shape = (typeof Shape)[keyof typeof Shape];

/** One field as the codecs see it. */
export interface FieldInfo {
  /** Proto name: the JSON key. */
  readonly name: string;
  /** Property name on the generated TypeScript object. */
  readonly localName: string;
  readonly number: number;
  readonly shape: Shape;
  /** Type of the value (the element for lists, the value for maps) unless it is a message. */
  readonly scalar: ScalarType | undefined;
  /** Message type of the value (the element for lists, the value for maps), if any. */
  readonly message: DescMessage | undefined;
}

/** Protobuf wire types the codecs meet (groups are not supported). */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/** Wire type of one value of the field: the field itself, a list element or a map value. */
export function valueWireType(f: FieldInfo): number {
  if (f.scalar === ScalarType.DOUBLE) return WireType.Fixed64;
  return f.message === undefined && f.scalar !== ScalarType.STRING && f.scalar !== ScalarType.BYTES
    ? WireType.Varint
    : WireType.LengthDelimited;
}

/** Wire type of the field's key: map entries are length-delimited messages. */
export function fieldWireType(f: FieldInfo): number {
  return f.shape === Shape.Map ? WireType.LengthDelimited : valueWireType(f);
}

/**
 * Scalars client.proto and api.proto use (double: the `info` metrics); anything else is rejected when a message
 * is first classified.
 */
const SUPPORTED: ReadonlySet<ScalarType> = new Set([
  ScalarType.STRING,
  ScalarType.BYTES,
  ScalarType.BOOL,
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.DOUBLE,
]);

const cache = new WeakMap<DescMessage, readonly FieldInfo[]>();

/** The fields of `desc` in field-number order (the order upstream emits them in both encodings). */
export function fieldsOf(desc: DescMessage): readonly FieldInfo[] {
  let fields = cache.get(desc);
  if (fields === undefined) {
    fields = desc.fields.map(classify).sort((a, b) => a.number - b.number);
    cache.set(desc, fields);
  }
  return fields;
}

/** Property names of a generated message type. */
export type FieldName<T extends Message> = keyof Omit<T, "$typeName" | "$unknown">;

/**
 * Something pre-computed per field (a JSON key, a Protobuf tag), by property name, for the hand-written
 * writers: their constants come from the descriptor rather than being typed in by hand.
 */
export function byField<T extends Message, V>(
  desc: GenMessage<T>,
  value: (f: FieldInfo) => V,
): Readonly<Record<FieldName<T>, V>> {
  return Object.fromEntries(fieldsOf(desc).map((f) => [f.localName, value(f)])) as Record<FieldName<T>, V>;
}

function classify(field: DescField): FieldInfo {
  const base = { name: field.name, localName: field.localName, number: field.number };
  switch (field.fieldKind) {
    case "scalar":
      return { ...base, shape: Shape.Scalar, scalar: supported(field, field.scalar), message: undefined };
    case "message":
      return { ...base, shape: Shape.Message, scalar: undefined, message: field.message };
    case "list":
      if (field.listKind === "message")
        return { ...base, shape: Shape.List, scalar: undefined, message: field.message };
      if (
        field.listKind === "scalar" &&
        (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES)
      ) {
        return { ...base, shape: Shape.List, scalar: field.scalar, message: undefined };
      }
      break;
    case "map":
      if (field.mapKey !== ScalarType.STRING) break;
      if (field.mapKind === "message")
        return { ...base, shape: Shape.Map, scalar: undefined, message: field.message };
      if (field.mapKind === "scalar") {
        return { ...base, shape: Shape.Map, scalar: supported(field, field.scalar), message: undefined };
      }
      break;
  }
  return unsupported(field);
}

function supported(field: DescField, scalar: ScalarType): ScalarType {
  return SUPPORTED.has(scalar) ? scalar : unsupported(field);
}

function unsupported(field: DescField): never {
  throw new Error(`client protocol codecs do not support the type of ${field.toString()}`);
}
