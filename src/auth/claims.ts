/**
 * Decodes token headers and payloads with the rules Centrifugo gets from Go's `encoding/json`, so the same
 * token is accepted or refused for the same reasons:
 * - claim names match exactly or ASCII case-insensitively, and the last occurrence wins;
 * - `null` counts as absent for strings and dates, and dates may be quoted numbers;
 * - `expire_at` must be an integer literal;
 * - any other type mismatch makes the token invalid.
 */
import { InvalidTokenError } from "./errors.js";
import { type JsonMember, objectMembers } from "./json-members.js";
import type { SubscribeOverride } from "./types.js";

/** Claims both token kinds share. */
export interface RegisteredClaims {
  /** User ID from `sub`, or from the configured user ID claim. */
  user: string;
  aud: string[];
  iss: string;
  /** Unix seconds, possibly fractional; undefined when absent. */
  exp?: number;
  nbf?: number;
  /** The `expire_at` claim; undefined when absent or null. */
  expireAt?: number;
}

/** Subscription options before `b64…` decoding, which Centrifugo does only after the expiry check. */
export interface RawSubscribeOptions {
  info?: Uint8Array;
  b64info: string;
  data?: Uint8Array;
  b64data: string;
  override?: SubscribeOverride;
}

/** A connection token's payload. */
export interface ConnectClaims extends RegisteredClaims {
  /** Must be "" for a connection token. */
  channel: string;
  info?: Uint8Array;
  b64info: string;
  channels: string[];
  subs: Map<string, RawSubscribeOptions>;
  meta?: Uint8Array;
}

/** A subscription token's payload. */
export interface SubscribeClaims extends RegisteredClaims, RawSubscribeOptions {
  channel: string;
  client: string;
}

const OVERRIDE_FLAGS = [
  "presence",
  "join_leave",
  "force_recovery",
  "force_positioning",
  "force_push_join_leave",
] as const;

/** JSON number grammar, which Go checks before accepting a quoted date such as `"exp": "1700000000"`. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The JOSE header fields Centrifugo reads. */
export interface JoseHeader {
  alg: string;
  /** "" when absent. */
  kid: string;
}

/** Decodes a JWS header; `typ` and `cty` are not used but must be strings, as Go's decoding requires. */
export function decodeJoseHeader(text: string): JoseHeader {
  const fields = Fields.of(text, "header");
  readString(fields, "typ");
  readString(fields, "cty");
  return { alg: readString(fields, "alg"), kid: readString(fields, "kid") };
}

/** Decodes a connection token payload. `userIdPath` is the split `user_id_claim`, undefined to use `sub`. */
export function decodeConnectClaims(payload: string, userIdPath?: readonly string[]): ConnectClaims {
  const fields = Fields.of(payload, "payload");
  // Members listed rather than spread: an object literal spread and extended goes to dictionary mode, ~3 KB of
  // garbage on every connect.
  const { user, aud, iss, exp, nbf, expireAt } = readRegistered(fields, payload, userIdPath);
  return {
    user,
    aud,
    iss,
    exp,
    nbf,
    expireAt,
    channel: readString(fields, "channel"),
    info: readRaw(fields, "info"),
    b64info: readString(fields, "b64info"),
    channels: readChannels(fields),
    subs: readSubs(fields),
    meta: readMeta(fields),
  };
}

/**
 * Decodes a subscription token payload. `userIdPath` is the split `user_id_claim`, undefined to use `sub`.
 */
export function decodeSubscribeClaims(payload: string, userIdPath?: readonly string[]): SubscribeClaims {
  const fields = Fields.of(payload, "payload");
  const { user, aud, iss, exp, nbf, expireAt } = readRegistered(fields, payload, userIdPath);
  const { info, b64info, data, b64data, override } = readOptions(fields);
  return {
    user,
    aud,
    iss,
    exp,
    nbf,
    expireAt,
    info,
    b64info,
    data,
    b64data,
    override,
    channel: readString(fields, "channel"),
    client: readString(fields, "client"),
  };
}

/**
 * Claims whose source text is kept (byte for byte, or to read an integer literal): an object holding one of
 * them takes the member scan, which keeps each value's text.
 */
const RAW_CLAIMS = ["info", "data", "meta", "subs", "expire_at", "override"];

/**
 * Longer text takes the member scan, whose nesting limit (Go's) `JSON.parse` lacks: 10,001 levels need more
 * characters than this.
 */
