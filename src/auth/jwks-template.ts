/**
 * JWKS endpoint templates: `jwks_public_endpoint` may contain `{{name}}` placeholders filled from the named
 * groups of `issuer_regex` / `audience_regex`, so one server can serve many tenants. The values come from
 * claims that are not verified yet (the key to verify them is what is being fetched), so Centrifugo only
 * allows groups that are a fixed list of alternatives; otherwise an attacker could point the key fetch at a
 * server of their own.
 */
import { InvalidTokenError } from "./errors.js";

/** A configured claim pattern, named by its config key for error messages. */
export interface ClaimPattern {
  readonly key: "issuer_regex" | "audience_regex";
  readonly pattern: string;
}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;
/** One literal character, or an escaped punctuation character. */
const LITERAL = String.raw`(?:[^\\()[\]{}.*+?^$|]|\\[^A-Za-z0-9])+`;
const LITERAL_ALTERNATION = new RegExp(`^${LITERAL}(?:\\|${LITERAL})*$`);
const CLASS_SHORTHANDS = "dDwWsSpP";
/** Values that keep a resolved URL's structure; dot segments are refused separately. */
const SAFE_VALUE = /^[A-Za-z0-9._~-]+$/;

/** Placeholder names in a template, in order, e.g. `["tenant"]` for `https://{{tenant}}.example.com/jwks`. */
export function templatePlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? "");
}

/**
 * Problems that make a template unsafe: every placeholder must be a named group of one of the patterns, such
 * a group must be a plain list of alternatives (`acme|globex`), and the patterns must not use character
 * classes. Each problem is phrased to follow "<config key path>.".
 */
export function templateSafetyProblems(template: string, patterns: readonly ClaimPattern[]): string[] {
  const names = templatePlaceholders(template);
  if (names.length === 0) return [];
  const used = patterns.filter((p) => p.pattern !== "");
  return [
    ...used.flatMap(classProblems),
    ...[...new Set(names)].flatMap((name) => groupProblems(name, used)),
  ];
}

function groupProblems(name: string, patterns: readonly ClaimPattern[]): string[] {
  const groups = patterns.flatMap(({ key, pattern }) => {
    const body = namedGroupBody(pattern, name);
    return body === undefined ? [] : [{ key, body }];
  });
  if (groups.length === 0) {
    return [
      `jwks_public_endpoint: placeholder {{${name}}} is not a named group of issuer_regex or audience_regex`,
    ];
  }
  return groups
    .filter(({ body }) => !LITERAL_ALTERNATION.test(body))
    .map(
      ({ key }) =>
        `${key}: named group "${name}" is used in the JWKS endpoint template, so it must be an explicit list of allowed values (e.g. value1|value2)`,
    );
}

/**
 * Fills a template from the named groups matched in the token's claims. Throws InvalidTokenError when a value
 * could change the URL's structure (slashes, dot segments, query or escape characters), as Centrifugo refuses
 * resolved URLs whose path is not clean.
 */
export function resolveJwksUrl(template: string, vars: ReadonlyMap<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars.get(name) ?? "";
    if (!SAFE_VALUE.test(value) || value === "." || value === "..") {
      throw new InvalidTokenError(`unsafe JWKS endpoint value for {{${name}}}`);
    }
    return value;
  });
}

/** Character classes let a group match values nobody listed; escapes are skipped as in Centrifugo. */
function classProblems({ key, pattern }: ClaimPattern): string[] {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const next = pattern[i + 1] ?? "";
    if (c === "[" || (c === "\\" && next !== "" && CLASS_SHORTHANDS.includes(next))) {
      return [
        `${key}: character classes are not allowed when the JWKS endpoint is a template; list the allowed values`,
      ];
    }
    if (c === "\\") i++;
  }
  return [];
}

/** The source text inside `(?P<name>…)` or `(?<name>…)`, or undefined when the pattern has no such group. */
function namedGroupBody(pattern: string, name: string): string | undefined {
  const open = [`(?P<${name}>`, `(?<${name}>`]
    .map((o) => ({ o, at: pattern.indexOf(o) }))
    .find((x) => x.at >= 0);
  if (open === undefined) return undefined;
  const start = open.at + open.o.length;
  let depth = 1;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return pattern.slice(start, i);
  }
  return pattern.slice(start);
}
