/**
 * The process-level last line of defence (issue 18): which uncaught errors keep the server serving, and that no
 * signal without a meaning ends it.
 */
import assert from "node:assert/strict";
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
