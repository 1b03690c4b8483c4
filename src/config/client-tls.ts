/**
 * Client-side TLS from a config `tls` block: towards Redis, NATS, PostgreSQL or a proxy's backend, as upstream's
 * `TLSConfig.ToGoTLSConfig` builds it (centrifugo internal/configtypes/tls.go): the server verified against
 * `server_ca_pem` (the system's CAs when empty) unless `insecure_skip_verify`, a client certificate when
 * `cert_pem` and `key_pem` are set, and `server_name` for SNI and the name check.
 */
import type { ConnectionOptions } from "node:tls";
import { loadPem } from "./pem.js";

/** The fields of a `tls` block a client reads. */
export interface ClientTlsBlock {
  cert_pem: string;
  key_pem: string;
  server_ca_pem: string;
  insecure_skip_verify: boolean;
  server_name: string;
}

/** Reads a PEM value (PEM text, base64 PEM or a file path) of the config key `key`. */
export type PemReader = (value: string, key: string) => Buffer;

/** Node TLS options of `block` (config key `key`, e.g. `broker.nats.tls`); throws naming the key at fault. */
export function clientTlsOptions(
  block: ClientTlsBlock,
  key: string,
  readPem: PemReader = loadPem,
): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: !block.insecure_skip_verify };
  if (block.server_ca_pem !== "") options.ca = readPem(block.server_ca_pem, `${key}.server_ca_pem`);
  if ((block.cert_pem === "") !== (block.key_pem === "")) {
    throw new Error(`${key}: cert_pem and key_pem go together (a client certificate needs its key)`);
  }
  if (block.cert_pem !== "") {
    options.cert = readPem(block.cert_pem, `${key}.cert_pem`);
    options.key = readPem(block.key_pem, `${key}.key_pem`);
  }
  if (block.server_name !== "") options.servername = block.server_name;
  return options;
}
