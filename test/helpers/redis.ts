import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Daemon, findBinary } from "./daemon.js";
import { toolMissing } from "./tools.js";

const binary = findBinary("redis-server");

/**
 * Why the Redis tests cannot run here (`describe(..., { skip: redisMissing })`), or false when they can.
 * Only a missing binary skips them; CI installs it.
 */
export const redisMissing: string | false = toolMissing(
  binary === undefined ? "redis-server is not installed (apt-get install -y redis-server)" : false,
);

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
  private process: Daemon | undefined;

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
    const port = this.port;
    this.process = await Daemon.start(
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
      () => ping(port),
    );
  }

  /** Stops the server by pid (SIGKILL: abrupt, as a crash) and waits for it to exit. Keeps the port. */
  async stop(): Promise<void> {
    const daemon = this.process;
    this.process = undefined;
    await daemon?.kill();
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

/** A Redis Sentinel (`redis-server --sentinel`) monitoring `master` under `masterName`, quorum 1. */
export function startSentinel(master: RedisServer, masterName = "mymaster"): Promise<RedisServer> {
  return RedisServer.start({
    configFile: () => `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1\n`,
    args: () => ["--sentinel"],
  });
}
