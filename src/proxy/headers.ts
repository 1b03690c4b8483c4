/**
 * Which headers reach the backend (upstream internal/proxy/http.go requestHeaders, grpc.go requestMetadata):
 * static ones first, then the client's connect-command headers listed in `emulated_headers`, then the
 * connection's HTTP headers listed in `http_headers` (for a GRPC client transport, its metadata listed in
 * `grpc_metadata`), so a real header overrides an emulated or static one. Names in the allow lists match
 * case-insensitively.
 */
import type { ProxyCaller } from "../core/proxy.js";
import type { ProxyConfig } from "./endpoint.js";

/** Forwarded headers with lower-case names (valid as HTTP header names and as GRPC metadata keys). */
export function forwardedHeaders(
  config: ProxyConfig,
  caller: ProxyCaller,
  statics: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(statics)) out[name.toLowerCase()] = value;
  const emulated = new Set(config.emulated_headers.map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(caller.emulatedHeaders)) {
    if (emulated.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  }
  const grpc = caller.metadata !== undefined;
  const allowed = new Set(
    (grpc ? config.grpc_metadata : config.http_headers).map((name) => name.toLowerCase()),
  );
  for (const [name, value] of Object.entries(caller.metadata ?? caller.headers)) {
    if (allowed.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  }
  return out;
}
