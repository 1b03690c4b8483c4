/**
 * A small schema DSL. Each builder returns a plain runtime description of one config key (kind, default, doc,
 * v5 aliases, CLI flag) that also carries, at the type level only, the TypeScript type of its resolved value.
 * `TypeOf<typeof schema>` therefore gives the resolved `Config` type without a second, hand-written list of keys.
 */

declare const RESOLVED: unique symbol;

/**
 * A v5 key that maps onto the key it is declared on. A string is the v5 key itself; `implies` lists other keys
 * (same scope) that v5 switched on implicitly, e.g. `proxy_connect_endpoint` also meant `enabled: true`.
 * Paths are relative to the alias scope: the config root, or the item for fields inside array items.
 */
export type Alias = string | { readonly key: string; readonly implies: Readonly<Record<string, unknown>> };

/** Options shared by every builder. */
export interface CommonOptions {
  /** v5 names of this key (see {@link Alias}). */
  readonly v5?: readonly Alias[];
  /** Exposed as a root command flag: `true`, or the one-letter short name. */
  readonly flag?: true | string;
}

interface Base<K extends string> extends CommonOptions {
  readonly kind: K;
  /** One line of documentation, used by `defaultconfig`-style tooling. */
  readonly doc: string;
}

export interface BoolSpec extends Base<"bool"> {
  readonly def: boolean;
}
export interface IntSpec extends Base<"int"> {
  readonly def: number;
}
export interface NumberSpec extends Base<"number"> {
  readonly def: number;
}
export interface StringSpec extends Base<"string"> {
  readonly def: string;
  /** Allowed values; anything else is an error. */
  readonly oneOf?: readonly string[];
  /** Values are lower-cased before the `oneOf` check (Centrifugo reads `log.level` that way). */
  readonly caseInsensitive?: boolean;
}
export interface DurationSpec extends Base<"duration"> {
  /** Go duration text, e.g. "25s". */
  readonly def: string;
  /** Centrifugo rejects sub-second values for history TTLs. */
  readonly wholeSeconds?: boolean;
}
export interface StringsSpec extends Base<"strings"> {
  readonly def: readonly string[];
  readonly oneOf?: readonly string[];
}
export type MapSpec = Base<"map">;
export interface ObjectSpec extends Base<"object"> {
  readonly fields: Fields;
}
export interface ListSpec extends Base<"list"> {
  readonly item: ObjectSpec;
  /** Items have a `name`, and env vars `<LIST>_<NAME>_<OPTION>` patch existing items. */
  readonly named: boolean;
}

/** Any key description. */
export type AnySpec =
  BoolSpec | IntSpec | NumberSpec | StringSpec | DurationSpec | StringsSpec | MapSpec | ObjectSpec | ListSpec;

/** A key that is set as one value (everything but objects). */
export type LeafSpec = Exclude<AnySpec, ObjectSpec>;

/** The fields of an object. */
export type Fields = Readonly<Record<string, AnySpec>>;

/** A spec tagged with the TypeScript type of its resolved value. */
export type Typed<S extends AnySpec, T> = S & { readonly [RESOLVED]?: T };

/** The resolved value type of a spec built with this DSL. */
export type TypeOf<S> = S extends { readonly [RESOLVED]?: infer T } ? Exclude<T, undefined> : never;

type Resolved<F extends Fields> = { [K in keyof F]: TypeOf<F[K]> };

/** A boolean key. */
export function bool(def: boolean, doc: string, opts: CommonOptions = {}): Typed<BoolSpec, boolean> {
  return { kind: "bool", def, doc, ...opts };
}

/** An integer key. */
export function int(def: number, doc: string, opts: CommonOptions = {}): Typed<IntSpec, number> {
  return { kind: "int", def, doc, ...opts };
}

/** A floating point key. */
export function num(def: number, doc: string, opts: CommonOptions = {}): Typed<NumberSpec, number> {
  return { kind: "number", def, doc, ...opts };
}

/** A free-form string key. */
export function str(def: string, doc: string, opts: CommonOptions = {}): Typed<StringSpec, string> {
  return { kind: "string", def, doc, ...opts };
}

/** A string key restricted to `values`; its resolved type is the union of them. */
export function choice<const V extends readonly string[]>(
  values: V,
  def: V[number],
  doc: string,
  opts: CommonOptions & { caseInsensitive?: boolean } = {},
): Typed<StringSpec, V[number]> {
  return { kind: "string", def, doc, oneOf: values, ...opts };
}

/** A duration key: Go duration text in files and env, milliseconds once resolved. */
export function dur(
  def: string,
  doc: string,
  opts: CommonOptions & { wholeSeconds?: boolean } = {},
): Typed<DurationSpec, number> {
  return { kind: "duration", def, doc, ...opts };
}

/** A list of strings (space-separated in env vars). */
export function strs(
  def: readonly string[],
  doc: string,
  opts: CommonOptions & { oneOf?: readonly string[] } = {},
): Typed<StringsSpec, string[]> {
  return { kind: "strings", def, doc, ...opts };
}

/** A string → string map (a JSON object in env vars); `${CENTRIFUGO_VAR_X}` in values is expanded. */
export function strMap(doc: string, opts: CommonOptions = {}): Typed<MapSpec, Record<string, string>> {
  return { kind: "map", doc, ...opts };
}

/** A section: an object with known fields. */
export function obj<F extends Fields>(doc: string, fields: F): Typed<ObjectSpec, Resolved<F>> {
  return { kind: "object", doc, fields };
}

/** An array of objects that all follow `fields`. */
export function list<F extends Fields>(
  doc: string,
  fields: F,
  opts: CommonOptions & { named?: boolean } = {},
): Typed<ListSpec, Resolved<F>[]> {
  const { named = false, ...common } = opts;
  return { kind: "list", doc, item: obj(doc, fields), named, ...common };
}
