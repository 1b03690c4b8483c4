/**
 * The `client.token` / `client.subscription_token` section and its one-time preparation: PEM keys parsed,
 * patterns compiled, and every problem collected with its key path so start-up can report them together.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { compileGoRegex } from "../util/go-regex.js";
import { type ClaimPattern, templatePlaceholders, templateSafetyProblems } from "./jwks-template.js";

/**
 * The resolved `client.token` (or `client.subscription_token`) config section: same keys as Centrifugo v6.
 */
export interface TokenVerifierConfig {
  /** Enables HS256/384/512. "" = HMAC tokens are refused. */
  hmac_secret_key: string;
  /** Tried when `hmac_secret_key` fails, so the secret can be rotated without disconnecting everyone. */
  hmac_previous_secret_key: string;
  /** Unix seconds; 0 = the previous key has no end. The previous key still works during this very second. */
  hmac_previous_secret_key_valid_until: number;
  /** PEM (public key or certificate); enables RS256/384/512. */
  rsa_public_key: string;
  /** PEM (public key or certificate); enables the one ES algorithm matching its curve. */
  ecdsa_public_key: string;
  /**
   * http(s) URL of a JWK set, optionally with `{{group}}` placeholders; when set, the static keys are
   * ignored.
   */
  jwks_public_endpoint: string;
  /** When set, `aud` (a string, or any element of an array) must equal it. */
  audience: string;
  /** When set, some `aud` element must match it. RE2-style like Centrifugo: a search, not a full match. */
  audience_regex: string;
  /** When set, `iss` must equal it. */
  issuer: string;
  /** When set, `iss` must match it (a search, not a full match). */
  issuer_regex: string;
  /** Claim holding the user ID instead of `sub`; dots step into nested objects. "" = `sub`. */
  user_id_claim: string;
}

/** A config prepared for verification. Fields for unset or invalid keys are undefined. */
export interface CompiledTokenConfig {
  hmacSecret?: Uint8Array;
  previousHmacSecret?: Uint8Array;
  /** Unix seconds; 0 = no end. */
  previousHmacValidUntil: number;
  rsaKey?: KeyObject;
  ecdsa?: { key: KeyObject; alg: string };
  /** "" = verify with the static keys above. */
  jwksEndpoint: string;
  audience: string;
  audienceRe?: RegExp;
  issuer: string;
  issuerRe?: RegExp;
  /** `user_id_claim` split at dots; undefined = `sub`. */
  userIdPath?: string[];
}

/**
 * The ES algorithm for each curve; Centrifugo disables an ES algorithm whose curve differs from the key's.
 */
const ECDSA_ALG_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: "ES256",
  secp384r1: "ES384",
  secp521r1: "ES512",
};
/**
 * jose refuses shorter RSA keys for RS256/384/512, so they are reported at start-up rather than per token.
 */
const MIN_RSA_BITS = 2048;
/**
 * Centrifugo allows `^[a-zA-Z_]+$`; dotted paths into nested objects are our extension (gjson supports them).
 */
const USER_ID_CLAIM = /^[a-zA-Z_]+(?:\.[a-zA-Z_]+)*$/;
/**
 * Validate a config once at start-up: returns a list of problems like "client.token.audience and
 * audience_regex are exclusive", "client.token.rsa_public_key: not a valid RSA public key PEM". `keyPath` is
 * the section's path, e.g. "client.token". An empty list means `new TokenVerifier(config)` will not throw.
 */
export function validateTokenVerifierConfig(config: TokenVerifierConfig, keyPath: string): string[] {
  return compileTokenVerifierConfig(config, keyPath).problems;
}

/** Prepares `config` for verification and lists its problems, each prefixed with `keyPath`. */
export function compileTokenVerifierConfig(
  config: TokenVerifierConfig,
  keyPath: string,
): { compiled: CompiledTokenConfig; problems: string[] } {
  const problems: string[] = [];
  const compiled: CompiledTokenConfig = {
    ...compileHmac(config, problems),
    rsaKey: compileRsaKey(config.rsa_public_key, problems),
    ecdsa: compileEcdsaKey(config.ecdsa_public_key, problems),
    jwksEndpoint: config.jwks_public_endpoint,
    audience: config.audience,
    audienceRe: compilePattern("audience", config.audience, config.audience_regex, problems),
    issuer: config.issuer,
    issuerRe: compilePattern("issuer", config.issuer, config.issuer_regex, problems),
    userIdPath: compileUserIdClaim(config.user_id_claim, problems),
  };
  problems.push(...jwksProblems(config));
  return { compiled, problems: problems.map((problem) => `${keyPath}.${problem}`) };
}

