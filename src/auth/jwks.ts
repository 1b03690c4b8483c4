/**
 * JSON Web Key Sets fetched from `jwks_public_endpoint`, cached per resolved URL.
 *
 * Like Centrifugo: only keys with `"use": "sig"` count, a token must name its key with `kid`, a fetch is
 * tried twice with a 1 s timeout, and keys are trusted for an hour.
 *
 * Unlike Centrifugo, whose cache slides on every use, a set is refetched after an hour even while in use, so
 * keys dropped from the endpoint stop working. And an unknown `kid` triggers a refetch at most once per
 * cooldown per URL, so tokens with made-up key IDs cannot hammer the endpoint.
 */
import type { JWK } from "jose";
import { ECDSA_ALGORITHMS, RSA_ALGORITHMS } from "./algorithms.js";
import { InvalidTokenError } from "./errors.js";

/** How long a fetched key set is trusted. */
export const JWKS_CACHE_TTL_MS = 60 * 60 * 1000;
/** Minimum time between two fetches of the same URL, however many unknown `kid`s arrive. */
export const JWKS_REFETCH_COOLDOWN_MS = 1000;
const FETCH_TIMEOUT_MS = 1000;
const FETCH_ATTEMPTS = 2;

interface KeySet {
  readonly keys: ReadonlyMap<string, JWK>;
  readonly fetchedAt: number;
}

/**
 * The algorithm to verify a token with `tokenAlg` against `jwk`, or undefined when the pair is not allowed.
 * The key type pins the family (RSA → RS*, EC → ES*, OKP Ed25519 → EdDSA) so that no token can pick a weaker
 * one, and a key's own `alg`, when present, must be the token's.
 */
export function jwkAlgorithm(jwk: JWK, tokenAlg: string): string | undefined {
  if (jwk.kty === "OKP") return jwk.crv === "Ed25519" && tokenAlg === "EdDSA" ? tokenAlg : undefined;
  const family = jwk.kty === "RSA" ? RSA_ALGORITHMS : jwk.kty === "EC" ? ECDSA_ALGORITHMS : [];
  const alg = jwk.alg ?? tokenAlg;
  return family.includes(alg) && alg === tokenAlg ? alg : undefined;
}

/** Fetches and caches key sets; one instance per verifier. */
export class JwksCache {
  private readonly sets = new Map<string, KeySet>();
  private readonly lastFetchAt = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<KeySet>>();

  /** `now` returns milliseconds since the epoch. */
  constructor(
    private readonly fetchImpl: typeof fetch,
    private readonly now: () => number,
  ) {}

  /**
   * The signing key `kid` published at `url`; throws InvalidTokenError when it cannot be found or fetched.
   */
  async key(url: string, kid: string): Promise<JWK> {
    const cached = this.sets.get(url);
    const fresh = cached !== undefined && this.now() - cached.fetchedAt < JWKS_CACHE_TTL_MS;
    const hit = fresh ? cached.keys.get(kid) : undefined;
    if (hit !== undefined) return hit;
    const key = (await this.latestSet(url, fresh ? cached : undefined))?.keys.get(kid);
    if (key === undefined) throw new InvalidTokenError(`no JWKS signing key with kid "${kid}"`);
    return key;
  }

  /** Joins a fetch under way, starts one unless the URL was fetched within the cooldown, or keeps `fresh`. */
  private latestSet(url: string, fresh: KeySet | undefined): Promise<KeySet> | KeySet | undefined {
    const pending = this.inFlight.get(url);
    if (pending !== undefined) return pending;
    const sinceLastFetch = this.now() - (this.lastFetchAt.get(url) ?? Number.NEGATIVE_INFINITY);
    return sinceLastFetch >= JWKS_REFETCH_COOLDOWN_MS ? this.refresh(url) : fresh;
  }

  private async refresh(url: string): Promise<KeySet> {
    this.lastFetchAt.set(url, this.now());
    const download = this.download(url);
    this.inFlight.set(url, download);
    try {
      const set = await download;
      this.sets.set(url, set);
      return set;
    } finally {
      this.inFlight.delete(url);
    }
  }

  private async download(url: string): Promise<KeySet> {
    let lastError = "";
    for (let attempt = 0; attempt < FETCH_ATTEMPTS; attempt++) {
      try {
        return { keys: signingKeys(await this.fetchJson(url)), fetchedAt: this.now() };
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
    }
    throw new InvalidTokenError(`JWKS fetch failed: ${lastError}`);
  }

  private async fetchJson(url: string): Promise<unknown> {
    const response = await this.fetchImpl(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`unexpected status ${response.status}`);
    }
    return response.json();
  }
}

/** The `"use": "sig"` keys of a JWK set by `kid`, skipping key types a token could never be verified with. */
function signingKeys(document: unknown): Map<string, JWK> {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('JWK set has no "keys" array');
  const byKid = new Map<string, JWK>();
  for (const key of keys as unknown[]) {
    const jwk = key as JWK | null;
    if (jwk?.use === "sig" && typeof jwk.kid === "string" && ["RSA", "EC", "OKP"].includes(String(jwk.kty))) {
      byKid.set(jwk.kid, jwk);
    }
  }
  return byKid;
}
