/** Credentials of the GRPC API server from its `grpc_api.tls` section (PEM values as `loadPem` reads them). */
import { ServerCredentials } from "@grpc/grpc-js";
import { type Config, ConfigError, loadPem } from "../config/index.js";

/**
 * Insecure credentials when TLS is off; otherwise the certificate and key (both required), and with
 * `client_ca_pem` mutual TLS: clients must present a certificate signed by that CA.
 */
export function grpcServerCredentials(tls: Config["grpc_api"]["tls"], section: string): ServerCredentials {
  if (!tls.enabled) return ServerCredentials.createInsecure();
  if (tls.cert_pem === "" || tls.key_pem === "") {
    throw new ConfigError([`${section}.tls: cert_pem and key_pem are required when TLS is enabled`]);
  }
  const pair = {
    cert_chain: loadPem(tls.cert_pem, `${section}.tls.cert_pem`),
    private_key: loadPem(tls.key_pem, `${section}.tls.key_pem`),
  };
  const clientCa =
    tls.client_ca_pem === "" ? null : loadPem(tls.client_ca_pem, `${section}.tls.client_ca_pem`);
  return ServerCredentials.createSsl(clientCa, [pair], clientCa !== null);
}
