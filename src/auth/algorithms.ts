/** The JWS algorithms Centrifugo verifies, by key family; the configured key decides the family. */
export const HMAC_ALGORITHMS: readonly string[] = ["HS256", "HS384", "HS512"];
export const RSA_ALGORITHMS: readonly string[] = ["RS256", "RS384", "RS512"];
export const ECDSA_ALGORITHMS: readonly string[] = ["ES256", "ES384", "ES512"];