function compileHmac(config: TokenVerifierConfig, problems: string[]) {
  const validUntil = config.hmac_previous_secret_key_valid_until;
  if (!Number.isSafeInteger(validUntil) || validUntil < 0) {
    problems.push("hmac_previous_secret_key_valid_until: must be a non-negative integer (unix seconds)");
  }
  const encode = (secret: string) => (secret === "" ? undefined : new TextEncoder().encode(secret));
  return {
    hmacSecret: encode(config.hmac_secret_key),
    previousHmacSecret: encode(config.hmac_previous_secret_key),
    previousHmacValidUntil: validUntil,
  };
}

/**
 * Parses a public key PEM as Centrifugo accepts it: a PKIX public key or an X.509 certificate (Node also
 * takes PKCS#1). Private keys are refused, though Node would derive the public half, because they do not
 * belong in config.
 */
function parsePublicKeyPem(pem: string): KeyObject | undefined {
  if (pem.includes("PRIVATE KEY")) return undefined;
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}

function compileRsaKey(pem: string, problems: string[]): KeyObject | undefined {
  if (pem === "") return undefined;
  const key = parsePublicKeyPem(pem);
  if (key?.asymmetricKeyType !== "rsa") {
    problems.push("rsa_public_key: not a valid RSA public key PEM");
    return undefined;
  }
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    problems.push(`rsa_public_key: RSA key must be at least ${MIN_RSA_BITS} bits`);
    return undefined;
  }
  return key;
}

function compileEcdsaKey(pem: string, problems: string[]): { key: KeyObject; alg: string } | undefined {
  if (pem === "") return undefined;
  const key = parsePublicKeyPem(pem);
  if (key?.asymmetricKeyType !== "ec") {
    problems.push("ecdsa_public_key: not a valid ECDSA public key PEM");
    return undefined;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
  const alg = ECDSA_ALG_BY_CURVE[curve];
  if (alg === undefined) {
    problems.push(`ecdsa_public_key: curve ${curve} is not supported, use P-256, P-384 or P-521`);
    return undefined;
  }
  return { key, alg };
}

/** `claim` is "audience" or "issuer": the exact value and the pattern exclude each other. */
function compilePattern(
  claim: string,
  exact: string,
  pattern: string,
  problems: string[],
): RegExp | undefined {
  if (exact !== "" && pattern !== "") problems.push(`${claim} and ${claim}_regex are exclusive`);
  if (pattern === "") return undefined;
  try {
    return compileGoRegex(pattern);
  } catch (err) {
    problems.push(`${claim}_regex: not a valid regular expression: ${(err as Error).message}`);
    return undefined;
  }
}

function compileUserIdClaim(claim: string, problems: string[]): string[] | undefined {
  if (claim === "") return undefined;
  if (!USER_ID_CLAIM.test(claim)) {
    problems.push(`user_id_claim: must match ${USER_ID_CLAIM.source}`);
    return undefined;
  }
  return claim.split(".");
}

function jwksProblems(config: TokenVerifierConfig): string[] {
  const endpoint = config.jwks_public_endpoint;
  if (endpoint === "") return [];
  const patterns: ClaimPattern[] = [
    { key: "issuer_regex", pattern: config.issuer_regex },
    { key: "audience_regex", pattern: config.audience_regex },
  ];
  const problems = templateSafetyProblems(endpoint, patterns);
  // Placeholders may sit in the host, where braces are not allowed, so parse with stand-in values.
  const probe = templatePlaceholders(endpoint).reduce(
    (url, name) => url.replace(`{{${name}}}`, "x"),
    endpoint,
  );
  if (!URL.canParse(probe) || !["http:", "https:"].includes(new URL(probe).protocol)) {
    problems.push("jwks_public_endpoint: must be an http:// or https:// URL");
  }
  return problems;
}
