/**
 * Let's Encrypt's ACME test server `pebble` (Debian package `pebble`) of the test's own, on free loopback ports,
 * with a DNS server in this process that answers every A query with 127.0.0.1: pebble validates challenges
 * for any name against the servers the test runs on `httpPort` (http-01) and `tlsPort` (tls-alpn-01).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type Socket as UdpSocket, createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "./daemon.js";
import { freePort } from "./redis.js";
import { TEST_CERT_PEM, TEST_KEY_PEM } from "./tls-fixture.js";
import { toolMissing } from "./tools.js";

const binary = findBinary("pebble");

/** Why the pebble tests cannot run here, or false when they can. CI installs it. */
export const pebbleMissing: string | false = toolMissing(
  binary === undefined ? "pebble is not installed (apt-get install -y pebble)" : false,
);

/** Processes still running; killed when the test process exits, whatever way it exits. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Where pebble's validation authority connects to: the ports of the servers under test on 127.0.0.1. */
export interface PebblePorts {
  httpPort: number;
  tlsPort: number;
}

/** A running pebble and its DNS server. */
export class Pebble {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly dns: UdpSocket,
    private readonly dir: string,
    private readonly port: number,
    private readonly managementPort: number,
  ) {}

  /** The PEM CA certificate of pebble's own HTTPS listeners (directory and management API). */
  static readonly ca = TEST_CERT_PEM;

  /**
   * Starts pebble with `PEBBLE_VA_NOSLEEP=1` (no random validation delay; validations still really happen)
   * and no nonce rejection, and resolves once its directory answers.
   */
  static async start(ports: PebblePorts): Promise<Pebble> {
    if (binary === undefined) throw new Error("pebble is not installed");
    const dns = await startDns();
    const dir = mkdtempSync(join(tmpdir(), "turbine-pebble-"));
    const [port, managementPort] = [await freePort(), await freePort()];
    writeConfig(dir, port, managementPort, ports);
    const dnsPort = dns.address().port;
    const child = spawn(binary, ["-config", join(dir, "config.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    const pebble = new Pebble(child, exited, dns, dir, port, managementPort);
    await pebble.ready();
    return pebble;
  }

  /** The ACME directory URL. */
  get directoryUrl(): string {
    return `https://127.0.0.1:${this.port}/dir`;
  }

  /** The root CA certificate pebble issues under (a new one per run), from its management API. */
  root(): Promise<string> {
    return fetchText(`https://127.0.0.1:${this.managementPort}/roots/0`);
  }

  /** Kills pebble by pid, closes the DNS server and removes the config. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, "SIGKILL");
    await this.exited;
    this.dns.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ready(): Promise<void> {
    const output: Buffer[] = [];
    this.child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
    const deadline = Date.now() + 10_000;
    while (!(await fetchText(this.directoryUrl).then(Boolean, () => false))) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`pebble did not start: ${Buffer.concat(output).toString()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function writeConfig(dir: string, port: number, managementPort: number, ports: PebblePorts): void {
  writeFileSync(join(dir, "cert.pem"), TEST_CERT_PEM);
  writeFileSync(join(dir, "key.pem"), TEST_KEY_PEM);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
      httpPort: ports.httpPort,
      tlsPort: ports.tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { ca: TEST_CERT_PEM }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: ${res.statusCode} ${body}`));
      });
    }).on("error", reject);
  });
}

/** A UDP DNS server on a free loopback port: A 127.0.0.1 for any name, no records of other types. */
async function startDns(): Promise<UdpSocket> {
  const socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    const answer = dnsAnswer(query);
    if (answer !== undefined) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return socket;
}

/** The response to a one-question query (RFC 1035 4.1), or undefined for something unparsable. */
function dnsAnswer(query: Buffer): Buffer | undefined {
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end]! + 1;
  end += 5; // the root label, QTYPE, QCLASS
  if (query.length < end || query.readUInt16BE(4) !== 1) return undefined;
  const isA = query.readUInt16BE(end - 4) === 1;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  header.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100), 2); // QR, RD as asked, RA, NOERROR
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(isA ? 1 : 0, 6);
  // A record: name as a pointer to the question, type A, class IN, TTL 60 s, 4 bytes of address.
  const record = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([header, query.subarray(12, end), ...(isA ? [record] : [])]);
}
