import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort, RedisServer } from "./redis.js";

const run = promisify(execFile);

/**
 * A Redis Cluster of the test's own: `masters` redis-servers (no replicas) on free loopback ports, their cluster
 * bus on other free ports, slots spread by `redis-cli --cluster create`. Stopped by pid like any RedisServer.
 */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  /** Starts the nodes, creates the cluster and waits until every node reports `cluster_state:ok`. */
  static async start(masters = 3): Promise<RedisCluster> {
    const nodes = await Promise.all(
      Array.from({ length: masters }, async () => {
        const busPort = await freePort();
        return RedisServer.start({
          args: (dir) => [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            join(dir, "nodes.conf"),
            "--cluster-port",
            String(busPort),
            "--cluster-node-timeout",
            "5000",
          ],
        });
      }),
    );
    const cluster = new RedisCluster(nodes);
    try {
      await run("redis-cli", ["--cluster", "create", ...cluster.seeds, "--cluster-yes"], { timeout: 30_000 });
      await Promise.all(nodes.map((node) => waitForClusterOk(node.port)));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** `127.0.0.1:<port>` of every node, as `cluster_address` takes them. */
  get seeds(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }
}

async function waitForClusterOk(port: number): Promise<void> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const info = String(await client.call("CLUSTER", "INFO"));
      if (info.includes("cluster_state:ok")) return;
      if (Date.now() > deadline) throw new Error(`redis cluster node ${port} is not ok: ${info}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
  }
}
