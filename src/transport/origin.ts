import { compileGlob } from "../util/glob.js";

/**
 * `client.allowed_origins` (centrifugo internal/origin): an empty list lets through only requests without an `Origin`
 * header; `*` lets everything through; otherwise glob patterns (e.g. `https://*.example.com`) matched against
 * the lower-cased origin, as Centrifugo does.
 */
export function originChecker(allowed: readonly string[]): (origin: string | undefined) => boolean {
  if (allowed.length === 1 && allowed[0] === "*") return () => true;
  const patterns = allowed.map(compileGlob);
  return (origin) => {
    if (origin === undefined || origin === "") return true;
    const lower = origin.toLowerCase();
    return patterns.some((pattern) => pattern.test(lower));
  };
}
