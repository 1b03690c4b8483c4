import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCertificates } from "./certificates.js";
import { Daemon, findBinary } from "./daemon.js";
import { freePort } from "./redis.js";
import { toolMissing } from "./tools.js";

const binary = findBinary("nats-server");

/** Why the NATS tests cannot run here, or false when they can. Only a missing binary skips them; CI installs it. */
export const natsMissing: string | false = toolMissing(
  binary === undefined ? "nats-server is not installed (apt-get install -y nats-server)" : false,
);

/** A `nats-server` of the test's own on a free loopback port. */
export class NatsServer {
  private process: Daemon | undefined;

  private constructor(
    readonly port: number,
    /** With JetStream (`-js`), storing in this temp dir; undefined without. */
    private readonly storeDir: string | undefined,
    /** With these, clients must connect over TLS with a certificate signed by the test CA. */
    private readonly tls: TestCertificates | undefined,
  ) {}

  /**
   * Starts a server on a free port (with JetStream, and requiring TLS with client certificates, when asked) and
   * waits until it greets clients.
   */
  static async start(options: { jetstream?: boolean; tls?: TestCertificates } = {}): Promise<NatsServer> {
    for (let attempt = 0; ; attempt++) {
      const storeDir = options.jetstream ? mkdtempSync(join(tmpdir(), "turbine-nats-")) : undefined;
      const server = new NatsServer(await freePort(), storeDir, options.tls);
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
    const port = this.port;
    const jetstream = this.storeDir === undefined ? [] : ["-js", "-sd", this.storeDir];
    const tls = this.tls === undefined ? [] : tlsArguments(this.tls);
    this.process = await Daemon.start(
      binary,
      ["-a", "127.0.0.1", "-p", String(port), ...jetstream, ...tls],
      () => greets(port),
    );
  }

  /** Stops the server and removes its JetStream store. */
  async close(): Promise<void> {
    await this.stop();
    if (this.storeDir !== undefined) rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** Stops the server by pid (SIGKILL: abrupt, as a crash) and waits for it to exit. Keeps the port. */
  async stop(): Promise<void> {
    const daemon = this.process;
    this.process = undefined;
    await daemon?.kill();
  }
}

/** TLS required, with a client certificate the test CA signed (`--tlsverify`). */
function tlsArguments(certificates: TestCertificates): string[] {
  const { serverCertFile, serverKeyFile, caFile } = certificates;
  return ["--tlsverify", "--tlscert", serverCertFile, "--tlskey", serverKeyFile, "--tlscacert", caFile];
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
