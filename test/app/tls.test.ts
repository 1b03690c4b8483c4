/**
 * TLS of the HTTP listeners with openssl-made certificates: the `centrifuge` client over wss://, the API over
 * https, mutual TLS checked with curl, `tls_external` and `internal_tls`, TLS 1.2 at least.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once as onceEvent } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { apiKey, rawRequest } from "../helpers/api.js";
import { makeCertificates, type TestCertificates } from "../helpers/certificates.js";
import { newClient, once } from "../helpers/clients.js";
import { freePort } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "turbine-tls-"));
const certs: TestCertificates = makeCertificates(dir);
after(() => rmSync(dir, { recursive: true, force: true }));

const ca = () => readFileSync(certs.caFile);

/** One HTTPS request trusting the test CA; resolves with the status and body. */
function httpsRequest(
  port: number,
  path: string,
  options: { method?: string; body?: string; cert?: Buffer; key?: Buffer } = {},
): Promise<{ status: number; text: string }> {
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port,
        path,
        method: options.method ?? "GET",
        headers: { "X-API-Key": apiKey },
        ca: ca(),
        cert: options.cert,
        key: options.key,
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
  return within(answered, `the HTTPS answer to ${path}`);
}

/** `curl` to the API: its exit code and the HTTP status it printed ("000" when there was no response). */
function curl(port: number, withClientCert: boolean): Promise<{ code: number; status: string }> {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certs.caFile];
  if (withClientCert) args.push("--cert", certs.clientCertFile, "--key", certs.clientKeyFile);
  args.push("-H", `X-API-Key: ${apiKey}`, "-d", "{}", `https://localhost:${port}/api/info`);
  const done = new Promise<{ code: number; status: string }>((resolve) => {
    execFile("curl", args, (err, stdout) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, status: stdout.trim() });
    });
  });
  return within(done, "curl to exit");
}

/** The `centrifuge` client over wss://, trusting the test CA. */
function secureClient(port: number) {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca: ca() });
    }
  }
  return newClient(`wss://localhost:${port}/connection/websocket`, "json", {
    websocket: TrustingWebSocket,
  });
}

describe("http_server.tls", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      http_server: { tls: { enabled: true, cert_pem: certs.serverCertFile, key_pem: certs.serverKeyFile } },
      http_api: { key: apiKey },
      client: { insecure: true },
    });
  });
  after(() => server.close());

  it("serves the centrifuge client over wss://", async () => {
    const client = secureClient(server.port);
    client.connect();
    await once(client, "connected");
    const sub = client.newSubscription("news");
    sub.subscribe();
    await once(sub, "subscribed");
    const published = once<{ data: unknown }>(sub, "publication");
    const res = await httpsRequest(server.port, "/api/publish", {
      method: "POST",
      body: JSON.stringify({ channel: "news", data: { text: "over TLS" } }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await published).data, { text: "over TLS" });
    client.disconnect();
  });

  it("speaks no plain HTTP on the TLS port", async () => {
    await assert.rejects(rawRequest(server.port, "/api/info", { body: "{}" }));
  });

  it("refuses TLS 1.1", async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all; the server must still say no.
    const offer = { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" } as const;
    const socket = tlsConnect({ port: server.port, host: "127.0.0.1", ca: ca(), ...offer });
    await assert.rejects(
      within(onceEvent(socket, "secureConnect"), "the TLS 1.1 handshake to fail"),
      /version|protocol/i,
    );
  });
});

describe("PEM text and base64 PEM instead of file paths", () => {
  for (const [name, encode] of [
    ["PEM text", (file: string) => readFileSync(file, "utf8")],
    ["base64 PEM", (file: string) => readFileSync(file).toString("base64")],
  ] as const) {
    it(`accepts ${name}`, async () => {
      const server = await startTestServer({
        http_server: {
          tls: {
            enabled: true,
            cert_pem: encode(certs.serverCertFile),
            key_pem: encode(certs.serverKeyFile),
          },
        },
        http_api: { key: apiKey },
      });
      try {
        assert.equal(
          (await httpsRequest(server.port, "/api/info", { method: "POST", body: "{}" })).status,
          200,
        );
      } finally {
        await server.close();
      }
    });
  }
});

describe("mutual TLS (client_ca_pem)", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      http_server: {
        tls: {
          enabled: true,
          cert_pem: certs.serverCertFile,
          key_pem: certs.serverKeyFile,
          client_ca_pem: certs.caFile,
        },
      },
      http_api: { key: apiKey },
    });
  });
  after(() => server.close());

  it("answers curl with a client certificate signed by the CA", async () => {
    assert.deepEqual(await curl(server.port, true), { code: 0, status: "200" });
  });

  it("refuses curl without a client certificate during the handshake", async () => {
    const result = await curl(server.port, false);
    assert.equal(result.status, "000");
    assert.notEqual(result.code, 0);
  });
});

describe("tls_external and internal_tls", () => {
  it("tls_external: TLS on the external port, plain HTTP on the internal one", async () => {
    const internalPort = await freePort();
    const server = await startTestServer({
      http_server: {
        internal_port: String(internalPort),
        tls_external: true,
        tls: { enabled: true, cert_pem: certs.serverCertFile, key_pem: certs.serverKeyFile },
      },
      health: { enabled: true },
      client: { insecure: true, allowed_origins: ["*"] },
    });
    try {
      assert.equal((await rawRequest(internalPort, "/health", { method: "GET" })).status, 200);
      const client = secureClient(server.port);
      client.connect();
      await once(client, "connected");
      client.disconnect();
    } finally {
      await server.close();
    }
  });

  it("internal_tls: the internal port has its own TLS, the external one stays plain", async () => {
    const internalPort = await freePort();
    const server = await startTestServer({
      http_server: {
        internal_port: String(internalPort),
        internal_tls: { enabled: true, cert_pem: certs.serverCertFile, key_pem: certs.serverKeyFile },
      },
      health: { enabled: true },
      init: { enabled: true },
    });
    try {
      assert.equal((await httpsRequest(internalPort, "/health")).status, 200);
      assert.equal((await rawRequest(server.port, "/connection/init", { method: "GET" })).status, 200);
    } finally {
      await server.close();
    }
  });

  it("refuses to start when TLS is enabled without a certificate, naming the key", async () => {
    await assert.rejects(
      startTestServer({ http_server: { tls: { enabled: true } } }),
      /http_server\.tls: cert_pem and key_pem are required/,
    );
  });
});
