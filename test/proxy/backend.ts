/**
 * A scripted application backend for proxy tests, served over HTTP (node:http, one path per proxy kind) or GRPC
 * (@grpc/grpc-js with CentrifugoProxy loaded from proto/proxy.proto by @grpc/proto-loader, so the wire format is
 * checked by an implementation independent of Turbine's codec). Both hand the test the same JSON view of each
 * request and take the same JSON view of the reply: `bytes` fields (`data`, `info`, `meta`) as JSON values.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  Server as GrpcServer,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

export type BackendKind = "http" | "grpc";

/** Proxy kinds as GRPC names them; HTTP serves each at `/<kind>` (lower-case). */
export type ProxyKind = "Connect" | "Refresh" | "Subscribe" | "Publish" | "RPC" | "SubRefresh";

export type Json = Record<string, unknown>;

/** One request the backend received. */
export interface ProxyCall {
  kind: ProxyKind;
  body: Json;
  /** HTTP headers, or GRPC metadata (lower-case names, first value). */
  headers: Record<string, string>;
}

/** How the backend answers: a response envelope, or a failure. */
export type BackendReply =
  | { json: Json }
  /** HTTP status 500 (or `status`), GRPC status INTERNAL. */
  | { fail: true; status?: number }
  /** A body that is not a response message. */
  | { garbage: true }
  /** Never answer. */
  | { hang: true };

export type BackendHandler = (call: ProxyCall) => BackendReply | Promise<BackendReply>;

const PROTO = fileURLToPath(new URL("../../proto/proxy.proto", import.meta.url));
const BYTES_FIELDS = new Set(["data", "info", "meta"]);

export class Backend {
  readonly calls: ProxyCall[] = [];
  handler: BackendHandler = () => ({ json: {} });
  private closeServer: () => Promise<void> = async () => {};
  private hanging: (() => void)[] = [];
  /** Proxy endpoint per kind. */
  endpoint: (kind: ProxyKind) => string = () => "";

  private constructor(readonly type: BackendKind) {}

  static async start(type: BackendKind): Promise<Backend> {
    const backend = new Backend(type);
    if (type === "http") await backend.startHttp();
    else await backend.startGrpc();
    return backend;
  }

  /** Calls of one kind received so far. */
  callsOf(kind: ProxyKind): ProxyCall[] {
    return this.calls.filter((call) => call.kind === kind);
  }

  async close(): Promise<void> {
    for (const release of this.hanging.splice(0)) release();
    await this.closeServer();
  }

  private async reply(kind: ProxyKind, body: Json, headers: Record<string, string>): Promise<BackendReply> {
    const call = { kind, body, headers };
    this.calls.push(call);
    const reply = await this.handler(call);
    if ("hang" in reply) await new Promise<void>((resolve) => this.hanging.push(resolve));
    return reply;
  }

  private async startHttp(): Promise<void> {
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const kind = KINDS.find((k) => `/${k.toLowerCase()}` === req.url);
        if (
          kind === undefined ||
          req.method !== "POST" ||
          req.headers["content-type"] !== "application/json"
        ) {
          res.writeHead(400).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Json;
        this.reply(kind, body, flatHeaders(req.headers)).then(
          (reply) => {
            if (res.destroyed) return;
            if ("json" in reply)
              res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply.json));
            else if ("fail" in reply) res.writeHead(reply.status ?? 500).end("backend failure");
            else if ("garbage" in reply) res.writeHead(200).end("<html>not json");
          },
          () => res.writeHead(500).end(),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    this.endpoint = (kind) => `http://127.0.0.1:${port}/${kind.toLowerCase()}`;
    this.closeServer = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  }

  private async startGrpc(): Promise<void> {
    const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: false });
    const pkg = loadPackageDefinition(definition) as GrpcObject;
    const proxy = ((pkg.centrifugal as GrpcObject).centrifugo as GrpcObject).proxy as GrpcObject;
    const service = (proxy.CentrifugoProxy as ServiceClientConstructor).service;
    const server = new GrpcServer();
    const implementation = Object.fromEntries(
      KINDS.map((kind) => [
        kind,
        (call: ServerUnaryCall<Json, unknown>, callback: sendUnaryData<unknown>) => {
          const headers: Record<string, string> = {};
          for (const [key, values] of Object.entries(call.metadata.getMap())) headers[key] = String(values);
          this.reply(kind, fromGrpc(call.request) as Json, headers).then(
            (reply) => {
              if ("json" in reply) callback(null, toGrpc(reply.json));
              else if ("fail" in reply) callback({ code: status.INTERNAL, details: "backend failure" });
              // A field 1 (result) holding a varint where a message belongs: no valid response decodes from it.
              else if ("garbage" in reply) callback(null, { result: "garbage" });
            },
            () => callback({ code: status.INTERNAL }),
          );
        },
      ]),
    );
    // Garbage replies need a serializer that writes bytes no response message decodes from.
    const patched = Object.fromEntries(
      Object.entries(service).map(([name, method]) => [
        name,
        {
          ...method,
          responseSerialize: (value: unknown) =>
            (value as Json).result === "garbage"
              ? Buffer.from([0x0a, 0xff, 0xff, 0xff])
              : method.responseSerialize(value),
        },
      ]),
    );
    server.addService(patched as typeof service, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.endpoint = () => `127.0.0.1:${port}`;
    this.closeServer = async () => {
      server.forceShutdown();
    };
  }
}

const KINDS: readonly ProxyKind[] = ["Connect", "Refresh", "Subscribe", "Publish", "RPC", "SubRefresh"];

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A proto-loader message as the HTTP JSON view: bytes fields parsed as JSON, empty ones left out. */
function fromGrpc(value: unknown, key = ""): unknown {
  if (Buffer.isBuffer(value)) {
    if (value.length === 0) return undefined;
    return BYTES_FIELDS.has(key) ? JSON.parse(value.toString()) : value.toString("base64");
  }
  if (Array.isArray(value)) return value.map((item) => fromGrpc(item));
  if (typeof value === "object" && value !== null) {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      const converted = fromGrpc(v, k);
      if (
        converted !== undefined &&
        converted !== "" &&
        !(Array.isArray(converted) && converted.length === 0)
      )
        out[k] = converted;
    }
    return out;
  }
  return value;
}

/** The HTTP JSON view of a response as a proto-loader message: JSON values of bytes fields encoded. */
function toGrpc(value: unknown, key = ""): unknown {
  if (BYTES_FIELDS.has(key) && value !== undefined) return Buffer.from(JSON.stringify(value));
  if (Array.isArray(value)) return value.map((item) => toGrpc(item));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toGrpc(v, k)]));
  }
  return value;
}
