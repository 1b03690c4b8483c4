/**
 * A Turbine server in its own OS process: the CLI run from source with a config file, on a free loopback port
 * it picks itself (port 0; the first "serving" log line says which), stopped by pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/** Processes still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A started Turbine process. */
export class TurbineProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    /** The HTTP port the server bound. */
    readonly port: number,
    private readonly exited: Promise<number | null>,
    private readonly output: string[],
  ) {}

  /**
   * Writes `config` (Centrifugo's config-file shape; the HTTP address and port are set here) to a temp file,
   * starts `turbine -c <file>` and resolves once it serves. Rejects with the process output when it exits or
   * does not serve within `timeoutMs`.
   */
  static async start(config: Record<string, unknown>, timeoutMs = 30_000): Promise<TurbineProcess> {
    const dir = mkdtempSync(join(tmpdir(), "turbine-process-"));
    const file = join(dir, "config.json");
    const log = { level: "info", ...(config.log as Record<string, unknown> | undefined) };
    writeFileSync(
      file,
      JSON.stringify({ ...config, log, http_server: { address: "127.0.0.1", port: 0 } }, null, 2),
    );
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("CENTRIFUGO_")),
    );
    const child = spawn(process.execPath, ["--import", TSX, MAIN, "-c", file], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        running.delete(child);
        resolve(code);
      }),
    );
    const output: string[] = [];
    // Logs go to stderr as Centrifugo's do; stdout is read too, so that nothing logged there is missed.
    const serving = new Promise<number>((resolve) => {
      for (const input of [child.stderr!, child.stdout!]) {
        createInterface({ input }).on("line", (line) => {
          output.push(line);
          const port = servingPort(line);
          if (port !== undefined) resolve(port);
        });
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      const fail = (why: string) => reject(new Error(`turbine ${why}:\n${output.join("\n")}`));
      timer = setTimeout(() => fail(`did not serve within ${timeoutMs} ms`), timeoutMs);
      void exited.then((code) => fail(`exited with ${code} before serving`));
    });
    try {
      const port = await Promise.race([serving, failed]);
      return new TurbineProcess(child, dir, port, exited, output);
    } catch (err) {
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The config file the process was started with (`-c`), to rewrite before a SIGHUP. */
  get configFile(): string {
    return join(this.dir, "config.json");
  }

  /** `ws://127.0.0.1:<port>/connection/websocket` */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/connection/websocket`;
  }

  /** Every line the process wrote so far (stderr and stdout), for failure messages. */
  get log(): string {
    return this.output.join("\n");
  }

  /**
   * Sends `signal` by pid (SIGTERM: graceful shutdown, SIGKILL: a crash) and resolves with the exit code once
   * the process is gone; the temp dir goes with it.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, signal);
    const code = await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

/**
 * The port of a "serving" line, if `line` is one: the server logs one per listener, with a message that is
 * `serving` or starts with `serving ` and a numeric `port`; the first one is the external listener.
 */
export function servingPort(line: string): number | undefined {
  try {
    const { message, port } = JSON.parse(line) as { message?: unknown; port?: unknown };
    const serving = message === "serving" || (typeof message === "string" && message.startsWith("serving "));
    return serving && typeof port === "number" ? port : undefined;
  } catch {
    return undefined;
  }
}
