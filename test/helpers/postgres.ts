/**
 * A PostgreSQL server of the test's own: `initdb` into a temp dir, `postgres` on a free loopback port with its
 * unix socket in that dir, stopped by pid. Debian keeps the binaries in /usr/lib/postgresql/<version>/bin, off
 * PATH; PATH is tried when that layout is absent. PostgreSQL refuses to run as root, so under root both run as
 * the `postgres` user (setpriv, which execs: the pid we hold is the server's), with the temp dir theirs.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { findBinary } from "./daemon.js";
import { freePort } from "./redis.js";
import { toolMissing } from "./tools.js";

const DEBIAN_ROOT = "/usr/lib/postgresql";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** The directory holding initdb and postgres: the newest Debian version, else the one of `initdb` on PATH. */
function findBinDir(): string | undefined {
  if (existsSync(DEBIAN_ROOT)) {
    const versions = readdirSync(DEBIAN_ROOT)
      .filter((v) => existsSync(join(DEBIAN_ROOT, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(DEBIAN_ROOT, versions[0], "bin");
  }
  const initdb = findBinary("initdb");
  return initdb === undefined ? undefined : initdb.slice(0, initdb.lastIndexOf("/"));
}

const binDir = findBinDir();

/** Why the PostgreSQL tests cannot run here, or false when they can; CI must have it (`toolMissing`). */
export const postgresMissing: string | false = toolMissing(
  binDir === undefined ? "PostgreSQL is not installed (apt-get install -y postgresql)" : false,
);

/** uid and gid of the `postgres` user when running as root; undefined otherwise. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** `command args` as the server user: directly, or through setpriv under root. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  const user = serverUser();
  if (user === undefined) return [command, args];
  return [
    "setpriv",
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", command, ...args],
  ];
}

/** Processes still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A started server: `dsn` reaches its `postgres` database as the `postgres` superuser (trust auth). */
export class PostgresServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  get dsn(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** initdb, then postgres on a free port; resolves once it answers a query. */
  static async start(): Promise<PostgresServer> {
    if (binDir === undefined) throw new Error("PostgreSQL is not installed");
    const dir = mkdtempSync(join(tmpdir(), "turbine-postgres-"));
    const user = serverUser();
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    const data = join(dir, "data");
    const [initdb, initArgs] = asServerUser(join(binDir, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    execFileSync(initdb, initArgs, { stdio: "pipe" });
    const port = await freePort();
    const [postgres, args] = asServerUser(join(binDir, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
    ]);
    const child = spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"] });
    running.add(child);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    const server = new PostgresServer(child, exited, port, dir);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await server.answers())) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.close();
        throw new Error(`postgres did not start: ${Buffer.concat(stderr).toString()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  }

  /** A query on a connection of its own. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.dsn });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown by pid (SIGINT; SIGKILL if it lingers), then the temp dir goes. */
  async close(): Promise<void> {
    const { pid } = this.child;
    if (this.child.exitCode === null && this.child.signalCode === null && pid !== undefined) {
      process.kill(pid, "SIGINT");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async answers(): Promise<boolean> {
    try {
      await this.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }
}
