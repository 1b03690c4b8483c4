/**
 * The OpenAPI 3 document of the HTTP API (`swagger.enabled`), generated from the method table so that it cannot
 * drift from what the server serves: one `POST /<method>` path per API method, under the `http_api` prefix as
 * the server URL (upstream's Swagger 2 document has `basePath: /api`, centrifugo
 * internal/apiproto/swagger/api.swagger.json), with the summary and tag of each method and schemas derived from
 * its request and response messages as the JSON edge reads and writes them: proto field names, 64-bit
 * integers as numbers, `bytes` fields as embedded JSON (upstream describes those as objects), maps as objects.
 * Authorization is the API key in `X-API-Key` or in `Authorization: apikey <KEY>`.
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { API_METHODS } from "./methods.js";

/** A JSON Schema object as OpenAPI 3.0 takes it. */
export type Schema = Record<string, unknown>;

export interface OpenApiOptions {
  /** `http_api.handler_prefix`: the server URL the paths are relative to. */
  prefix: string;
  /** `http_api.insecure`: no API key is asked for. */
  insecure: boolean;
  /** The server's version, the document's `info.version`. */
  version: string;
}

/** The tags of upstream's document, in its order; a method's tag must be one of them. */
const TAGS = [
  "publication",
  "connection management",
  "history",
  "presence",
  "stats",
  "user status",
  "user block",
  "token",
  "push notification",
  "batch",
  "rpc",
  "map",
  "shared poll",
];

/** What the API answers besides 200, as upstream's document lists them. */
const ERROR_RESPONSES = {
  "400": { description: "Returned in case of invalid request." },
  "401": { description: "Returned in case of missing auth." },
  "500": { description: "Returned in case of internal server error." },
};

const SECURITY_SCHEMES = {
  ApiKeyAuth: { type: "apiKey", in: "header", name: "X-API-Key" },
  AuthorizationApiKey: {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: "The API key after the `apikey` scheme: `Authorization: apikey <KEY>`.",
  },
};

/** The document: an object ready for `JSON.stringify`. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const schemas = new SchemaSet();
  const paths: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    if (!TAGS.includes(method.tag)) throw new Error(`API method ${method.name}: unknown tag ${method.tag}`);
    paths[`/${method.name}`] = {
      post: {
        summary: method.summary,
        operationId: `CentrifugoApi_${method.grpc}`,
        tags: [method.tag],
        requestBody: { required: true, content: jsonContent(schemas.ref(method.request)) },
        responses: {
          "200": {
            description: "A successful response.",
            content: jsonContent(schemas.ref(method.response)),
          },
          ...ERROR_RESPONSES,
        },
      },
    };
  }
  const prefix = options.prefix.replace(/\/+$/, "");
  return {
    openapi: "3.0.3",
    info: { title: "Centrifugo server HTTP API (Turbine)", version: options.version },
    externalDocs: {
      description: "More about Centrifugo HTTP API",
      url: "https://centrifugal.dev/docs/server/server_api",
    },
    servers: [{ url: prefix === "" ? "/" : prefix }],
    tags: TAGS.map((name) => ({ name })),
    security: options.insecure ? [] : Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] })),
    paths,
    components: { schemas: schemas.all, securitySchemes: SECURITY_SCHEMES },
  };
}

function jsonContent(schema: Schema): Record<string, unknown> {
  return { "application/json": { schema } };
}

/** The schemas of the messages met so far, by short name; each message is described once. */
class SchemaSet {
  readonly all: Record<string, Schema> = {};
  private readonly names = new Map<string, string>();

  /** A `$ref` to the message's schema, adding it (and those it refers to) first. */
  ref(desc: DescMessage): Schema {
    const name = desc.name;
    const known = this.names.get(name);
    if (known !== undefined && known !== desc.typeName) {
      throw new Error(`two API messages named ${name}: ${known} and ${desc.typeName}`);
    }
    if (known === undefined) {
      this.names.set(name, desc.typeName);
      const properties: Record<string, Schema> = {};
      for (const field of desc.fields) properties[field.name] = this.field(field);
      this.all[name] = { type: "object", properties };
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private field(field: DescField): Schema {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return { type: "integer", format: "int32" };
      case "message":
        return this.ref(field.message);
      case "list":
        return { type: "array", items: this.value(field.listKind, field) };
      case "map":
        return { type: "object", additionalProperties: this.value(field.mapKind, field) };
    }
  }

  /** A list element or map value. */
  private value(kind: "scalar" | "enum" | "message", field: DescField): Schema {
    if (kind === "message" && field.message !== undefined) return this.ref(field.message);
    if (kind === "scalar" && field.scalar !== undefined) return scalarSchema(field.scalar);
    return { type: "integer", format: "int32" };
  }
}

function scalarSchema(scalar: ScalarType): Schema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "object", description: "Any JSON value, embedded as is." };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    default:
      return { type: "integer", format: "int64" };
  }
}
