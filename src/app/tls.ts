/**
 * TLS of the HTTP listeners, chosen as upstream chooses it (centrifugo internal/app/tls.go GetTLSConfig,
 * internal/app/mux.go runHTTPServers, internal/configtypes/tls.go): certificate and key as a file path, PEM
 * text or base64 of it; TLS 1.2 at least; `client_ca_pem` makes a client certificate signed by that CA required.
 */
import type { Server as TlsServer, TlsOptions } from "node:tls";
import { type Config, ConfigError, loadPem } from "../config/index.js";

/** One TLS block of the config (`http_server.tls`, `http_server.internal_tls`). */
export type TlsSection = Config["http_server"]["tls"];

/** A listener's TLS: server options, and what to do with the server once created (autocert's default cert). */
export interface ServerTls {
  readonly options: TlsOptions;
  readonly attach?: (server: TlsServer) => void;
}

/** An enabled TLS block as a listener's TLS; `key` names it in errors (`http_server.tls`). */
export function staticTls(tls: TlsSection, key: string): ServerTls {
  return { options: serverTlsOptions(tls, key) };
}

function serverTlsOptions(tls: TlsSection, key: string): TlsOptions {
  if (tls.cert_pem === "" || tls.key_pem === "") {
    throw new ConfigError([`${key}: cert_pem and key_pem are required when TLS is enabled`]);
  }
  const options: TlsOptions = {
    minVersion: "TLSv1.2",
    cert: loadPem(tls.cert_pem, `${key}.cert_pem`),
    key: loadPem(tls.key_pem, `${key}.key_pem`),
  };
  if (tls.client_ca_pem === "") return options;
  // Go's tls.RequireAndVerifyClientCert: no certificate, or one the CA did not sign, fails the handshake.
  return {
    ...options,
    ca: loadPem(tls.client_ca_pem, `${key}.client_ca_pem`),
    requestCert: true,
    rejectUnauthorized: true,
  };
}

/**
 * The TLS options of each listener, undefined for plain HTTP: autocert (or else `tls`) on every listener, or on
 * the external one only with `tls_external`; `internal_tls`, when enabled, is the internal listener's own.
 */
export interface ListenerTls {
  external: ServerTls | undefined;
  internal: ServerTls | undefined;
}

/** Picks {@link ListenerTls} from `http_server`; `mainTls` is the autocert or `tls` choice made by the caller. */
export function listenerTls(http: Config["http_server"], mainTls: ServerTls | undefined): ListenerTls {
  const internal = http.internal_tls.enabled
    ? staticTls(http.internal_tls, "http_server.internal_tls")
    : http.tls_external
      ? undefined
      : mainTls;
  return { external: mainTls, internal };
}
