/** Strict base64 decoders: Node's own decoder skips unknown characters, which would let bad tokens pass. */

const BASE64_URL_UNPADDED = /^[A-Za-z0-9_-]*$/;
const BASE64_STD_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is unpadded base64url, the encoding of JWS segments (RFC 7515 §2). */
export function isBase64Url(text: string): boolean {
  return BASE64_URL_UNPADDED.test(text) && text.length % 4 !== 1;
}

/** Decodes unpadded base64url; undefined for anything else. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  return isBase64Url(text) ? Buffer.from(text, "base64url") : undefined;
}

/**
 * Decodes padded standard base64 as Go's `base64.StdEncoding` does for `b64info` and `b64data`: line breaks
 * are skipped, anything else outside the alphabet is an error. Undefined for invalid input.
 */
export function decodeBase64Std(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\r\n]/g, "");
  if (!BASE64_STD_PADDED.test(compact)) return undefined;
  return Buffer.from(compact, "base64");
}
