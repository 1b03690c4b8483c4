/**
 * PEM values of TLS sections, read as upstream's TLS config reads them (centrifugo internal/configtypes/tls.go,
 * pem.go): the PEM text itself, base64 of it, or a path to a PEM file, tried in that order.
 */
import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "./errors.js";

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
