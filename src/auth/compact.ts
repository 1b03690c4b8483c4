import { decodeBase64Url, isBase64Url } from "./base64.js";
import { decodeJoseHeader, type JoseHeader } from "./claims.js";
import { InvalidTokenError } from "./errors.js";

const UTF8 = new TextDecoder();

/** A JWS in compact serialisation, split and decoded but not verified. */
export interface CompactToken {
  header: JoseHeader;
  /** The payload as text; its JSON is decoded by the claims readers. */
  payload: string;
}

/**
 * Splits `header.payload.signature` and decodes the header. Like Centrifugo it insists on `eyJ` (the encoding
 * of `{"`) up front, so that random strings are refused before any decoding work.
 */
export function parseCompactToken(token: string): CompactToken {
  if (typeof token !== "string" || !token.startsWith("eyJ")) throw new InvalidTokenError("not a JWT");
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.includes(".", second + 1)) throw new InvalidTokenError("a JWT has three segments");
  // The signature is only checked for its alphabet here: verifying decodes it.
  const header = decodeBase64Url(token.slice(0, first));
  const payload = decodeBase64Url(token.slice(first + 1, second));
  if (header === undefined || payload === undefined || !isBase64Url(token.slice(second + 1))) {
    throw new InvalidTokenError("JWT segments must be unpadded base64url");
  }
  return {
    header: decodeJoseHeader(UTF8.decode(header)),
    payload: UTF8.decode(payload),
  };
}
