/** Server binaries the tests run themselves (redis-server, nats-server): found on PATH, spawned, killed by pid. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";

/** Path of `command` on PATH, or undefined when it is not installed. */
export function findBinary(command: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Daemons still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** One running server process. */
export class Daemon {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /**
   * Spawns `binary` and resolves once `ready()` holds; rejects with the server's stderr (after killing it) when
   * it exits or is not ready within 5 s.
   */
  static async start(binary: string, args: string[], ready: () => Promise<boolean>): Promise<Daemon> {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    running.add(child);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    const daemon = new Daemon(child, exited);
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    const deadline = Date.now() + 5000;
    while (!(await ready())) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await daemon.kill();
        throw new Error(`${binary} did not start: ${Buffer.concat(stderr).toString()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return daemon;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGKILL (abrupt, as a crash), then waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, "SIGKILL");
    await this.exited;
  }
}
