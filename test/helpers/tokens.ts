import { type CryptoKey, type JWTPayload, SignJWT } from "jose";
import { hmacSecret } from "./server.js";

const secret = new TextEncoder().encode(hmacSecret);

/** An HS256 connection token for `user` (claims merged over `sub`; `exp` in seconds from now when `ttl` given). */
export function connectToken(
  user: string,
  claims: JWTPayload & Record<string, unknown> = {},
  ttl?: number,
): Promise<string> {
  return sign({ sub: user, ...claims }, ttl);
}

/** An HS256 subscription token for `user` on `channel`. */
export function subscriptionToken(
  user: string,
  channel: string,
  claims: Record<string, unknown> = {},
  ttl?: number,
): Promise<string> {
  return sign({ sub: user, channel, ...claims }, ttl);
}

/** Sign with any key and algorithm (RS256 tests). */
export function signWith(
  key: CryptoKey | Uint8Array,
  alg: string,
  payload: Record<string, unknown>,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(key);
}

function sign(payload: Record<string, unknown>, ttl?: number): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: "HS256" });
  if (ttl !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  return jwt.sign(secret);
}
