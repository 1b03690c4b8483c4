/**
 * Post-processes protoc-gen-es output so that `[jstype = JS_NUMBER]` fields are typed `number` (protobuf-es v2
 * only knows `bigint` and `string`), and makes the generated module install matching zero values (see
 * `jsnumber.ts`). Run by `npm run gen:proto` after `buf generate`:
 *
 *   tsx src/protocol/gen-jsnumber.ts src/protocol/gen/client_pb.ts
 *
 * It fails if any `bigint` survives, so a 64-bit field added without the option is caught at generation time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** protoc-gen-es puts the field's declaration in the JSDoc right above the property. */
const JS_NUMBER_FIELD = /(\[jstype = JS_NUMBER\];\n\s*\*\/\n\s*\w+\??: )bigint;/g;
/** A property still typed with bigint (alone, in a list or as a map value). */
const BIGINT_PROPERTY = /^\s+\w+\??: .*\bbigint\b/m;
const FILE_DESC = /^export const (file_\w+): GenFile\b/m;
const RUNTIME = resolve(dirname(fileURLToPath(import.meta.url)), "jsnumber.js");

/** Rewrite one generated module's source; `path` locates it so that the runtime import is relative. */
function rewrite(source: string, path: string): string {
  const typed = source.replace(JS_NUMBER_FIELD, "$1number;");
  if (BIGINT_PROPERTY.test(typed)) throw new Error(`${path}: a 64-bit field lacks [jstype = JS_NUMBER]`);
  const fileDesc = FILE_DESC.exec(typed)?.[1];
  if (fileDesc === undefined) throw new Error(`${path}: no file descriptor export found`);
  let from = relative(dirname(resolve(path)), RUNTIME);
  if (!from.startsWith(".")) from = `./${from}`;
  const lastImport = typed.lastIndexOf("\nimport ");
  const afterImports = typed.indexOf("\n", lastImport + 1) + 1;
  return (
    `${typed.slice(0, afterImports)}import { useNumberZeros } from "${from}";\n${typed.slice(afterImports)}` +
    `\n// Added by gen-jsnumber.ts: zero values of JS_NUMBER fields are numbers.\nuseNumberZeros(${fileDesc});\n`
  );
}

for (const path of process.argv.slice(2)) {
  writeFileSync(path, rewrite(readFileSync(path, "utf8"), path));
}
