/** Client-side TLS of a consumer's connection from a `tls` block (PEM text, base64 PEM or file path). */
import type { ConnectionOptions } from "node:tls";
import { loadPem } from "../config/pem.js";
import type { Config } from "../config/index.js";

export type TlsSection = Config["consumers"][number]["postgresql"]["tls"];

/** Node TLS options of `tls`; `key` names the block in errors (`consumers.x.postgresql.tls`). */
export function clientTls(tls: TlsSection, key: string): ConnectionOptions {
  const pem = (value: string, field: string) =>
    value === "" ? undefined : loadPem(value, `${key}.${field}`);
  return {
    ca: pem(tls.server_ca_pem, "server_ca_pem"),
    cert: pem(tls.cert_pem, "cert_pem"),
    key: pem(tls.key_pem, "key_pem"),
    rejectUnauthorized: !tls.insecure_skip_verify,
    servername: tls.server_name === "" ? undefined : tls.server_name,
  };
}
