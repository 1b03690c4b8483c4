/**
 * The process-level last line of defence (issue 18): which uncaught errors keep the server serving, and that no
 * signal without a meaning ends it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { belongsToOneConnection } from "../../src/cli/serve.js";
import { TurbineProcess } from "../helpers/process.js";
import { until } from "../helpers/sessions.js";

function withCode(code: string, make: (message: string) => Error = (m) => new Error(m)): Error {
  return Object.assign(make(code), { code });
}

describe("belongsToOneConnection", () => {
  const oneConnection = [
    "ECONNRESET",
    "EPIPE",
    "ECONNABORTED",
    "ETIMEDOUT",
    "ERR_STREAM_DESTROYED",
    "ERR_STREAM_PREMATURE_CLOSE",
    "ERR_STREAM_WRITE_AFTER_END",
    "ERR_HTTP2_STREAM_ERROR",
    "HPE_INVALID_METHOD",
    "ERR_SSL_WRONG_VERSION_NUMBER",
    "ERR_TLS_HANDSHAKE_TIMEOUT",
    "WS_ERR_INVALID_CLOSE_CODE",
  ];
  for (const code of oneConnection) {
    it(`${code}: logged, serving on`, () => assert.equal(belongsToOneConnection(withCode(code)), true));
  }

  const fatal: [string, unknown][] = [
    ["a TypeError", new TypeError("x is undefined")],
    ["a RangeError with a code", withCode("ERR_OUT_OF_RANGE", (m) => new RangeError(m))],
    ["an unknown code", withCode("EMFILE")],
    ["an Error without a code", new Error("boom")],
    ["a rejection with a string", "ECONNRESET"],
    ["a rejection with a plain object", { code: "ECONNRESET" }],
    ["undefined", undefined],
  ];
  for (const [name, err] of fatal) {
    it(`${name}: fatal`, () => assert.equal(belongsToOneConnection(err), false));
  }
});

/**
 * An RPC handlers module (loaded by the server at start) that, on SIGTTIN, lets `throwing` escape to the process
 * level as an unhandled rejection and as an uncaught exception: errors no handler of Turbine's caught.
 */
function escapingModule(throwing: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "turbine-guard-")), "handlers.mjs");
  writeFileSync(
    file,
    `process.on("SIGTTIN", () => {\n  void Promise.reject(${throwing});\n  throw ${throwing};\n});\n` +
      "export default [];\n",
  );
  return file;
}

describe("errors that escape every handler", { timeout: 60_000 }, () => {
  it("one connection's: logged, and the server serves on", async () => {
    const module = escapingModule(`Object.assign(new Error("peer reset"), { code: "ECONNRESET" })`);
    const turbine = await TurbineProcess.start({
      health: { enabled: true },
      rpc: { handlers_module: module },
    });
    try {
      process.kill(turbine.pid, "SIGTTIN");
      await until(
        () => turbine.log.split("uncaught connection error, serving on").length === 3,
        "both errors to be logged",
      );
      assert.equal((await fetch(`http://127.0.0.1:${turbine.port}/health`)).status, 200);
    } finally {
      assert.equal(await turbine.stop("SIGTERM"), 0, turbine.log);
    }
  });

  it("anything else: logged as fatal, exit 1", async () => {
    const module = escapingModule(`new TypeError("cannot read properties of undefined")`);
    const turbine = await TurbineProcess.start({ rpc: { handlers_module: module } });
    process.kill(turbine.pid, "SIGTTIN");
    await until(() => !alive(turbine.pid), "the process to exit");
    assert.equal(await turbine.stop(), 1, turbine.log);
    assert.match(turbine.log, /"level":"fatal".*"message":"uncaught error, exiting"/);
  });
});

describe("signals without a meaning", { timeout: 60_000 }, () => {
  it("are ignored: the server keeps serving, and SIGUSR1 opens no inspector", async () => {
    const turbine = await TurbineProcess.start({ health: { enabled: true } });
    try {
      for (const signal of ["SIGPIPE", "SIGWINCH"] as const) process.kill(turbine.pid, signal);
      const logged = ["SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGIO", "SIGPWR"] as const;
      for (const signal of logged) {
        process.kill(turbine.pid, signal);
        await until(() => ignoredSignals(turbine.log).includes(signal), `${signal} to be logged as ignored`);
      }
      const health = await fetch(`http://127.0.0.1:${turbine.port}/health`);
      assert.equal(health.status, 200);
      assert.doesNotMatch(turbine.log, /Debugger listening/);
    } finally {
      assert.equal(await turbine.stop("SIGTERM"), 0, turbine.log);
    }
  });
});

function ignoredSignals(log: string): string[] {
  return log
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { message?: string; signal?: string })
    .filter((line) => line.message === "signal ignored")
    .map((line) => line.signal ?? "");
}

/** Whether the process still exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
