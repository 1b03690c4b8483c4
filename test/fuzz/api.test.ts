/**
 * Fuzz target: the HTTP server API, body decoding first (every method's route and the legacy `/api` route),
 * then the executor behind it on a memory engine. Any body gets 200 (a result or an API error) or 400 Bad
 * Request; a 500 or a response never written is a crash.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { after, before } from "node:test";
import fc from "fast-check";
import { pino } from "pino";
import { HttpApiHandler } from "../../src/api/http.js";
import { ApiExecutor } from "../../src/api/executor.js";
import { API_METHODS } from "../../src/api/methods.js";
import { loadConfig } from "../../src/config/index.js";
import { Node } from "../../src/core/node.js";
import { MemoryBroker } from "../../src/engine/memory/broker.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import { fuzz, mutated, utf8 } from "./harness.js";
import { anyJsonText, shapedJson } from "./shapes.js";

/** One request: the method's route (`/api/<name>`), or `""` for the legacy route `/api`. */
interface ApiCall {
  method: string;
  body: Uint8Array;
}

const config = loadConfig({
  values: {
    http_api: { insecure: true },
    channel: {
      without_namespace: {
        presence: true,
        history_size: 10,
        history_ttl: "60s",
        allow_subscribe_for_client: true,
      },
    },
  },
  env: {},
}).config;

/**
 * Log lines at error level. The handler logs every 500 it answers; the executor logs what it answers with
 * error 100, which is only a crash when it is a programming error (an invalid glob pattern is expected).
 */
const errors: string[] = [];
const logger = pino(
  { level: "error" },
  new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      errors.push(chunk.toString());
      done();
    },
  }),
);
const node = new Node({
  name: "fuzz",
  version: "0.0.0",
  client: config.client,
  channel: config.channel,
  rpc: config.rpc,
  broker: new MemoryBroker(),
  presenceManager: new MemoryPresenceManager(),
  logger,
});
const handler = new HttpApiHandler(new ApiExecutor(node), config.http_api, logger);
before(() => node.start());
after(() => node.shutdown(100));

const methodBody = fc.oneof(
  ...API_METHODS.map((method) => {
    const shaped = shapedJson(method.request).map(utf8.encode);
    const body = fc.oneof(
      { weight: 4, arbitrary: shaped },
      mutated(shaped),
      fc.constantFrom(utf8.encode("null")),
    );
    return body.map((bytes): ApiCall => ({ method: method.name, body: bytes }));
  }),
);

/** The legacy route: a stream of `{"id":N,"method":M,"params":{…}}` objects. */
const legacyCommand = fc
  .tuple(
    fc.oneof(fc.nat().map(String), fc.constantFrom("-1", "4294967296", "1.5", '"1"', "null")),
    fc.oneof(
      fc.constantFrom(...API_METHODS.map((m) => JSON.stringify(m.name))),
      fc.integer({ min: -2, max: 20 }).map(String),
      anyJsonText,
    ),
    fc.oneof(...API_METHODS.map((m) => shapedJson(m.request, 2)), anyJsonText),
  )
  .map(([id, method, params]) => `{"id":${id},"method":${method},"params":${params}}`);
const legacyBody = fc
  .array(legacyCommand, { minLength: 1, maxLength: 3 })
  .map((commands) => utf8.encode(commands.join("\n")));
const legacyCall = fc
  .oneof({ weight: 3, arbitrary: legacyBody }, mutated(legacyBody))
  .map((body): ApiCall => ({ method: "", body }));

const anyCall = fc
  .tuple(fc.constantFrom("", ...API_METHODS.map((m) => m.name)), fc.uint8Array({ maxLength: 40 }))
  .map(([method, body]): ApiCall => ({ method, body }));

fuzz<ApiCall>({
  name: "api",
  arbitrary: fc.oneof({ weight: 6, arbitrary: methodBody }, { weight: 2, arbitrary: legacyCall }, anyCall),
  numRuns: 1500,
  // Corpus files: the method name, a newline, then the body exactly ("" for the legacy route).
  fromCorpus: (content) => {
    const newline = content.indexOf(0x0a);
    return { method: content.toString("utf8", 0, newline), body: content.subarray(newline + 1) };
  },
  toCorpus: ({ method, body }) => Buffer.concat([utf8.encode(`${method}\n`), body]),
  check: async (call) => {
    errors.length = 0;
    const { status, body } = await post(call.method === "" ? "/api" : `/api/${call.method}`, call.body);
    assert.ok(status === 200 || status === 400, `status ${status}: ${body}`);
    if (status === 200) for (const line of body.split("\n")) JSON.parse(line);
    assert.deepEqual(errors.filter(isCrash), []);
  },
});

/** A request through the handler with in-memory stand-ins for Node's request and response. */
function post(path: string, body: Uint8Array): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = Object.assign(new EventEmitter(), {
      method: "POST",
      url: path,
      headers: {},
      complete: false,
    });
    let status = 0;
    const res = {
      headersSent: false,
      shouldKeepAlive: true,
      writeHead(code: number) {
        status = code;
        this.headersSent = true;
        return this;
      },
      end: (data?: Uint8Array | string) =>
        resolve({ status, body: data === undefined ? "" : Buffer.from(data).toString() }),
      destroy: () => reject(new Error("response destroyed")),
    };
    if (!handler.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse)) {
      reject(new Error(`no route ${path}`));
      return;
    }
    if (body.length > 0) req.emit("data", Buffer.from(body));
    req.complete = true;
    req.emit("end");
  });
}

const PROGRAMMING_ERRORS = new Set(["TypeError", "RangeError", "ReferenceError"]);

function isCrash(line: string): boolean {
  const entry = JSON.parse(line) as { msg?: string; err?: { type?: string } };
  return entry.msg === "error serving API request" || PROGRAMMING_ERRORS.has(entry.err?.type ?? "");
}
