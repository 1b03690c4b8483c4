/**
 * `configdoc`: documentation of every config key, built from the schema as Centrifugo builds it from its config
 * structs (centrifugo internal/cli/configdoc.go): per key its path, type, default, env var and description.
 * `--markdown` prints Markdown; otherwise an HTML page is served on `--port` (6060) of every interface.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { schema } from "../config/index.js";
import type { AnySpec, ObjectSpec } from "../config/spec.js";
import { envName } from "../config/walk.js";
import { version } from "../version.js";
import { fail } from "./output.js";

/** Options of `configdoc`. */
export interface ConfigDocOptions {
  markdown: boolean;
  /** Only keys whose path starts with this. */
  section: string;
  port: number;
  /** Added to every heading level. */
  baseLevel: number;
}

/** One documented key and, for sections and lists of objects, the keys under it. */
interface FieldDoc {
  /** Dotted path; items of a list are `list[].key`. */
  field: string;
  /** Heading level: 1 for top-level keys. */
  level: number;
  type: string;
  /** Default as text; "" when there is none worth showing. */
  default: string;
  comment: string;
  /** A section or a list of objects. */
  complex: boolean;
  env: string;
  children: FieldDoc[];
}

/** `http_server` → `HttpServer`: a type name for a section, in the spirit of upstream's Go struct names. */
function typeName(key: string): string {
  return key.replace(/(?:^|_)([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function typeOf(key: string, spec: AnySpec): string {
  switch (spec.kind) {
    case "duration":
      return "Duration";
    case "number":
      return "float64";
    case "strings":
      return "[]string";
    case "map":
      return "MapStringString";
    case "object":
      return typeName(key);
    case "list":
      return `[]${typeName(key)}`;
    default:
      return spec.kind;
  }
}

function defaultOf(spec: AnySpec): string {
  switch (spec.kind) {
    case "list":
      return "[]";
    case "map":
      return "{}";
    case "strings":
      return spec.def.length === 0 ? "" : spec.def.join(",");
    case "duration":
    case "bool":
    case "int":
    case "number":
    case "string":
      return String(spec.def);
    default:
      return "";
  }
}

/**
 * The env var of a key: `CENTRIFUGO_<PATH>` for keys outside lists (sections have none, lists of objects do),
 * `CENTRIFUGO_<LIST>_<NAME>_<KEY>` for keys of named list items.
 */
function envOf(field: string, spec: AnySpec, namedList: string | undefined): string {
  if (spec.kind === "object") return "";
  if (namedList === undefined) return field.includes("[]") ? "" : envName(field);
  const rest = field.slice(namedList.length + "[].".length);
  if (rest === "name" || rest.includes("[]")) return "";
  return `${envName(namedList)}_<NAME>_${envName(rest, "").slice(1)}`;
}

function documentObject(spec: ObjectSpec, parent: string, level: number, namedList?: string): FieldDoc[] {
  return Object.entries(spec.fields).map(([key, field]) => {
    const path = parent === "" ? key : `${parent}.${key}`;
    const children =
      field.kind === "object"
        ? documentObject(field, path, level + 1, namedList)
        : field.kind === "list"
          ? documentObject(field.item, `${path}[]`, level + 1, field.named ? path : undefined)
          : [];
    return {
      field: path,
      level,
      type: typeOf(key, field),
      default: defaultOf(field),
      comment: field.doc,
      complex: field.kind === "object" || field.kind === "list",
      env: envOf(path, field, namedList),
      children,
    };
  });
}

/** The documented keys of `section` ("" = all), keeping the tree. */
function docsOf(section: string): FieldDoc[] {
  const keep = (docs: FieldDoc[]): FieldDoc[] =>
    docs
      .filter((doc) => doc.field.startsWith(section))
      .map((doc) => ({ ...doc, children: keep(doc.children) }));
  return keep(documentObject(schema, "", 1));
}

/** Flattens the tree in document order. */
function flatten(docs: FieldDoc[]): FieldDoc[] {
  return docs.flatMap((doc) => [doc, ...flatten(doc.children)]);
}

function typeLine(doc: FieldDoc): string {
  const type = `Type: \`${doc.type}\`${doc.complex ? " object" : ""}`;
  return doc.default === "" ? type : `${type}. Default: \`${doc.default}\``;
}

/** Markdown as upstream's `convertDocsToMarkdown` lays it out. */
export function configMarkdown(section: string, baseLevel: number): string {
  return flatten(docsOf(section))
    .map((doc) => {
      const heading = "#".repeat(Math.min(doc.level + baseLevel, 6));
      const env = doc.env === "" ? "" : `\n\nEnv: \`${doc.env}\``;
      return `${heading} \`${doc.field}\`\n\n${typeLine(doc)}${env}\n\n${doc.comment || "No documentation available."}\n\n`;
    })
    .join("");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escaped text with `code` spans, the only markup the docs use. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** One self-contained page with the same content as the Markdown. */
export function configHtml(section: string): string {
  const body = flatten(docsOf(section))
    .map((doc) => {
      const h = Math.min(doc.level + 1, 6);
      const env = doc.env === "" ? "" : `<p>Env: <code>${escapeHtml(doc.env)}</code></p>`;
      const comment = inline(doc.comment || "No documentation available.");
      return `<h${h} id="${escapeHtml(doc.field)}"><code>${escapeHtml(doc.field)}</code></h${h}>\n<p>${inline(typeLine(doc))}</p>${env}\n<p>${comment}</p>`;
    })
    .join("\n");
  const title = `Turbine ${escapeHtml(version)} configuration options`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
code { background: #f3f4f6; padding: 0.1rem 0.3rem; border-radius: 0.2rem; }
h1 code, h2 code, h3 code, h4 code, h5 code, h6 code { background: none; padding: 0; }
</style>
</head>
<body>
<h1>${title}</h1>
${body}
</body>
</html>
`;
}

/** Prints Markdown, or serves the HTML page until the process is stopped. */
export function configdoc(options: ConfigDocOptions): void {
  if (options.markdown) {
    // Upstream prints with Println, so the output ends with an extra newline.
    process.stdout.write(`${configMarkdown(options.section, options.baseLevel)}\n`);
    return;
  }
  const page = configHtml(options.section);
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page);
  });
  server.on("error", (err) => fail(`Failed to start server: ${err.message}`));
  server.listen(options.port, () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`configuration documentation on http://localhost:${port}\n`);
  });
}
