/**
 * The Python and Go scenario programs (test/rpc/python/scenario.py, test/rpc/go/main.go) that drive the
 * generated clients against a live Turbine, and the checks of what they report — shared by the in-process
 * and the proxy-mode tests.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
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
  spawnSync(PYTHON, ["-c", "import websockets"], { stdio: "ignore" }).status === 0
    ? false
    : "no python3-websockets (apt-get install python3 python3-websockets)",
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

/** The Python scenario's report. */
export function pythonScenario(server: TestServer): Promise<Record<string, unknown>> {
  return scenario(server, "python", PYTHON, [PY_SCENARIO, EXAMPLE_CLIENTS + "python"]);
}

/** What the Python scenario must report, whichever way the handlers are served. */
export function checkPythonScenario(out: Record<string, unknown>): void {
  assert.deepEqual(out.subscriptions, ["#42"]);
  assert.deepEqual(out.stats, [
    "TasksGetStatsResult",
    { user_id: "42", total: 3, completed: 1, pending: 2, by_priority: { low: 1, normal: 1, high: 1 } },
    "TasksGetStatsResultByPriority",
  ]);
  assert.deepEqual(out.list, [["t2", "t3"], "ActivityComment"]);
  assert.deepEqual(out.rpc_error, [404, "task nope not found"]);
  assert.deepEqual(out.validation_error, [422, true]);
  assert.match(String(out.client_validation_error), /user_id: expected str/);
  assert.equal(out.timeout, "TimeoutError");
  assert.deepEqual(out.after_timeout, { url: "https://example.com/report.pdf", size: "unknown" });
  assert.deepEqual(out.publication, ["#42", { hello: "python" }]);
  assert.deepEqual(out.connect_error, ["ConnectionError", 3500]);
}

/** The Go scenario built offline (GOPATH mode over Debian's /usr/share/gocode) into a temporary directory. */
export class GoScenario {
  private constructor(
    private readonly gopath: string,
    private readonly bin: string,
  ) {}

  static async build(): Promise<GoScenario> {
    const gopath = mkdtempSync(join(tmpdir(), "turbine-rpc-go-"));
    const client = join(gopath, "src/rpcclient");
    const main = join(gopath, "src/scenario");
    mkdirSync(client, { recursive: true });
    mkdirSync(main, { recursive: true });
    cpSync(join(EXAMPLE_CLIENTS, "go/rpcclient/client.go"), join(client, "client.go"));
    cpSync(GO_SCENARIO, join(main, "main.go"));
    const bin = join(gopath, "bin/scenario");
    await run("go", ["build", "-o", bin, "scenario"], { cwd: main, env: goEnv(gopath), timeout: 150_000 });
    return new GoScenario(gopath, bin);
  }

  run(server: TestServer): Promise<Record<string, unknown>> {
    return scenario(server, "go", this.bin, []);
  }

  /** `go vet` of the generated client (errors if the generated code is suspicious); gofmt's list of unformatted files. */
  async vet(): Promise<string> {
    await run("go", ["vet", "rpcclient"], { cwd: this.gopath, env: goEnv(this.gopath), timeout: 150_000 });
    const { stdout } = await run("gofmt", ["-l", join(this.gopath, "src/rpcclient")]);
    return stdout;
  }

  remove(): void {
    rmSync(this.gopath, { recursive: true, force: true });
  }
}

function goEnv(gopath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOPATH: `${gopath}:${DEBIAN_GOPATH}`,
    GO111MODULE: "off",
    GOPROXY: "off",
    GOFLAGS: "",
  };
  if (env.HOME === undefined) env.GOCACHE = join(gopath, "cache");
  return env;
}

/** What the Go scenario must report, whichever way the handlers are served. */
export function checkGoScenario(out: Record<string, unknown>): void {
  assert.deepEqual(out.subscriptions, ["#42"]);
  assert.deepEqual(out.stats, ["42", 3, 1, 2, 1]);
  assert.deepEqual(out.list, [["t2", "t3"], true, true]);
  assert.deepEqual(out.rpc_error, [404, "task nope not found"]);
  assert.match(String(out.validation_error), /limit/);
  assert.equal(out.timeout, true);
  assert.deepEqual(out.after_timeout, ["https://example.com/report.pdf", true]);
  assert.equal(out.int_variant, true);
  assert.deepEqual(out.publication, ["#42", { hello: "go" }]);
  assert.equal(out.connect_error, 3500);
}
