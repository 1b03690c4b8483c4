/**
 * TLS towards proxy backends: an HTTPS backend (`http.tls`) and a GRPC backend over TLS (`grpc.tls`), both with a
 * self-signed certificate that Turbine trusts through `server_ca_pem`; without that trust the call is error 100.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { newClient, once } from "../helpers/clients.js";
import { startTestServer } from "../helpers/server.js";
import { TEST_CERT_PEM, TEST_KEY_PEM } from "../helpers/tls-fixture.js";

let https: Server;
let grpcServer: grpc.Server;
let httpsEndpoint = "";
let grpcEndpoint = "";

before(async () => {
  https = createServer({ cert: TEST_CERT_PEM, key: TEST_KEY_PEM }, (req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json" }).end('{"result":{"data":{"over":"https"}}}'),
    );
  });
  await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
  httpsEndpoint = `https://localhost:${(https.address() as AddressInfo).port}/rpc`;

  const proto = fileURLToPath(new URL("../../proto/proxy.proto", import.meta.url));
  const pkg = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true })) as grpc.GrpcObject;
  const proxy = ((pkg.centrifugal as grpc.GrpcObject).centrifugo as grpc.GrpcObject).proxy as grpc.GrpcObject;
  grpcServer = new grpc.Server();
  grpcServer.addService((proxy.CentrifugoProxy as grpc.ServiceClientConstructor).service, {
    RPC: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { result: { data: Buffer.from('{"over":"grpc+tls"}') } }),
  });
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { cert_chain: Buffer.from(TEST_CERT_PEM), private_key: Buffer.from(TEST_KEY_PEM) },
  ]);
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  grpcEndpoint = `localhost:${port}`;
});

after(async () => {
  grpcServer.forceShutdown();
  https.closeAllConnections();
  await new Promise((resolve) => https.close(resolve));
});

/** One RPC call through `rpcProxy`: the result data, or the error code. */
async function rpcThrough(rpcProxy: Record<string, unknown>): Promise<unknown> {
  const server = await startTestServer({
    client: { insecure: true },
    rpc: { proxy: { timeout: "3s", ...rpcProxy }, without_namespace: { proxy_enabled: true } },
  });
  const client = newClient(server.url, "json");
  try {
    const connected = once(client, "connected");
    client.connect();
    await connected;
    return await client.rpc("secure", {}).then(
      (reply) => reply.data,
      (err: { code: number }) => ({ code: err.code }),
    );
  } finally {
    client.disconnect();
    await server.close();
  }
}

const trusted = { enabled: true, server_ca_pem: TEST_CERT_PEM };

test("HTTPS backend trusted through http.tls.server_ca_pem", async () => {
  assert.deepEqual(await rpcThrough({ endpoint: httpsEndpoint, http: { tls: trusted } }), { over: "https" });
});

test("HTTPS backend with an untrusted certificate: error 100", async () => {
  assert.deepEqual(await rpcThrough({ endpoint: httpsEndpoint }), { code: 100 });
});

test("GRPC backend over TLS trusted through grpc.tls.server_ca_pem", async () => {
  assert.deepEqual(await rpcThrough({ endpoint: grpcEndpoint, grpc: { tls: trusted } }), {
    over: "grpc+tls",
  });
});

test("GRPC backend over TLS called without TLS: error 100", async () => {
  assert.deepEqual(await rpcThrough({ endpoint: grpcEndpoint }), { code: 100 });
});
