import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { start, tempDir } from "./run.js";

/** Resolves when `text` shows up in the child's stdout. */
function waitForOutput(child: ReturnType<typeof start>, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${text}; got: ${output}`)),
      20_000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(text)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
}

test("the root command serves, writes the pid file, logs warnings, and exits 0 on SIGTERM", async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ api_key: "k", client: { token: { hmac_secret_key: "s" } } }),
  );
  const pidFile = join(dir, "turbine.pid");
  const child = start(["-p", "0", "--pid_file", pidFile, "--client.insecure"], dir);
  const output = await waitForOutput(child, '"msg":"serving"');
  assert.match(output, /\\"api_key\\" is a v5 key, use \\"http_api\.key\\"/);
  assert.match(output, /INSECURE client mode enabled/);
  assert.equal(readFileSync(pidFile, "utf8").trim(), String(child.pid));
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  assert.equal(existsSync(pidFile), false, "pid file removed");
});
