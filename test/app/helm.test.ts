/**
 * Turbine started as the official Helm chart starts Centrifugo (centrifugal/helm-charts, charts/centrifugo
 * deployment.yaml): its exact flags, the config from env. Kubernetes probes `/health` on the internal port; the
 * client WebSocket lives on the external one and nothing internal may answer there.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { apiKey, rawRequest } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { freePort } from "../helpers/redis.js";
import { hmacSecret } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { start, tempDir } from "../cli/run.js";

/** The chart's ports: 8000 (external), 9000 (internal), 10000 (GRPC API), 11000 (uni GRPC). */
const CHART_PORTS = [8000, 9000, 10000, 11000] as const;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/** The chart's ports when all are free here, else free ones in their place (the flags stay the same). */
async function ports(): Promise<number[]> {
  const free = await Promise.all(CHART_PORTS.map(isFree));
  return free.every(Boolean) ? [...CHART_PORTS] : Promise.all(CHART_PORTS.map(() => freePort()));
}

async function waitForHealth(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`turbine exited with ${child.exitCode}`);
    const ok = await rawRequest(port, "/health", { method: "GET" }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("turbine did not answer /health on the internal port");
}

describe("started with the Helm chart's arguments", () => {
  let child: ChildProcess;
  let external: number;
  let internal: number;
  let output = "";

  before(async () => {
    const [http, internalPort, grpc, uniGrpc] = await ports();
    external = http!;
    internal = internalPort!;
    const args = [
      "--health.enabled",
      "--prometheus.enabled",
      "--http_server.port",
      String(external),
      "--http_server.internal_port",
      String(internal),
      "--grpc_api.port",
      String(grpc),
      "--uni_grpc.port",
      String(uniGrpc),
    ];
    child = start(args, tempDir(), {
      CENTRIFUGO_HTTP_API_KEY: apiKey,
      CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: hmacSecret,
      CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOW_SUBSCRIBE_FOR_CLIENT: "true",
    });
    process.on("exit", () => child.kill("SIGKILL"));
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitForHealth(internal, child);
  });

  after(async () => {
    child.kill("SIGTERM");
    if (child.exitCode === null) await once(child, "exit");
  });

  it("answers the probes: /health is 200 on the internal port", async () => {
    const res = await rawRequest(internal, "/health", { method: "GET" });
    assert.equal(res.status, 200);
    assert.equal(res.text, "{}");
  });

  it("serves the client WebSocket on the external port and the API on the internal one", async () => {
    const client = newClient(`ws://127.0.0.1:${external}/connection/websocket`, "json", {
      token: await connectToken("helm-user"),
    });
    client.connect();
    await once(client, "connected");
    const sub = client.newSubscription("chart");
    sub.subscribe();
    await once(sub, "subscribed");
    const published = once<{ data: unknown }>(sub, "publication");
    const res = await rawRequest(internal, "/api/publish", {
      headers: { "X-API-Key": apiKey },
      body: JSON.stringify({ channel: "chart", data: { ok: true } }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await published).data, { ok: true });
    client.disconnect();
  });

  it("answers nothing internal on the external port", async () => {
    for (const path of ["/health", "/api/info", "/api", "/metrics"]) {
      const res = await rawRequest(external, path, {
        method: "POST",
        headers: { "X-API-Key": apiKey },
        body: "{}",
      });
      assert.equal(res.status, 404, path);
    }
  });

  it("names each listener's endpoints at start", () => {
    assert.match(output, new RegExp(`serving websocket endpoints on :${external}`));
    assert.match(output, new RegExp(`serving api, prometheus, health endpoints on :${internal}`));
  });
});
