/**
 * The admin session token, in upstream's exact format so that a token Centrifugo issued verifies here and the
 * other way round: gorilla/securecookie's `Encode("token", "authorized")` with an HMAC-SHA256 key of
 * `admin.secret` and no encryption (centrifugo internal/admin/handlers.go generateSecureAdminToken).
 *
 * securecookie writes base64url(`<unix seconds>|<base64url(gob("authorized"))>|<mac>`), padded, where mac is
 * HMAC-SHA256 over `token|<unix seconds>|<base64url(value)>`; it accepts a token for 30 days (its default
 * max age) and refuses anything longer than 4096 characters.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** How long a token is accepted after it was issued: securecookie's default max age. */
export const ADMIN_TOKEN_MAX_AGE_S = 86400 * 30;

/** securecookie refuses to decode values longer than this. */
const MAX_LENGTH = 4096;
const NAME = "token";
/** Go's gob encoding of the string "authorized": length 13, type id string (6), field delta 0, then the text. */
const GOB_AUTHORIZED = Buffer.concat([Buffer.from([0x0d, 0x0c, 0x00, 0x0a]), Buffer.from("authorized")]);
const VALUE = base64Padded(GOB_AUTHORIZED);

/** A token for `secret` issued at `nowS` (Unix seconds). */
export function signAdminToken(secret: string, nowS: number = unixNow()): string {
  const signed = `${Math.floor(nowS)}|${VALUE}`;
  const mac = macOf(secret, signed);
  return base64Padded(Buffer.concat([Buffer.from(`${signed}|`), mac]));
}

/** Whether `token` was signed with `secret`, says "authorized" and is at most 30 days old at `nowS`. */
export function verifyAdminToken(secret: string, token: string, nowS: number = unixNow()): boolean {
  if (secret === "" || token.length > MAX_LENGTH || !/^[A-Za-z0-9_-]*={0,2}$/.test(token)) return false;
  if (token.length % 4 !== 0) return false;
  const decoded = Buffer.from(token, "base64url");
  const first = decoded.indexOf(0x7c);
  const second = first < 0 ? -1 : decoded.indexOf(0x7c, first + 1);
  if (second < 0) return false;
  const signed = decoded.subarray(0, second).toString("latin1");
  const mac = decoded.subarray(second + 1);
  const expected = macOf(secret, signed);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return false;
  const timestamp = decoded.subarray(0, first).toString("latin1");
  if (!/^[+-]?[0-9]{1,18}$/.test(timestamp)) return false;
  // securecookie refuses old tokens only; one from the future (a clock ahead of ours) passes, as there.
  if (Number(timestamp) < Math.floor(nowS) - ADMIN_TOKEN_MAX_AGE_S) return false;
  return decoded.subarray(first + 1, second).toString("latin1") === VALUE;
}

function macOf(secret: string, signed: string): Buffer {
  return createHmac("sha256", secret).update(`${NAME}|${signed}`, "latin1").digest();
}

/** Go's base64.URLEncoding: the URL alphabet with padding. */
function base64Padded(bytes: Buffer): string {
  return bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
