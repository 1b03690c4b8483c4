/**
 * protobuf-es v2 ignores `[jstype = JS_NUMBER]` and represents every 64-bit integer as `bigint`. Turbine's
 * engines and core use JS numbers for offsets and times (exact up to 2^53), so `npm run gen:proto` rewrites
 * the generated field types to `number` (see `gen-jsnumber.ts`) and the generated module calls
 * {@link useNumberZeros} so that `create()` fills those fields with `0` instead of `0n`.
 *
 * Only `create()` consults these defaults. protobuf-es's own `fromBinary`/`fromJson` would still produce
 * `bigint`s for such fields, which is why the client protocol is decoded by this folder's codecs instead.
 */
import type { DescField, DescFile } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";

/** `google.protobuf.FieldOptions.JSType.JS_NUMBER`. */
const JS_NUMBER = 2;

const INT64_SCALARS: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** True for a singular 64-bit integer field annotated `[jstype = JS_NUMBER]`. */
export function isJsNumberField(field: DescField): boolean {
  return (
    field.fieldKind === "scalar" &&
    INT64_SCALARS.has(field.scalar) &&
    field.proto.options?.jstype === JS_NUMBER
  );
}

/**
 * Make `create()` use `0` as the zero value of every JS_NUMBER field in `file`. Must run before the first
 * `create()` of those messages, because protobuf-es compiles and caches each message's constructor on first use;
 * the generated module calls it right after defining its descriptors.
 */
export function useNumberZeros(file: DescFile): void {
  for (const type of nestedTypes(file)) {
    if (type.kind !== "message") continue;
    for (const field of type.fields) {
      if (isJsNumberField(field)) Object.defineProperty(field, "getDefaultValue", { value: zero });
    }
  }
}

function zero(): number {
  return 0;
}