const MAX_PLAIN_LENGTH = 10_000;

/** A key Go's case-insensitive match can only find exactly: no upper-case or non-ASCII letter folds onto it. */
const FOLD_FREE_KEY = /^[^A-Z\u0080-\uffff]*$/;

/** Finds claims as Go's encoding/json matches struct fields; every name asked for is lower-case ASCII. */
class Fields {
  private constructor(
    /** Members by lower-case name, the last occurrence kept; undefined when `parsed` serves. */
    private readonly byName: Map<string, JsonMember> | undefined,
    private readonly parsed: Readonly<Record<string, unknown>> | undefined,
  ) {}

  /**
   * Fields of the JSON object `raw`; `what` names it in the error when `raw` is not an object. With
   * `keepText` every value's source text is kept, not only the raw claims'.
   */
  static of(raw: string, what: string, keepText = false): Fields {
    const parsed = keepText ? undefined : parsedPlainly(raw);
    if (parsed !== undefined) return new Fields(undefined, parsed);
    const members = objectMembers(raw);
    if (members === undefined) throw new InvalidTokenError(`${what} must be a JSON object`);
    const byName = new Map<string, JsonMember>();
    for (const member of members) {
      // Non-ASCII keys never fold onto an ASCII field name in Go.
      if (/^\p{ASCII}*$/u.test(member.key)) byName.set(member.key.toLowerCase(), member);
    }
    return new Fields(byName, undefined);
  }

  /** The claim's parsed value and source text, or undefined when the claim is absent. */
  get(name: string): { value: unknown; raw: string } | undefined {
    if (this.parsed !== undefined) {
      // No raw claim is present here (see parsedPlainly), so no caller reads `raw`.
      return Object.hasOwn(this.parsed, name) ? { value: this.parsed[name], raw: "" } : undefined;
    }
    const member = this.byName?.get(name);
    return member && { value: JSON.parse(member.raw), raw: member.raw };
  }
}

/**
 * The common token read in one `JSON.parse`, without a member scan: when `text` is a JSON object whose keys
 * need no case folding (so the last occurrence of each wins, as in the scan) and that holds none of the
 * claims kept as text. Undefined otherwise, and for anything `JSON.parse` refuses: the scan then decides.
 */
function parsedPlainly(text: string): Record<string, unknown> | undefined {
  if (text.length > MAX_PLAIN_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const object = parsed as Record<string, unknown>;
  for (const key in object) if (!FOLD_FREE_KEY.test(key)) return undefined;
  for (const name of RAW_CLAIMS) if (Object.hasOwn(object, name)) return undefined;
  return object;
}

function wrongType(name: string, expected: string): InvalidTokenError {
  return new InvalidTokenError(`claim "${name}" must be ${expected}`);
}

function readRegistered(fields: Fields, payload: string, userIdPath?: readonly string[]): RegisteredClaims {
  const sub = readString(fields, "sub");
  // Unused here, but Centrifugo refuses a token where either has the wrong type.
  readString(fields, "jti");
  readDate(fields, "iat");
  return {
    user: userIdPath === undefined ? sub : readUserId(payload, userIdPath),
    aud: readAudience(fields),
    iss: readString(fields, "iss"),
    exp: readDate(fields, "exp"),
    nbf: readDate(fields, "nbf"),
    expireAt: readInt64(fields, "expire_at"),
  };
}

function readString(fields: Fields, name: string): string {
  const claim = fields.get(name);
  if (claim === undefined || claim.value === null) return "";
  if (typeof claim.value !== "string") throw wrongType(name, "a string");
  return claim.value;
}

function readDate(fields: Fields, name: string): number | undefined {
  const claim = fields.get(name);
  if (claim === undefined || claim.value === null) return undefined;
  const { value } = claim;
  const quoted = typeof value === "string" && JSON_NUMBER.test(value);
  const seconds = typeof value === "number" ? value : quoted ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds)) throw wrongType(name, "a number");
  return seconds;
}

/**
 * Claims are decoded before the signature is checked, so the length test comes first: BigInt parsing is
 * superlinear in the digits, and an int64 literal has at most 20 characters (`-9223372036854775808`).
 */
