/**
 * The package as npm users get it: `npm pack` output laid out in a fresh ESM project and a fresh CommonJS
 * project, each writing a `.ts` handlers module, generating clients with the `turbine` bin, checking its config
 * and serving the handlers in-process from `import` / `require` — all with no loader flags — and calling them
 * through the generated TypeScript client.
 *
 * Each project runs a real `npm install <tgz> centrifuge` (the generated client's peer), preferring the npm cache
 * that this checkout's `npm ci` filled, so only registry metadata is fetched. Needs `npm run build` first (the
 * tarball carries dist/).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { within } from "../helpers/sessions.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NAME = "turbine-realtime";

/** The environment of the apps: no loader flags inherited from the test runner. */
const APP_ENV = { ...process.env, NODE_OPTIONS: "" };

const HANDLERS = `import { z } from "zod";
import { defineRpc, RpcRegistry } from "${NAME}/rpc";

const TaskStatsParams = z.object({ user_id: z.string(), include_completed: z.boolean().optional() });
const TaskStatsResult = z.object({ total: z.number().int(), completed: z.number().int(), pending: z.number().int() });

export default new RpcRegistry([
  defineRpc(
    "tasks.get_stats",
    { params: TaskStatsParams.meta({ id: "TaskStatsParams" }), result: TaskStatsResult.meta({ id: "TaskStatsResult" }) },
    (params: z.infer<typeof TaskStatsParams>) => ({ total: 3, completed: params.include_completed ? 1 : 0, pending: 2 }),
  ),
]);
`;

const CONFIG = `{ client: { insecure: true }, http_server: { address: "127.0.0.1", port: 0 },
  rpc: { handlers_module: "./handlers.ts" }, log: { level: "error" } }`;

const SERVE = {
  esm: `import { startTurbine } from "${NAME}";
const server = await startTurbine({ config: ${CONFIG}, env: {} });
console.log("port " + server.port);
process.stdin.on("end", () => server.close().then(() => process.exit(0)));
process.stdin.resume();
`,
  cjs: `const { startTurbine } = require("${NAME}");
startTurbine({ config: ${CONFIG}, env: {} }).then((server) => {
  console.log("port " + server.port);
  process.stdin.on("end", () => server.close().then(() => process.exit(0)));
  process.stdin.resume();
});
`,
};

type Kind = keyof typeof SERVE;

/** A fresh project of `kind` with the packed package installed from its tarball by npm. */
async function freshProject(root: string, kind: Kind, tarball: string): Promise<string> {
  const app = join(root, kind);
  mkdirSync(app, { recursive: true });
  const manifest = {
    name: `fresh-${kind}`,
    version: "1.0.0",
    private: true,
    ...(kind === "esm" ? { type: "module" } : {}),
  };
  writeFileSync(join(app, "package.json"), JSON.stringify(manifest, null, 2));
  const install = ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, "centrifuge"];
  await run("npm", install, { cwd: app, env: APP_ENV, timeout: 240_000 });
  writeFileSync(join(app, "handlers.ts"), HANDLERS);
  writeFileSync(join(app, kind === "esm" ? "serve.mjs" : "serve.cjs"), SERVE[kind]);
  writeFileSync(join(app, "config.json"), JSON.stringify({ rpc: { handlers_module: "handlers.ts" } }));
  return app;
}

/** The `turbine` bin of the installed package, run with plain node. */
function turbine(app: string, args: string[]) {
  const bin = join(app, "node_modules", NAME, "dist/cli/main.js");
  return run(process.execPath, [bin, ...args], { cwd: app, env: APP_ENV, timeout: 60_000 });
}

/** Start the app's server script; resolves with its port. */
async function serve(app: string, script: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [script], {
    cwd: app,
    env: APP_ENV,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /port (\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", (code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  return { port: await within(port, `${script} to listen`, 60_000), child };
}

describe("the packed package in fresh projects", { timeout: 300_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "turbine-pack-"));
  let tarball = "";

  before(async () => {
    assert.ok(existsSync(join(ROOT, "dist/index.js")), "dist/ is missing: run `npm run build` first");
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], {
      cwd: ROOT,
      timeout: 120_000,
    });
    tarball = join(root, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const kind of ["esm", "cjs"] as const) {
    it(`${kind}: a .ts handlers module generates clients, passes checkconfig and is served, no loader flags`, async () => {
      const app = await freshProject(root, kind, tarball);
      const { stdout } = await turbine(app, ["gen-clients", "--handlers", "handlers.ts", "--output", "sdk"]);
      assert.match(stdout, /wrote \d+ files to sdk/);
      for (const file of ["typescript/client.ts", "python/rpc_client/__init__.py", "go/rpcclient/go.mod"]) {
        assert.ok(existsSync(join(app, "sdk", file)), file);
      }
      await turbine(app, ["checkconfig", "-c", "config.json"]);

      const { port, child } = await serve(app, kind === "esm" ? "serve.mjs" : "serve.cjs");
      try {
        const sdk = (await import(
          join(app, "sdk/typescript/client.ts")
        )) as typeof import("../../examples/tasks/clients/typescript/client.js");
        const rpc = new sdk.CentrifugoRPCClient(`ws://127.0.0.1:${port}/connection/websocket`, "", "42");
        await within(rpc.connect(), "the generated client's connect");
        const stats = await within(
          new sdk.APIClient(rpc).rpc.call("tasks.get_stats", { user_id: "42", include_completed: true }),
          "tasks.get_stats",
        );
        assert.deepEqual(stats, { total: 3, completed: 1, pending: 2 });
        rpc.disconnect();
      } finally {
        child.stdin?.end();
        await within(new Promise((resolve) => child.once("exit", resolve)), "the app to stop");
      }
    });
  }
});
