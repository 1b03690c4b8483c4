import { createHmac } from "node:crypto";
import { type JWTPayload, SignJWT } from "jose";
import type { TokenVerifierConfig } from "../../src/auth/index.js";

/** The HMAC secret most tests sign with. */
export const SECRET = "test-secret-key";

/** A config with every key unset, like Centrifugo's defaults. */
export function tokenConfig(overrides: Partial<TokenVerifierConfig> = {}): TokenVerifierConfig {
  return {
    hmac_secret_key: "",
    hmac_previous_secret_key: "",
    hmac_previous_secret_key_valid_until: 0,
    rsa_public_key: "",
    ecdsa_public_key: "",
    jwks_public_endpoint: "",
    audience: "",
    audience_regex: "",
    issuer: "",
    issuer_regex: "",
    user_id_claim: "",
    ...overrides,
  };
}

/** Current time in unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs `claims` with an HMAC secret through jose. */
export function hmacToken(claims: JWTPayload, alg = "HS256", secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

/**
 * Builds an HS256 token from exact JSON texts, for payloads jose would not produce (odd types, duplicate
 * keys).
 */
export function rawHmacToken(
  payload: string,
  header = '{"alg":"HS256","typ":"JWT"}',
  secret = SECRET,
): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** Unpadded base64url of a UTF-8 string. */
export function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** Bytes as UTF-8 text, undefined stays undefined. */
export function utf8(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
}
