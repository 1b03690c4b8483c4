/**
 * Features whose modules load only when configured (src/app/server.ts, src/app/engine.ts, src/proxy/index.ts,
 * src/consuming/index.ts): a bad config of each still stops the start-up with its message and exit code 1,
 * before anything listens (consumers: once the listeners started, as before), as when they were loaded up front.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { freePort, run, tempDir } from "../cli/run.js";
import { servingPort } from "../helpers/process.js";

/** Runs the server on `config` (plus a free port) and returns its exit code and log lines. */
async function startWith(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number | null; lines: string[] }> {
  const dir = tempDir();
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ http_server: { port: await freePort() }, ...config }));
  const { code, stderr } = run(["-c", file], dir, env);
  return { code, lines: stderr.split("\n").filter((line) => line !== "") };
}

/**
 * The start-up failed with `message`; unless `listened` (consumers start once the listeners do, as before),
 * no listener was started first.
 */
function assertRefused(
  result: { code: number | null; lines: string[] },
  message: RegExp,
  listened = false,
): void {
  const log = result.lines.join("\n");
  assert.equal(result.code, 1, log);
  const fatal = result.lines.find((line) => line.includes('"failed to start: '));
  assert.ok(fatal !== undefined, `no "failed to start" line in:\n${log}`);
  assert.match(fatal, message);
  if (!listened) assert.equal(result.lines.filter((line) => servingPort(line) !== undefined).length, 0, log);
}

describe("features loaded only when configured refuse a bad config at start", () => {
  it("grpc_api with TLS and no certificate", async () => {
    const result = await startWith({
      grpc_api: { enabled: true, port: await freePort(), tls: { enabled: true } },
    });
    assertRefused(result, /grpc_api\.tls: cert_pem and key_pem are required/);
  });

  it("uni_grpc with TLS and no certificate", async () => {
    const result = await startWith({
      uni_grpc: { enabled: true, port: await freePort(), tls: { enabled: true } },
    });
    assertRefused(result, /uni_grpc\.tls: cert_pem and key_pem are required/);
  });

  it("opentelemetry with an exporter protocol Turbine does not have", async () => {
    const result = await startWith(
      { opentelemetry: { enabled: true } },
      { OTEL_EXPORTER_OTLP_PROTOCOL: "smoke" },
    );
    assertRefused(result, /unsupported exporter protocol: smoke/);
  });

  it("a GRPC connect proxy whose CA file does not exist", async () => {
    const connect = {
      enabled: true,
      endpoint: "grpc://127.0.0.1:1",
      grpc: { tls: { enabled: true, server_ca_pem: "/nonexistent/ca.pem" } },
    };
    const result = await startWith({ client: { proxy: { connect } } });
    assertRefused(result, /client\.proxy\.connect\.grpc\.tls\.server_ca_pem: invalid PEM data/);
  });

  it("a PostgreSQL consumer whose database refuses connections", async () => {
    const postgresql = {
      dsn: `postgres://turbine@127.0.0.1:${await freePort()}/none`,
      outbox_table_name: "t",
    };
    const result = await startWith({
      consumers: [{ name: "pg", enabled: true, type: "postgresql", postgresql }],
    });
    assertRefused(result, /error initializing postgresql consumer \(pg\): connect ECONNREFUSED/, true);
  });
});
