/**
 * The contract's JSON Schemas turned into a small, language-neutral type model that the TypeScript, Python
 * and Go generators print: named objects, string enums and unions, and references to them. Nested anonymous
 * objects get names from where they sit (TasksListParamsFilter); schemas with a zod `meta({ id })` keep theirs.
 * What has no faithful rendering in all three languages (tuples, intersections, non-string enums) is refused
 * with the method and path, rather than weakened to "any".
 */
import type { JsonSchema, RpcContract } from "./contract.js";

/** A type used by a field, a list, a method. */
export type TypeRef =
  | { kind: "string" | "integer" | "number" | "boolean" | "null" }
  /** Any JSON value (a schema without constraints, e.g. z.unknown()). */
  | { kind: "json" }
  | { kind: "literal"; value: string | number | boolean }
  | { kind: "array"; items: TypeRef }
  | { kind: "map"; values: TypeRef }
  | { kind: "nullable"; inner: TypeRef }
  | { kind: "ref"; name: string };

export interface Field {
  /** The JSON property name. */
  name: string;
  type: TypeRef;
  required: boolean;
  description?: string;
}

/** A type the generators declare by name. */
export type NamedType =
  | { kind: "object"; name: string; description?: string; fields: Field[] }
  | { kind: "enum"; name: string; description?: string; values: string[] }
  /**
   * One of several types. With `discriminator`, every variant is an object whose required string property of
   * that name has a distinct constant value (`tags` lists them in variant order).
   */
  | {
      kind: "union";
      name: string;
      description?: string;
      variants: TypeRef[];
      discriminator?: { property: string; tags: string[] };
    };

export interface MethodModel {
  /** The RPC method name, e.g. "tasks.get_stats". */
  name: string;
  description?: string;
  params: TypeRef;
  result: TypeRef;
}

export interface ApiModel {
  hash: string;
  /** In order of first use, each name once. */
  types: NamedType[];
  methods: MethodModel[];
}

/** "tasks.get_stats" → ["tasks", "get", "stats"] */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== "")
    .map((word) => word.toLowerCase());
}

/** "tasks.get_stats" → "TasksGetStats" */
export function pascal(name: string): string {
  return words(name)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join("");
}

/** Build the model of a contract; throws naming the method and path of anything unsupported. */
export function buildModel(contract: RpcContract): ApiModel {
  const builder = new ModelBuilder();
  const methods = contract.methods.map((method): MethodModel => {
    const base = pascal(method.name);
    return {
      name: method.name,
      description: method.description,
      params: builder.root(method.params, `${base}Params`, `${method.name} params`),
      result: builder.root(method.result, `${base}Result`, `${method.name} result`),
    };
  });
  return { hash: contract.hash, types: builder.types(), methods };
}

class ModelBuilder {
  private readonly named = new Map<string, { type: NamedType; source: string }>();
  /** Unnamed object and enum schemas already declared, by their structure: one type for a schema used twice. */
  private readonly structural = new Map<string, TypeRef>();
  private defs: Record<string, JsonSchema> = {};
  private where = "";

  types(): NamedType[] {
    return [...this.named.values()].map((entry) => entry.type);
  }

  root(schema: JsonSchema, name: string, where: string): TypeRef {
    this.defs = (schema.$defs as Record<string, JsonSchema> | undefined) ?? {};
    this.where = where;
    return this.ref(schema, name, "");
  }

  private fail(path: string, why: string): never {
    throw new Error(`${this.where}${path === "" ? "" : ` at ${path}`}: ${why}`);
  }

  /** The type of `schema`; `name` is what a new named type here is called. */
  private ref(schema: JsonSchema, name: string, path: string): TypeRef {
    if (typeof schema.$ref === "string") return this.refTo(schema.$ref, path);
    const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (variants !== undefined) return this.union(variants, schema, name, path);
    if (schema.allOf !== undefined) this.fail(path, "intersections (allOf) are not supported");
    if (schema.const !== undefined) return this.literal(schema.const, path);
    if (Array.isArray(schema.enum)) return this.enumeration(schema, name, path);
    const type = schema.type;
    if (Array.isArray(type)) {
      const parts = type.map((t) => ({ ...schema, type: t as string }));
      return this.union(parts, { description: schema.description }, name, path);
    }
    switch (type) {
      case undefined:
        return { kind: "json" };
      case "string":
      case "integer":
      case "number":
      case "boolean":
      case "null":
        return { kind: type };
      case "array":
        if (schema.prefixItems !== undefined) this.fail(path, "tuples are not supported");
        return {
          kind: "array",
          items:
            schema.items === undefined
              ? { kind: "json" }
              : this.ref(schema.items as JsonSchema, `${name}Item`, `${path}[]`),
        };
      case "object":
        return this.object(schema, name, path);
      default:
        return this.fail(path, `unsupported type ${JSON.stringify(type)}`);
    }
  }

  private refTo(ref: string, path: string): TypeRef {
    const prefix = "#/$defs/";
    if (!ref.startsWith(prefix)) this.fail(path, `unsupported $ref ${ref}`);
    const id = ref.slice(prefix.length);
    const def = this.defs[id];
    if (def === undefined) this.fail(path, `$ref to a missing definition ${id}`);
    const name = pascal(id);
    const source = JSON.stringify(def);
    const known = this.named.get(name);
    if (known !== undefined) {
      // The same id may arrive from several methods, each with its own $defs: they must agree.
      const settled = known.source !== "";
      if (settled && known.source !== source && !sameIgnoringClosedness(known.source, source)) {
        this.fail(path, `two different schemas are both named ${id}`);
      }
      return { kind: "ref", name };
    }
    const type = this.ref(def, name, path);
    if (type.kind === "ref" && type.name === name) this.named.get(name)!.source = source;
    return type;
  }

