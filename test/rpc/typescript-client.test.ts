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
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  APIClient,
  CentrifugoRPCClient,
  ConnectionError,
  RPCError,
  type Task,
  TimeoutError,
  ValidationError,
} from "../../examples/tasks/clients/typescript/client.js";
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
      rpc = new CentrifugoRPCClient(server.url, await connectToken("42"), "42", {
        centrifuge: { websocket: WebSocket },
      });
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
      const err = await bad.connect().catch((e: unknown) => e);
      bad.disconnect();
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.code, 3500);
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