function readInt64(fields: Fields, name: string): number | undefined {
  const claim = fields.get(name);
  if (claim === undefined || claim.value === null) return undefined;
  const { raw } = claim;
  const ok = raw.length <= 20 && /^-?\d+$/.test(raw) && BigInt(raw) >= INT64_MIN && BigInt(raw) <= INT64_MAX;
  if (!ok) throw wrongType(name, "an integer");
  return Number(raw);
}

/** `aud` is a string or an array of strings; unlike other claims, null is an error (as in Centrifugo). */
function readAudience(fields: Fields): string[] {
  const claim = fields.get("aud");
  if (claim === undefined) return [];
  const { value } = claim;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  throw wrongType("aud", "a string or an array of strings");
}

/** Any JSON value, `null` included, kept as its source bytes. */
function readRaw(fields: Fields, name: string): Uint8Array | undefined {
  const claim = fields.get(name);
  return claim && Buffer.from(claim.raw);
}

function readMeta(fields: Fields): Uint8Array | undefined {
  const claim = fields.get("meta");
  if (claim === undefined || claim.value === null) return undefined;
  if (typeof claim.value !== "object" || Array.isArray(claim.value)) throw wrongType("meta", "a JSON object");
  return Buffer.from(claim.raw);
}

/** Array elements that are null become "", as Go leaves a string untouched when it decodes null into it. */
function readChannels(fields: Fields): string[] {
  const claim = fields.get("channels");
  if (claim === undefined || claim.value === null) return [];
  const { value } = claim;
  if (!Array.isArray(value)) throw wrongType("channels", "an array of strings");
  return value.map((item: unknown) => {
    if (item === null) return "";
    if (typeof item !== "string") throw wrongType("channels", "an array of strings");
    return item;
  });
}

function readSubs(fields: Fields): Map<string, RawSubscribeOptions> {
  const subs = new Map<string, RawSubscribeOptions>();
  const claim = fields.get("subs");
  if (claim === undefined || claim.value === null) return subs;
  const members = objectMembers(claim.raw);
  if (members === undefined) throw wrongType("subs", "an object");
  for (const { key, raw } of members) {
    subs.set(
      key,
      raw === "null" ? { b64info: "", b64data: "" } : readOptions(Fields.of(raw, `subs["${key}"]`)),
    );
  }
  return subs;
}

function readOptions(fields: Fields): RawSubscribeOptions {
  return {
    info: readRaw(fields, "info"),
    b64info: readString(fields, "b64info"),
    data: readRaw(fields, "data"),
    b64data: readString(fields, "b64data"),
    override: readOverride(fields),
  };
}

function readOverride(fields: Fields): SubscribeOverride | undefined {
  const claim = fields.get("override");
  if (claim === undefined || claim.value === null) return undefined;
  // Each flag's text is read again as a `{"value": bool}` wrapper.
  const flags = Fields.of(claim.raw, "override", true);
  const override: SubscribeOverride = {};
  for (const name of OVERRIDE_FLAGS) {
    const flag = readFlag(flags, name);
    if (flag !== undefined) override[name] = flag;
  }
  return override;
}

/**
 * Centrifugo's `{"value": bool}` wrapper (a missing or null value means false); a plain bool is accepted too.
 */
function readFlag(fields: Fields, name: string): boolean | undefined {
  const claim = fields.get(name);
  if (claim === undefined || claim.value === null) return undefined;
  if (typeof claim.value === "boolean") return claim.value;
  const expected = '{"value": bool}';
  if (typeof claim.value !== "object" || Array.isArray(claim.value))
    throw wrongType(`override.${name}`, expected);
  const value = Fields.of(claim.raw, name).get("value")?.value ?? false;
  if (typeof value !== "boolean") throw wrongType(`override.${name}`, expected);
  return value;
}

/**
 * Reads the user ID at a dotted path like gjson, which Centrifugo uses for `user_id_claim`: keys match
 * exactly, the first occurrence wins, a string gives itself, null or a missing path gives "", an integer its
 * digits, and any other value its JSON text (non-integer numbers in JavaScript's formatting).
 */
function readUserId(payload: string, path: readonly string[]): string {
  let raw = payload;
  for (const key of path) {
    const member = objectMembers(raw)?.find((candidate) => candidate.key === key);
    if (member === undefined) return "";
    raw = member.raw;
  }
  const value: unknown = JSON.parse(raw);
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" && !/^-?\d+$/.test(raw)) return String(value);
  return raw;
}
