/**
 * `swagger.enabled`: the OpenAPI 3 document of the HTTP API, generated from the method table, and Swagger UI over
 * it at `<swagger.handler_prefix>/` on the internal listener (centrifugo internal/app/mux.go), served from the
 * swagger-ui-dist package. The document must describe exactly what the server serves: one path per method, each
 * answering at the document's server URL with the declared API key header.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { API_METHODS } from "../../src/api/methods.js";
import { openApiDocument } from "../../src/api/openapi.js";
import { version } from "../../src/version.js";
import { apiConfig, apiKey, rawRequest } from "../helpers/api.js";
import { freePort } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface Operation {
  summary: string;
  operationId: string;
  tags: string[];
  requestBody: { required: boolean; content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref: string } }> }>;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  tags: { name: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { type: string; properties: Record<string, unknown> }>;
    securitySchemes: Record<string, { type: string; in: string; name: string }>;
  };
}

const document = openApiDocument({ prefix: "/api/", insecure: false, version }) as unknown as Document;

/** Every `$ref` anywhere under `value`. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, out);
  else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

function schemaName(ref: string): string {
  assert.match(ref, /^#\/components\/schemas\/[A-Za-z]+$/);
  return ref.slice("#/components/schemas/".length);
}

describe("the OpenAPI document", () => {
  test("is OpenAPI 3 with upstream's base path as the server URL", () => {
    assert.match(document.openapi, /^3\.0\.\d+$/);
    assert.equal(document.info.version, version);
    assert.deepEqual(document.servers, [{ url: "/api" }]);
  });

  test("has one POST path per API method, and nothing else", () => {
    assert.equal(Object.keys(document.paths).length, API_METHODS.length);
    const tags = new Set(document.tags.map((tag) => tag.name));
    for (const method of API_METHODS) {
      const path = document.paths[`/${method.name}`];
      assert.ok(path, `path /${method.name}`);
      assert.deepEqual(Object.keys(path), ["post"]);
      const post = path.post as Operation;
      assert.equal(post.operationId, `CentrifugoApi_${method.grpc}`);
      assert.equal(post.summary, method.summary);
      assert.ok(
        post.tags.every((tag) => tags.has(tag)),
        `${method.name}: declared tags`,
      );
      assert.equal(post.requestBody.required, true);
      const request = post.requestBody.content["application/json"]?.schema.$ref ?? "";
      const response = post.responses["200"]?.content?.["application/json"]?.schema.$ref ?? "";
      assert.equal(schemaName(request), method.request.name);
      assert.equal(schemaName(response), method.response.name);
      assert.deepEqual(Object.keys(post.responses).sort(), ["200", "400", "401", "500"]);
    }
  });

  test("every schema reference resolves, and every message schema lists its fields by proto name", () => {
    const { schemas } = document.components;
    for (const ref of refsIn(document)) assert.ok(schemas[schemaName(ref)], `${ref} resolves`);
    for (const method of API_METHODS) {
      for (const desc of [method.request, method.response]) {
        assert.deepEqual(
          Object.keys(schemas[desc.name]?.properties ?? {}),
          desc.fields.map((field) => field.name),
        );
      }
    }
    const publish = schemas.PublishRequest?.properties;
    assert.deepEqual(publish?.channel, { type: "string" });
    assert.deepEqual(publish?.tags, { type: "object", additionalProperties: { type: "string" } });
    assert.deepEqual(schemas.Metrics?.properties.interval, { type: "number", format: "double" });
  });

  test("the API key goes in X-API-Key or in Authorization: apikey, unless http_api.insecure", () => {
    const { securitySchemes } = document.components;
    assert.deepEqual(securitySchemes.ApiKeyAuth, { type: "apiKey", in: "header", name: "X-API-Key" });
    assert.equal(securitySchemes.AuthorizationApiKey?.name, "Authorization");
    assert.deepEqual(document.security, [{ ApiKeyAuth: [] }, { AuthorizationApiKey: [] }]);
    const insecure = openApiDocument({ prefix: "/api", insecure: true, version }) as unknown as Document;
    assert.deepEqual(insecure.security, []);
  });
});

describe("swagger: the served UI and document", () => {
  let server: TestServer;
  let internal: number;

  before(async () => {
    server = await startTestServer({
      ...apiConfig,
      http_server: { internal_port: String(await freePort()) },
      swagger: { enabled: true },
    });
    internal = server.server.internalPort;
  });
  after(() => server?.close());

  test("on the internal listener only", async () => {
    assert.notEqual(internal, server.port);
    assert.equal((await rawRequest(server.port, "/swagger/", { method: "GET" })).status, 404);
    const index = await rawRequest(internal, "/swagger/", { method: "GET" });
    assert.equal(index.status, 200);
    assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
  });

  test("the prefix redirects to its directory, index.html to ./, as Go's mux and file server", async () => {
    const bare = await rawRequest(internal, "/swagger", { method: "GET" });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, "/swagger/");
    const index = await rawRequest(internal, "/swagger/index.html", { method: "GET" });
    assert.equal(index.status, 301);
    assert.equal(index.headers.location, "./");
  });

  test("swagger.json is the generated document", async () => {
    const served = await rawRequest(internal, "/swagger/swagger.json", { method: "GET" });
    assert.equal(served.status, 200);
    assert.equal(served.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(served.text), document);
  });

  test("the UI page loads every asset it references, and its initializer reads ./swagger.json", async () => {
    const index = await rawRequest(internal, "/swagger/", { method: "GET" });
    const assets = [...index.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    assert.ok(assets.length >= 5, `assets in ${index.text}`);
    for (const asset of assets) {
      assert.doesNotMatch(asset, /^(https?:)?\/\//, "no CDN");
      const url = new URL(asset, `http://127.0.0.1:${internal}/swagger/`);
      const response = await rawRequest(internal, url.pathname, { method: "GET" });
      assert.equal(response.status, 200, `${url.pathname}`);
      assert.ok(response.text.length > 0, `${url.pathname} has a body`);
    }
    const initializer = await rawRequest(internal, "/swagger/swagger-initializer.js", { method: "GET" });
    assert.match(initializer.text, /url: "\.\/swagger\.json"/);
    assert.doesNotMatch(initializer.text, /petstore/);
  });

  test("names that are not files of the UI are the app's 404, and never reach outside the package", async () => {
    for (const path of ["/swagger/nope.js", "/swagger/..%2Fpackage.json", "/swagger/%2e%2e/package.json"]) {
      assert.equal((await rawRequest(internal, path, { method: "GET" })).status, 404, path);
    }
  });

  test("every path of the document answers at its server URL with the declared key header", async () => {
    const served = JSON.parse((await rawRequest(internal, "/swagger/swagger.json", { method: "GET" })).text);
    const base = (served as Document).servers[0]?.url ?? "";
    for (const path of Object.keys((served as Document).paths)) {
      const response = await rawRequest(internal, `${base}${path}`, {
        headers: { "X-API-Key": apiKey, "Content-Type": "application/json" },
        body: "{}",
      });
      assert.equal(response.status, 200, `${base}${path}`);
      assert.equal(response.headers["content-type"], "application/json", `${base}${path}`);
    }
  });
});

test("swagger: off by default, and at swagger.handler_prefix when set", async () => {
  const off = await startTestServer(apiConfig);
  try {
    assert.equal((await rawRequest(off.port, "/swagger/", { method: "GET" })).status, 404);
  } finally {
    await off.close();
  }
  const custom = await startTestServer({
    ...apiConfig,
    swagger: { enabled: true, handler_prefix: "/docs/api" },
  });
  try {
    assert.equal((await rawRequest(custom.port, "/docs/api/", { method: "GET" })).status, 200);
    assert.equal((await rawRequest(custom.port, "/docs/api/swagger.json", { method: "GET" })).status, 200);
    assert.equal((await rawRequest(custom.port, "/swagger/", { method: "GET" })).status, 404);
  } finally {
    await custom.close();
  }
});
