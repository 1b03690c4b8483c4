/**
 * Admin tokens interchange with Centrifugo's: gorilla/securecookie itself (Debian's
 * golang-github-gorilla-securecookie-dev, GOPATH mode, offline) decodes the tokens Turbine issues, and Turbine
 * verifies the tokens securecookie encodes.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { signAdminToken, verifyAdminToken } from "../../src/admin/token.js";
import { toolMissing } from "../helpers/tools.js";

const DEBIAN_GOPATH = "/usr/share/gocode";
const PROGRAM = fileURLToPath(new URL("./go/securecookie.go", import.meta.url));
const goMissing = toolMissing(
  spawnSync("go", ["version"], { stdio: "ignore" }).status !== 0
    ? "no go toolchain (apt-get install golang-go)"
    : !existsSync(join(DEBIAN_GOPATH, "src/github.com/gorilla/securecookie"))
      ? "no gorilla/securecookie (apt-get install golang-github-gorilla-securecookie-dev)"
      : false,
);

describe("admin tokens and gorilla/securecookie", { skip: goMissing, timeout: 300_000 }, () => {
  let work: string;
  let binary: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "turbine-securecookie-"));
    binary = join(work, "securecookie");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GOPATH: DEBIAN_GOPATH,
      GO111MODULE: "off",
      GOPROXY: "off",
      GOFLAGS: "",
    };
    if (env.HOME === undefined) env.GOCACHE = join(work, "cache");
    await run("go", ["build", "-o", binary, PROGRAM], env, 240_000);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it("securecookie decodes a token Turbine issued", async () => {
    const token = signAdminToken("shared-admin-secret");
    assert.equal(await run(binary, ["decode", "shared-admin-secret", token]), "authorized");
    assert.match(await run(binary, ["decode", "another-secret", token]), /^error: /);
  });

  it("Turbine verifies a token securecookie encoded, with that secret only", async () => {
    const token = await run(binary, ["encode", "shared-admin-secret"]);
    assert.equal(verifyAdminToken("shared-admin-secret", token), true);
    assert.equal(verifyAdminToken("another-secret", token), false);
  });
});

/** Run a program to completion (bounded by `timeout` ms); its trimmed stdout. */
function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeout = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${file} ${args.join(" ")} failed (timeout ${timeout} ms): ${stderr}`, { cause: err }),
        );
      else resolve(stdout.trim());
    });
  });
}
