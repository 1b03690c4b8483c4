import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "./redis.js";

/** Path of Debian's `nats-server`, or undefined when it is not installed. */
function findNatsServer(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const binary = findNatsServer();

/** Servers still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Why the NATS tests cannot run here, or false when they can. Only a missing binary skips them; CI installs it. */
export const natsMissing: string | false =
  binary === undefined ? "nats-server is not installed (apt-get install -y nats-server)" : false;

/** A `nats-server` of the test's own on a free loopback port. */
export class NatsServer {
  private process: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port and waits until it greets clients. */
  static async start(): Promise<NatsServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new NatsServer(await freePort());
      try {
        await server.restart();
        return server;
      } catch (err) {
        // Another process took the port between the probe and the bind: try another one.
        if (attempt >= 4) throw err;
      }
    }
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the server on the same port; resolves once it sends its INFO greeting. */
  async restart(): Promise<void> {
    if (binary === undefined) throw new Error("nats-server is not installed");
    if (this.process !== undefined) throw new Error("nats-server is already running");
    const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(this.port)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.process = child;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    const deadline = Date.now() + 5000;
    while (!(await greets(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `nats-server on port ${this.port} did not start: ${Buffer.concat(stderr).toString()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server by pid (SIGKILL: abrupt, as a crash) and waits for it to exit. Keeps the port. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    await this.exited;
  }
}

/** True when something on the port greets a new connection with NATS's `INFO`. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let greeting = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      greeting += chunk.toString();
      if (greeting.includes("\r\n")) done(greeting.startsWith("INFO "));
    });
  });
}
