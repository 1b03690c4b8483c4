/** The one server API key check, called by the HTTP and the GRPC edge. */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Returns a check of a presented secret against `expected`, in constant time: both are hashed first, so the
 * comparison always runs over two equal-length digests and its duration reveals neither the key's content
 * nor its length. Policies such as "an empty key admits nobody" stay with the callers.
 */
export function apiKeyMatcher(expected: string): (given: string | Uint8Array) => boolean {
  const digest = sha256(expected);
  return (given) => timingSafeEqual(sha256(given), digest);
}

function sha256(value: string | Uint8Array): Buffer {
  return createHash("sha256").update(value).digest();
}
