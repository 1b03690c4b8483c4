/** Runs the CLI from source in a child process, in a fresh temp dir and without CENTRIFUGO_* env vars. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
// Resolved here because the child runs in a temp dir, where a bare "tsx" would not resolve.
const TSX = import.meta.resolve("tsx");

/** Output of one CLI run. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const root = mkdtempSync(join(tmpdir(), "turbine-cli-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));

/** A fresh empty working directory, removed when the test process exits. */
export function tempDir(): string {
  return mkdtempSync(join(root, "case-"));
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("CENTRIFUGO_")),
  );
  return { ...env, ...extra };
}

/** Runs `turbine <args>` to completion. */
export function run(args: string[], cwd: string, env: Record<string, string> = {}): RunResult {
  const result = spawnSync(process.execPath, ["--import", TSX, MAIN, ...args], {
    cwd,
    env: cleanEnv(env),
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `turbine <args>` and leaves it running. */
export function start(args: string[], cwd: string, env: Record<string, string> = {}) {
  return spawn(process.execPath, ["--import", TSX, MAIN, ...args], { cwd, env: cleanEnv(env) });
}

/** A loopback port free a moment ago, for commands that are given a port to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Resolves with the child's stdout once it contains `text`. */
export function stdoutContaining(child: ChildProcess, text: string): Promise<string> {
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${text} in: ${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(text)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
}
