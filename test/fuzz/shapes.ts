/**
 * Structure-aware inputs: JSON text shaped like a protocol message (its proto names as keys, values of the
 * right type, often of a wrong one), so that random runs get past "expected an object" into every field's
 * decoder. Shared by the client command and server API targets.
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

/** Number literals around the edges the decoders check: int32/uint32/int64/uint64 limits, fractions, huge. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    "0",
    "-0",
    "-1",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    "1.5",
    "1E+2",
    "01",
    "-",
    "9".repeat(40),
  ),
);

const stringText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"\\ud800"', '"\\u0000"', '"\\uDBFF\\uDFFF"', '"a\\"b"', '"\\x"', '"*"', '"chat:*"', '""'),
);

/** Any JSON value as text, small. */
export const anyJsonText: fc.Arbitrary<string> = fc.json({ maxDepth: 2 });

function scalarText(scalar: ScalarType): fc.Arbitrary<string> {
  switch (scalar) {
    case ScalarType.STRING:
      return stringText;
    case ScalarType.BOOL:
      return fc.constantFrom("true", "false");
    case ScalarType.BYTES:
      return anyJsonText;
    default:
      return numberText;
  }
}

const memo = new Map<string, fc.Arbitrary<string>>();

/** JSON text of an object shaped like `desc`: up to 5 members (keys may repeat), nested `depth` deep. */
export function shapedJson(desc: DescMessage, depth = 3): fc.Arbitrary<string> {
  const id = `${desc.typeName}/${depth}`;
  let arbitrary = memo.get(id);
  if (arbitrary === undefined) {
    const members = desc.fields.map((field) => member(field, depth));
    const anyMember = fc.tuple(stringText, anyJsonText).map(([key, value]) => `${key}:${value}`);
    const entry =
      members.length === 0 ? anyMember : fc.oneof({ weight: 6, arbitrary: fc.oneof(...members) }, anyMember);
    arbitrary = fc.array(entry, { maxLength: 5 }).map((entries) => `{${entries.join(",")}}`);
    memo.set(id, arbitrary);
  }
  return arbitrary;
}

/** `"key":value` for `field`: its proto name, sometimes in another case (Go matches keys without case). */
function member(field: DescField, depth: number): fc.Arbitrary<string> {
  const key = fc
    .constantFrom(field.name, field.name.toUpperCase(), field.jsonName)
    .map((k) => JSON.stringify(k));
  const value = fc.oneof({ weight: 5, arbitrary: valueText(field, depth) }, anyJsonText, fc.constant("null"));
  return fc.tuple(key, value).map(([k, v]) => `${k}:${v}`);
}

function valueText(field: DescField, depth: number): fc.Arbitrary<string> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarText(field.scalar);
    case "enum":
      return numberText;
    case "message":
      return nested(field.message, depth);
    case "list": {
      const element =
        field.listKind === "message"
          ? nested(field.message, depth)
          : field.listKind === "enum"
            ? numberText
            : scalarText(field.scalar);
      return fc.array(element, { maxLength: 3 }).map((items) => `[${items.join(",")}]`);
    }
    case "map": {
      const value =
        field.mapKind === "message"
          ? nested(field.message, depth)
          : field.mapKind === "enum"
            ? numberText
            : scalarText(field.scalar);
      return fc
        .array(fc.tuple(stringText, value), { maxLength: 3 })
        .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`);
    }
  }
}

function nested(desc: DescMessage, depth: number): fc.Arbitrary<string> {
  return depth <= 0 ? fc.constantFrom("{}", "null") : shapedJson(desc, depth - 1);
}
