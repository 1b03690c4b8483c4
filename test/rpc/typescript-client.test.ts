/**
 * The generated TypeScript client (examples/tasks/clients/typescript) against a live Turbine serving the
 * handlers in-process and through its RPC proxy: typed results of two methods, an RPC error with its code, a
 * validation error, a clean timeout on a slow handler, the personal channel; and `tsc` holding calls to the
 * generated types.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import {
  APIClient,
  CentrifugoRPCClient,
  ConnectionError,
  RPCError,
  type Task,
  TimeoutError,
  ValidationError,
} from "../../examples/tasks/clients/typescript/client.js";
import { freePort } from "../helpers/redis.js";
import type { TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { EXAMPLE_CLIENTS, keepPublishing, SERVING_MODES, startRpcServer } from "./live.js";

const run = promisify(execFile);

for (const mode of SERVING_MODES)
  describe(`generated TypeScript client, ${mode} handlers`, () => {
    let server: TestServer;
    let rpc: CentrifugoRPCClient;
    let api: APIClient;

    before(async () => {
      server = await startRpcServer(mode);
      // No `websocket` option: Node 20 has no global WebSocket, so the client finds the ws package itself.
      rpc = new CentrifugoRPCClient(server.url, await connectToken("42"), "42");
      await rpc.connect();
      api = new APIClient(rpc);
    });
    after(async () => {
      rpc.disconnect();
      await server.close();
    });

    it("calls two methods and gets typed results", async () => {
      const stats = await api.tasksGetStats({ user_id: "42" });
      assert.deepEqual(stats, {
        user_id: "42",
        total: 3,
        completed: 1,
        pending: 2,
        by_priority: { low: 1, normal: 1, high: 1 },
      });
      const listed = await api.tasksList({ limit: 10, filter: { status: "open" } });
      const tasks: Task[] = listed.tasks;
      assert.deepEqual(
        tasks.map((task) => task.id),
        ["t2", "t3"],
      );
      const activity = tasks[0]?.last_activity;
      assert.equal(activity?.kind, "comment");
      if (activity?.kind === "comment") assert.equal(activity.author, "Ada");
    });

    it("an RpcError arrives as RPCError with its code", async () => {
      const err = await api.tasksGet({ id: "nope" }).catch((e: unknown) => e);
      assert.ok(err instanceof RPCError && !(err instanceof ValidationError));
      assert.equal(err.code, 404);
      assert.equal(err.message, "task nope not found");
    });

    it("invalid params arrive as ValidationError (422)", async () => {
      const err = await api.tasksList({ limit: 1000, filter: {} }).catch((e: unknown) => e);
      assert.ok(err instanceof ValidationError);
      assert.equal(err.code, 422);
      assert.match(err.message, /limit/);
    });

    it("a slow handler times out cleanly, and the client keeps working", async () => {
      const err = await api.reportsExport({ delay_ms: 1500, format: "csv" }, 200).catch((e: unknown) => e);
      assert.ok(err instanceof TimeoutError, String(err));
      const report = await api.reportsExport({ delay_ms: 0, format: "pdf" });
      assert.deepEqual(report, { url: "https://example.com/report.pdf", size: "unknown" });
    });

    it("receives publications of the personal channel", async () => {
      const received = new Promise<[string, unknown]>((resolve) =>
        rpc.onPublication((channel, data) => resolve([channel, data])),
      );
      const stop = keepPublishing(server, "#42", { hello: "42" });
      try {
        assert.deepEqual(await within(received, "a personal publication"), ["#42", { hello: "42" }]);
      } finally {
        stop();
      }
    });

    it("a refused connect is a ConnectionError with the disconnect code", async () => {
      const bad = new CentrifugoRPCClient(server.url, "not-a-jwt", "42", {
        centrifuge: { websocket: WebSocket },
      });
      const err = await within(
        bad.connect().catch((e: unknown) => e),
        "the refused connect",
      );
      bad.disconnect();
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.code, 3500);
      assert.equal(err.cause, "invalid token");
    });

    it("a wrong path fails the connect with the server's answer as the cause", async () => {
      const wrong = new CentrifugoRPCClient(server.url.replace("/connection/websocket", "/nope"), "t", "42");
      const err = await within(
        wrong.connect().catch((e: unknown) => e),
        "the connect to a wrong path",
      );
      assert.ok(err instanceof ConnectionError, String(err));
      assert.match(String(err.cause), /404/);
    });

    it("a second connect() returns the same connection, and it keeps working", async () => {
      const again = rpc.connect();
      assert.equal(again, rpc.connect());
      await within(again, "the second connect");
      assert.equal((await api.tasksGetStats({ user_id: "42" })).total, 3);
    });

    it("a call after disconnect() is a ConnectionError at once; connect() again works", async () => {
      const own = new CentrifugoRPCClient(server.url, await connectToken("42"), "42");
      const ownApi = new APIClient(own);
      assert.equal(own.connect(), own.connect());
      await within(own.connect(), "connect");
      own.disconnect();
      const err = await within(
        ownApi.tasksGetStats({ user_id: "42" }).catch((e: unknown) => e),
        "the call after disconnect (before the 30 s call timeout)",
      );
      assert.ok(err instanceof ConnectionError, String(err));
      await within(own.connect(), "connect after disconnect");
      assert.equal((await ownApi.tasksGetStats({ user_id: "42" })).total, 3);
      own.disconnect();
    });
  });

describe("generated TypeScript client without a server", () => {
  it("an unreachable server fails the connect with the transport's error as the cause", async () => {
    const port = await freePort();
    const rpc = new CentrifugoRPCClient(`ws://127.0.0.1:${port}/connection/websocket`, "t", "42");
    const err = await within(
      rpc.connect().catch((e: unknown) => e),
      "the connect to a closed port",
    );
    assert.ok(err instanceof ConnectionError, String(err));
    assert.match(String(err.cause), /ECONNREFUSED/);
  });

  it("a server that never answers the handshake fails within the connect timeout, saying so", async () => {
    const silent = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(silent, "listening");
    try {
      const { port } = silent.address() as AddressInfo;
      const rpc = new CentrifugoRPCClient(`ws://127.0.0.1:${port}/connection/websocket`, "t", "42", {
        connectTimeoutMs: 300,
      });
      const err = await within(
        rpc.connect().catch((e: unknown) => e),
        "the connect to a silent server",
      );
      assert.ok(err instanceof ConnectionError, String(err));
      assert.match(err.message, /not connected within 300 ms/);
      assert.equal(err.cause, "no handshake reply");
    } finally {
      for (const socket of silent.clients) socket.terminate();
      silent.close();
    }
  });

  it("a call before connect() is a ConnectionError at once", async () => {
    const rpc = new CentrifugoRPCClient("ws://127.0.0.1:1/connection/websocket", "t", "42");
    const err = await new APIClient(rpc).tasksGetStats({ user_id: "1" }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
  });
});

describe("generated TypeScript client types", () => {
  it("tsc: the generated types accept right calls and refuse wrong ones", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "turbine-ts-client-"));
    try {
      const client = join(EXAMPLE_CLIENTS, "typescript/client.js").replaceAll("\\", "/");
      writeFileSync(
        join(dir, "usage.ts"),
        [
          `import { APIClient, type Activity } from ${JSON.stringify(client)};`,
          "export async function use(api: APIClient): Promise<string> {",
          '  const stats = await api.tasksGetStats({ user_id: "1", include_archived: true });',
          "  const total: number = stats.total;",
          '  const list = await api.tasksList({ limit: 5, filter: { priority: "high" } });',
          "  const activity: Activity | undefined = list.tasks[0]?.last_activity;",
          '  if (activity?.kind === "status_change") return activity.to;',
          "  // @ts-expect-error user_id must be a string",
          "  await api.tasksGetStats({ user_id: 5 });",
          "  // @ts-expect-error priority is an enum",
          '  await api.tasksList({ limit: 5, filter: { priority: "urgent" } });',
          "  // @ts-expect-error limit is required",
          "  await api.tasksList({ filter: {} });",
          "  // @ts-expect-error the result has no such field",
          "  return String(total) + stats.missing;",
          "}",
          "",
        ].join("\n"),
      );
      const tsc = join(process.cwd(), "node_modules/typescript/bin/tsc");
      const flags = ["--noEmit", "--strict", "--target", "ES2022", "--module", "NodeNext", "--skipLibCheck"];
      await run(process.execPath, [tsc, ...flags, join(dir, "usage.ts")], { cwd: process.cwd() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
