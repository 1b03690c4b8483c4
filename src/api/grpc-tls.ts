/**
 * Credentials of the GRPC API server from its `grpc_api.tls` section, read as upstream's TLS config is
 * (centrifugo internal/configtypes/tls.go, pem.go): each PEM value may be the PEM text itself, base64 of it, or
 * a path to a PEM file, tried in that order.
 */
import { readFileSync, statSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";
import { type Config, ConfigError } from "../config/index.js";

const PEM_BLOCK = /-----BEGIN [^\n-]+-----\r?\n[\s\S]*?\r?\n?-----END [^\n-]+-----/;

function isPem(text: string): boolean {
  return PEM_BLOCK.test(text);
}

/**
 * The PEM bytes `value` stands for: raw PEM text, base64-encoded PEM, or the path of a PEM file. Throws a
 * ConfigError naming `key` when it is none of these.
 */
export function loadPem(value: string, key: string): Buffer {
  if (isPem(value)) return Buffer.from(value);
  const decoded = Buffer.from(value, "base64").toString("utf8");
  if (isPem(decoded)) return Buffer.from(decoded);
  let isFile = false;
  try {
    isFile = statSync(value).isFile();
  } catch {
    isFile = false;
  }
  if (isFile) {
    const content = readFileSync(value);
    if (!isPem(content.toString("utf8"))) {
      throw new ConfigError([`${key}: file "${value}" contains invalid PEM data`]);
    }
    return content;
  }
  throw new ConfigError([
    `${key}: invalid PEM data: not a valid file path, base64-encoded PEM content, or raw PEM content`,
  ]);
}

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