  private literal(value: unknown, path: string): TypeRef {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      return { kind: "literal", value };
    }
    if (value === null) return { kind: "null" };
    return this.fail(path, "only string, number and boolean constants are supported");
  }

  private enumeration(schema: JsonSchema, name: string, path: string): TypeRef {
    const values = schema.enum as unknown[];
    if (!values.every((value): value is string => typeof value === "string")) {
      this.fail(path, "only string enums are supported");
    }
    const known = this.structural.get(structureOf(schema));
    if (known !== undefined) return known;
    const ref = this.declare({ kind: "enum", name, description: text(schema.description), values }, path);
    this.structural.set(structureOf(schema), ref);
    return ref;
  }

  private object(schema: JsonSchema, name: string, path: string): TypeRef {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const extra = schema.additionalProperties;
    if (Object.keys(properties).length === 0 && extra !== false) {
      const values = typeof extra === "object" && extra !== null ? (extra as JsonSchema) : {};
      return { kind: "map", values: this.ref(values, `${name}Value`, `${path}{}`) };
    }
    const known = this.structural.get(structureOf(schema));
    if (known !== undefined) return known;
    const required = new Set((schema.required ?? []) as string[]);
    // Declared before the fields, so a recursive reference finds the name.
    const type: NamedType = { kind: "object", name, description: text(schema.description), fields: [] };
    const ref = this.declare(type, path);
    this.structural.set(structureOf(schema), ref);
    for (const [property, propSchema] of Object.entries(properties)) {
      type.fields.push({
        name: property,
        type: this.ref(propSchema, name + pascal(property), `${path}.${property}`),
        required: required.has(property),
        description: text(propSchema.description),
      });
    }
    return ref;
  }

  private union(variants: JsonSchema[], schema: JsonSchema, name: string, path: string): TypeRef {
    const nonNull = variants.filter((variant) => variant.type !== "null");
    const nullable = nonNull.length < variants.length;
    const wrap = (inner: TypeRef): TypeRef => (nullable ? { kind: "nullable", inner } : inner);
    if (nonNull.length === 1) return wrap(this.ref(nonNull[0]!, name, path));
    if (nonNull.every((variant) => typeof variant.const === "string")) {
      const values = nonNull.map((variant) => variant.const as string);
      return wrap(this.declare({ kind: "enum", name, description: text(schema.description), values }, path));
    }
    if (nonNull.some((variant) => variant.const !== undefined)) {
      this.fail(path, "unions of non-string constants are not supported");
    }
    const refs = nonNull.map((variant, i) =>
      this.ref(variant, `${name}${variantSuffix(variant, i)}`, `${path}|${i}`),
    );
    // Clients tell variants apart by kind (Go: one field per variant), so two of the same kind are ambiguous.
    const kinds = refs.map((ref) => (ref.kind === "ref" ? ref.name : ref.kind));
    if (new Set(kinds).size < kinds.length) this.fail(path, "a union has two variants of the same kind");
    const union: NamedType = {
      kind: "union",
      name,
      description: text(schema.description),
      variants: refs,
      discriminator: this.discriminator(refs),
    };
    return wrap(this.declare(union, path));
  }

  /** A property every variant requires with a distinct string constant, if there is one. */
  private discriminator(variants: TypeRef[]): { property: string; tags: string[] } | undefined {
    const objects = variants.map((variant) => {
      const named = variant.kind === "ref" ? this.named.get(variant.name)?.type : undefined;
      return named?.kind === "object" ? named : undefined;
    });
    if (objects.some((object) => object === undefined)) return undefined;
    const first = objects[0]!;
    for (const field of first.fields) {
      const tags = objects.map((object) => {
        const candidate = object!.fields.find((f) => f.name === field.name && f.required);
        return candidate?.type.kind === "literal" && typeof candidate.type.value === "string"
          ? candidate.type.value
          : undefined;
      });
      if (tags.every((tag): tag is string => tag !== undefined) && new Set(tags).size === tags.length) {
        return { property: field.name, tags };
      }
    }
    return undefined;
  }

  private declare(type: NamedType, path: string): TypeRef {
    if (this.named.has(type.name)) this.fail(path, `two types would both be named ${type.name}`);
    this.named.set(type.name, { type, source: "" });
    return { kind: "ref", name: type.name };
  }
}

/** A variant's name suffix: its discriminating constant when it has one, else its kind or position. */
function variantSuffix(variant: JsonSchema, index: number): string {
  const properties = (variant.properties ?? {}) as Record<string, JsonSchema>;
  for (const property of Object.values(properties)) {
    if (typeof property.const === "string") return pascal(property.const);
  }
  return typeof variant.type === "string" && variant.type !== "object"
    ? pascal(variant.type)
    : `Variant${index + 1}`;
}

/** Output schemas close objects (additionalProperties: false), input schemas do not; otherwise equal. */
function sameIgnoringClosedness(a: string, b: string): boolean {
  return withoutClosedness(a) === withoutClosedness(b);
}

function withoutClosedness(source: string): string {
  return source.replaceAll(',"additionalProperties":false', "");
}

/**
 * The structure of an unnamed schema (as an input and as an output schema alike). $refs inside name their
 * targets within the method's own $defs, whose ids are global names, so equal text means an equal type.
 */
function structureOf(schema: JsonSchema): string {
  const { $schema: _dialect, $defs: _definitions, ...structure } = schema;
  return withoutClosedness(JSON.stringify(structure));
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
