/**
 * JWT verification for connection and subscription tokens, wire-compatible with Centrifugo v6 (centrifugo internal/jwtverify).
 * Build one TokenVerifier per token config section at start-up, after validateTokenVerifierConfig.
 */
export { type TokenVerifierConfig, validateTokenVerifierConfig } from "./config.js";
export { InvalidTokenError, TokenExpiredError } from "./errors.js";
export { JWKS_CACHE_TTL_MS, JWKS_REFETCH_COOLDOWN_MS } from "./jwks.js";
export type { ConnectToken, SubscribeOptionsClaims, SubscribeOverride, SubscribeToken } from "./types.js";
export { TokenVerifier, type TokenVerifierOptions } from "./verifier.js";
