import { createHmac, timingSafeEqual } from "node:crypto";
import { compactVerify, type KeyInput } from "jose";
import { ECDSA_ALGORITHMS, HMAC_ALGORITHMS, RSA_ALGORITHMS } from "./algorithms.js";
import { decodeBase64Url } from "./base64.js";
import type { CompiledTokenConfig } from "./config.js";
import { InvalidTokenError } from "./errors.js";

/**
 * The configured keys a token signed with `alg` may be checked against, in order. The key family pins the
 * algorithm: an RS token is never checked against the HMAC secret and vice versa, which rules out algorithm
 * confusion. The previous HMAC secret follows the current one until its `valid_until` second has passed.
 */
export function staticKeys(config: CompiledTokenConfig, alg: string, nowSeconds: number): KeyInput[] {
  if (HMAC_ALGORITHMS.includes(alg)) {
    const { hmacSecret, previousHmacSecret, previousHmacValidUntil: validUntil } = config;
    const previousUsable = validUntil === 0 || nowSeconds <= validUntil;
    return [hmacSecret, previousUsable ? previousHmacSecret : undefined].filter((key) => key !== undefined);
  }
  if (RSA_ALGORITHMS.includes(alg) && config.rsaKey !== undefined) return [config.rsaKey];
  if (ECDSA_ALGORITHMS.includes(alg) && config.ecdsa?.alg === alg) return [config.ecdsa.key];
  return [];
}

/**
 * Returns when one of `keys` verifies `token` with exactly `alg`; throws InvalidTokenError otherwise. HMAC
 * secrets are checked synchronously (undefined is returned): a connect's common case makes no promise.
 */
export function verifySignature(
  token: string,
  alg: string,
  keys: readonly KeyInput[],
): Promise<void> | undefined {
  if (keys.length === 0) throw new InvalidTokenError(`algorithm "${alg}" is not enabled`);
  const hash = HMAC_HASHES[alg];
  if (hash === undefined || !keys.every(isSecret)) return verifyEach(token, alg, keys);
  for (const key of keys) if (hmacMatches(token, hash, key)) return undefined;
  throw new InvalidTokenError("signature verification failed");
}

const HMAC_HASHES: Readonly<Record<string, string>> = { HS256: "sha256", HS384: "sha384", HS512: "sha512" };

function isSecret(key: KeyInput): key is Uint8Array {
  return key instanceof Uint8Array;
}

async function verifyEach(token: string, alg: string, keys: readonly KeyInput[]): Promise<void> {
  for (const key of keys) {
    if (await signatureMatches(token, alg, key)) return;
  }
  throw new InvalidTokenError("signature verification failed");
}

async function signatureMatches(token: string, alg: string, key: KeyInput): Promise<boolean> {
  const hash = HMAC_HASHES[alg];
  if (hash !== undefined && isSecret(key)) return hmacMatches(token, hash, key);
  try {
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    // jose rejects bad signatures, headers and unusable keys alike; each just means "not this key".
    return false;
  }
}

/**
 * HMAC tokens are checked with node:crypto directly: every connect verifies one, and going through jose costs
 * about ten times the CPU and leaves far more garbage per connection. The comparison is constant-time.
 */
function hmacMatches(token: string, hash: string, key: Uint8Array): boolean {
  const dot = token.lastIndexOf(".");
  const signature = decodeBase64Url(token.slice(dot + 1));
  if (key.length === 0 || dot < 0 || signature === undefined) return false;
  const expected = createHmac(hash, key).update(token.slice(0, dot)).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}
