/** `genconfig`: a minimal config with random secrets, like Centrifugo's template. */
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { type ConfigFormat, formatOf, loadConfig, SUPPORTED_EXTENSIONS } from "../config/index.js";
import { fail, messageOf } from "./output.js";

/** A URL-safe random secret of `bytes` random bytes. */
function secret(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

interface Secrets {
  token: string;
  adminPassword: string;
  adminSecret: string;
  apiKey: string;
}

const TEMPLATES: Readonly<Record<ConfigFormat, (s: Secrets) => string>> = {
  json: (s) =>
    `${JSON.stringify(
      {
        client: { token: { hmac_secret_key: s.token }, allowed_origins: [] },
        admin: { enabled: false, password: s.adminPassword, secret: s.adminSecret },
        http_api: { key: s.apiKey },
      },
      null,
      2,
    )}\n`,
  yaml: (s) =>
    `client:\n  token:\n    hmac_secret_key: "${s.token}"\n  allowed_origins: []\n\n` +
    `admin:\n  enabled: false\n  password: "${s.adminPassword}"\n  secret: "${s.adminSecret}"\n\n` +
    `http_api:\n  key: "${s.apiKey}"\n`,
  toml: (s) =>
    `[client]\n  allowed_origins = []\n\n  [client.token]\n    hmac_secret_key = "${s.token}"\n\n` +
    `[admin]\n  enabled = false\n  password = "${s.adminPassword}"\n  secret = "${s.adminSecret}"\n\n` +
    `[http_api]\n  key = "${s.apiKey}"\n`,
};

/** Writes the file (never over an existing one), then loads it back so a broken result is not left behind. */
export function genconfig(file: string): void {
  const format =
    formatOf(file) ?? fail(`error: output config file must have one of extensions ${SUPPORTED_EXTENSIONS}`);
  if (existsSync(file)) fail(`error: output config file already exists: ${file}`);
  const secrets = {
    token: secret(64),
    adminPassword: secret(16),
    adminSecret: secret(64),
    apiKey: secret(64),
  };
  try {
    writeFileSync(file, TEMPLATES[format](secrets), { mode: 0o600, flag: "wx" });
  } catch (err) {
    fail(`error: ${messageOf(err)}`);
  }
  try {
    loadConfig({ file, env: {} });
  } catch (err) {
    rmSync(file);
    fail(`error: ${messageOf(err)}`);
  }
}
