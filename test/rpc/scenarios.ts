/**
 * The Python and Go scenario programs (test/rpc/python/scenario.py, test/rpc/go/main.go) that drive the
 * generated clients against a live Turbine, and the checks of what they report — shared by the in-process
 * and the proxy-mode tests.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { EXAMPLE_CLIENTS, keepPublishing } from "./live.js";
import { toolMissing } from "../helpers/tools.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const PY_SCENARIO = fileURLToPath(new URL("./python/scenario.py", import.meta.url));
const GO_SCENARIO = fileURLToPath(new URL("./go/main.go", import.meta.url));
/** Where Debian installs Go library sources. */
const DEBIAN_GOPATH = "/usr/share/gocode";

/** Why the Python scenario cannot run here, or false. */
export const pythonMissing = toolMissing(
  spawnSync(PYTHON, ["-c", "import websockets, pydantic"], { stdio: "ignore" }).status === 0
    ? false
    : "no python3-websockets or python3-pydantic (apt-get install python3 python3-websockets python3-pydantic)",
);

/** Why the Go scenario cannot run here, or false. */
export const goMissing = toolMissing(
  spawnSync("go", ["version"], { stdio: "ignore" }).status !== 0
    ? "no go toolchain (apt-get install golang-go)"
    : !existsSync(join(DEBIAN_GOPATH, "src/github.com/gorilla/websocket"))
      ? "no gorilla/websocket (apt-get install golang-github-gorilla-websocket-dev)"
      : false,
);

/** Run `program args…` while the user's personal channel gets publications; parse its JSON report. */
async function scenario(
  server: TestServer,
  hello: string,
  program: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
) {
  const stop = keepPublishing(server, "#42", { hello });
  try {
    const token = await connectToken("42");
    const { stdout } = await run(program, [...args, server.url, token], { timeout: 60_000, env });
    return JSON.parse(stdout) as Record<string, unknown>;
  } finally {
    stop();
  }
}

/** The Python scenario's report, for the client package in `clients` (default: the example's, Pydantic models). */
export function pythonScenario(
  server: TestServer,
  clients = join(EXAMPLE_CLIENTS, "python"),
): Promise<Record<string, unknown>> {
  return scenario(server, "python", PYTHON, [PY_SCENARIO, clients]);
}

/** What the Python scenario must report, whichever way the handlers are served and the models are made. */
export function checkPythonScenario(out: Record<string, unknown>, models: "pydantic" | "dataclasses"): void {
  assert.equal(out.one_connection, true);
  assert.equal(out.after_disconnect, "ConnectionError");
  assert.deepEqual(out.subscriptions, ["#42"]);
  assert.deepEqual(out.stats, [
    "TaskStatsResult",
    { user_id: "42", total: 3, completed: 1, pending: 2, by_priority: { low: 1, normal: 1, high: 1 } },
    "TaskStatsResultByPriority",
  ]);
  assert.deepEqual(out.list, [["t2", "t3"], "ActivityComment"]);
  assert.deepEqual(out.rpc_error, [404, "task nope not found"]);
  assert.deepEqual(out.validation_error, [422, true]);
  const [clientModels, errorModule, message] = out.client_validation_error as string[];
  assert.equal(clientModels, models);
  assert.equal(errorModule, models === "pydantic" ? "pydantic" : "rpc_client");
  assert.match(message!, models === "pydantic" ? /user_id/ : /user_id: expected str/);
  assert.equal(out.timeout, "TimeoutError");
  assert.deepEqual(out.after_timeout, { url: "https://example.com/report.pdf", size: "unknown" });
  assert.deepEqual(out.publication, ["#42", { hello: "python" }]);
  assert.deepEqual(out.connect_error, ["ConnectionError", 3500]);
}

/**
 * The Go scenario built offline in module mode: the generated module (its own go.mod) next to a main module
 * that requires it by a replace, with gorilla/websocket replaced by Debian's copy in /usr/share/gocode and
 * GOPROXY=off, so nothing is downloaded.
 */
export class GoScenario {
  private constructor(
    private readonly root: string,
    private readonly modulePath: string,
    private readonly bin: string,
  ) {}

  /** Build `mainGo` (default: test/rpc/go/main.go) against the generated client in `clientDir`. */
  static async build(
    mainGo = GO_SCENARIO,
    clientDir = join(EXAMPLE_CLIENTS, "go/rpcclient"),
  ): Promise<GoScenario> {
    const root = mkdtempSync(join(tmpdir(), "turbine-rpc-go-"));
    const client = join(root, "rpcclient");
    const main = join(root, "scenario");
    cpSync(clientDir, client, { recursive: true });
    mkdirSync(main, { recursive: true });
    cpSync(mainGo, join(main, "main.go"));
    const modulePath = /^module (\S+)$/m.exec(readFileSync(join(client, "go.mod"), "utf8"))![1]!;
    writeFileSync(
      join(main, "go.mod"),
      [
        "module scenario",
        "",
        "go 1.18",
        "",
        `require ${modulePath} v0.0.0`,
        "",
        `replace ${modulePath} => ../rpcclient`,
        "",
        `replace github.com/gorilla/websocket => ${join(DEBIAN_GOPATH, "src/github.com/gorilla/websocket")}`,
        "",
      ].join("\n"),
    );
    const bin = join(root, "bin/scenario");
    await run("go", ["build", "-o", bin, "."], { cwd: main, env: goEnv(root), timeout: 150_000 });
    return new GoScenario(root, modulePath, bin);
  }

  run(server: TestServer, args: string[] = []): Promise<Record<string, unknown>> {
    return scenario(server, "go", this.bin, args);
  }

  /** Run the program with `args`; its exit code and output (a non-zero exit is no error here). */
  outputOf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(this.bin, args, { timeout: 60_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
  }

  /** `go vet` of the generated client (errors if the generated code is suspicious); gofmt's list of unformatted files. */
  async vet(): Promise<string> {
    const env = goEnv(this.root);
    await run("go", ["vet", "./...", this.modulePath], {
      cwd: join(this.root, "scenario"),
      env,
      timeout: 150_000,
    });
    const { stdout } = await run("gofmt", ["-l", join(this.root, "rpcclient")]);
    return stdout;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Module mode, offline: replaces point at local copies; -mod=mod lets go fill in go.sum-free requirements. */
function goEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOPATH: join(root, "gopath"),
    GO111MODULE: "on",
    GOPROXY: "off",
    GOFLAGS: "-mod=mod",
    GOSUMDB: "off",
  };
  if (env.HOME === undefined) env.GOCACHE = join(root, "cache");
  return env;
}

/** What the Go scenario must report, whichever way the handlers are served. */
export function checkGoScenario(out: Record<string, unknown>): void {
  assert.deepEqual(out.subscriptions, ["#42"]);
  assert.deepEqual(out.stats, ["42", 3, 1, 2, 1]);
  assert.equal(out.untyped_call, 2);
  assert.equal(out.nil_slice, true);
  assert.equal(out.after_disconnect, true);
  assert.deepEqual(out.list, [["t2", "t3"], true, true]);
  assert.deepEqual(out.rpc_error, [404, "task nope not found"]);
  assert.match(String(out.validation_error), /limit/);
  assert.equal(out.timeout, true);
  assert.deepEqual(out.after_timeout, ["https://example.com/report.pdf", true]);
  assert.equal(out.int_variant, true);
  assert.deepEqual(out.publication, ["#42", { hello: "go" }]);
  assert.equal(out.connect_error, 3500);
}
