import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Path of Debian's `redis-server`, or undefined when it is not installed. */
function findRedisServer(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const binary = findRedisServer();

/** Servers still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Why the Redis tests cannot run here (`describe(..., { skip: redisMissing })`), or false when they can.
 * Only a missing binary skips them; CI installs it.
 */
export const redisMissing: string | false =
  binary === undefined ? "redis-server is not installed (apt-get install -y redis-server)" : false;

/** How to start a server beyond the defaults (loopback port, no persistence). */
export interface RedisServerOptions {
  /**
   * Append every write to an fsynced AOF before replying (`appendonly yes`, `appendfsync always`), so what a
   * client saw acknowledged survives a SIGKILL and `restart()`. Off: nothing is persisted.
   */
  durable?: boolean;
  /**
   * Extra arguments, given the server's own directory (for config, certificate or cluster files). Ports they
   * need must be free; the start is retried on other ports only for the server's own port.
   */
  args?: (dir: string) => string[];
  /** Written to `<dir>/redis.conf` and passed first (Sentinel needs a writable config file). */
  configFile?: (dir: string) => string;
}

/** A `redis-server` of the test's own, on a free loopback port, without persistence unless asked. */
export class RedisServer {
  private process: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    /** The server's own directory, removed by {@link close}. */
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server on a free port and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), "turbine-redis-"));
      const server = new RedisServer(await freePort(), dir, options);
      try {
        await server.restart();
        return server;
      } catch (err) {
        // Another process took the port between the probe and the bind: try another one.
        server.removeDir();
        if (attempt >= 4) throw err;
      }
    }
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** (Re)starts the server on the same port (empty unless durable); resolves once it answers PING. */
  async restart(): Promise<void> {
    if (binary === undefined) throw new Error("redis-server is not installed");
    if (this.process !== undefined) throw new Error("redis-server is already running");
    const configFile = this.options.configFile;
    const leading: string[] = [];
    if (configFile !== undefined) {
      const path = join(this.dir, "redis.conf");
      writeFileSync(path, configFile(this.dir));
      leading.push(path);
    }
    const child = spawn(
      binary,
      [
        ...leading,
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        this.options.durable ? "yes" : "no",
        "--appendfsync",
        "always",
        "--dir",
        this.dir,
        "--daemonize",
        "no",
        ...(this.options.args?.(this.dir) ?? []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
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
    while (!(await ping(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `redis-server on port ${this.port} did not start: ${Buffer.concat(stderr).toString()}`,
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

  /** Stops the server and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    this.removeDir();
  }

  private removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(label = "test"): string {
  return `turbine-${label}-${randomBytes(4).toString("hex")}`;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something on the port answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
