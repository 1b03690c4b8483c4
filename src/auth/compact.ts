import { decodeBase64Url } from "./base64.js";
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
  const segments = token.split(".");
  if (segments.length !== 3) throw new InvalidTokenError("a JWT has three segments");
  const [header, payload, signature] = segments.map(decodeBase64Url);
  if (header === undefined || payload === undefined || signature === undefined) {
    throw new InvalidTokenError("JWT segments must be unpadded base64url");
  }
  return {
    header: decodeJoseHeader(UTF8.decode(header)),
    payload: UTF8.decode(payload),
  };
}
