/**
 * `http_server.tls_autocert` against a real ACME server (pebble): certificates ordered at the first handshake
 * and validated by pebble over http-01 and tls-alpn-01, the host whitelist, the cache, renewal, server_name.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it, mock } from "node:test";
import tls from "node:tls";
import { pino } from "pino";
import { Autocert, type AutocertOptions } from "../../src/app/autocert.js";
import { Pebble, pebbleMissing } from "../helpers/pebble.js";
import { freePort } from "../helpers/redis.js";
import { within } from "../helpers/wait.js";

const HOST = "ws.turbine.test";

/** Log records of one Autocert, to count the orders it made. */
class Records {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger = pino(
    { level: "debug" },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );

  count(msg: string, fields: Record<string, unknown> = {}): number {
    return this.lines.filter(
      (line) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v),
    ).length;
  }
}

function options(overrides: Partial<AutocertOptions>): AutocertOptions {
  return {
    host_whitelist: [HOST],
    cache_dir: "",
    email: "",
    server_name: "",
    http: false,
    http_addr: ":80",
    caCertificates: Pebble.ca,
    ...overrides,
  };
}

/** An HTTPS server with the autocert TLS options on `port` (0: a free one) of 127.0.0.1. */
async function httpsServer(autocert: Autocert, port: number): Promise<https.Server> {
  const server = https.createServer({ ...autocert.tlsOptions() }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Handshakes with `servername` (none when empty) and returns the server's leaf certificate. */
function handshake(port: number, servername: string, ca?: string): Promise<X509Certificate> {
  const leaf = new Promise<X509Certificate>((resolve, reject) => {
    const socket = tls.connect(
      {
        host: "127.0.0.1",
        port,
        ...(servername === "" ? {} : { servername }),
        ca,
        rejectUnauthorized: ca !== undefined,
      },
      () => {
        const leaf = new X509Certificate(socket.getPeerX509Certificate()!.raw);
        socket.end();
        resolve(leaf);
      },
    );
    socket.on("error", reject);
  });
  return within(leaf, `a TLS handshake for "${servername}"`, 30_000);
}

function get(
  port: number,
  path: string,
  host: string,
): Promise<{ status: number; body: string; location?: string }> {
  const answered = new Promise<{ status: number; body: string; location?: string }>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
      })
      .on("error", reject);
  });
  return within(answered, `the answer to GET ${path} for ${host}`);
}

/** An ACME "directory" that only counts requests: proves the ACME server is not contacted. */
async function countingDirectory(): Promise<{
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/dir`;
  return { url, requests: () => requests, close: () => closeServer(server) };
}

/** Waits for `condition`; measures time with performance.now(), which mocked Date leaves alone. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** pebble, an Autocert ordering from it and an HTTPS server with its TLS options, on free loopback ports. */
class Setup {
  private constructor(
    readonly records: Records,
    readonly pebble: Pebble,
    readonly autocert: Autocert,
    readonly server: https.Server,
    readonly port: number,
    readonly httpPort: number,
  ) {}

  /**
   * `tlsAlpnReachable` false points pebble's tls-alpn-01 port at nothing, so that only http-01 can validate.
   */
  static async start(overrides: Partial<AutocertOptions>, tlsAlpnReachable: boolean): Promise<Setup> {
    const [httpPort, tlsPort] = [await freePort(), await freePort()];
    const pebble = await Pebble.start({ httpPort, tlsPort });
    const records = new Records();
    const autocert = Autocert.create(
      options({ http_addr: `127.0.0.1:${httpPort}`, directoryUrl: pebble.directoryUrl, ...overrides }),
      records.logger,
    );
    await autocert.start();
    const server = await httpsServer(autocert, tlsAlpnReachable ? tlsPort : 0);
    return new Setup(
      records,
      pebble,
      autocert,
      server,
      (server.address() as { port: number }).port,
      httpPort,
    );
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
    await this.autocert.close();
    await this.pebble.stop();
  }
}

describe("tls_autocert with pebble", { skip: pebbleMissing }, () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "turbine-autocert-"));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  describe("http-01", () => {
    let setup: Setup;
    let root: string;
    before(async () => {
      setup = await Setup.start({ http: true, cache_dir: join(cacheDir, "http") }, false);
      root = await setup.pebble.root();
    });
    after(() => setup.stop());

    it("orders one certificate for concurrent first handshakes, chained to pebble's root", async () => {
      const leaves = await Promise.all([1, 2, 3].map(() => handshake(setup.port, HOST, root)));
      assert.equal(new Set(leaves.map((leaf) => leaf.fingerprint256)).size, 1);
      assert.equal(leaves[0]!.subjectAltName, `DNS:${HOST}`);
      assert.match(leaves[0]!.issuer, /Pebble Intermediate CA/);
      // tls-alpn-01 first (unreachable here), then http-01: one order each, shared by the three handshakes.
      assert.equal(setup.records.count("ordering certificate", { challenge: "tls-alpn-01" }), 1);
      assert.equal(setup.records.count("ordering certificate", { challenge: "http-01" }), 1);
      assert.equal(setup.records.count("certificate obtained"), 1);
    });

    it("caches the key and chain in golang autocert's DirCache layout, readable by the owner only", () => {
      const file = join(cacheDir, "http", HOST);
      assert.equal(statSync(join(cacheDir, "http")).mode & 0o777, 0o700);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(cacheDir, "http", "acme_account+key")).mode & 0o777, 0o600);
      const pem = readFileSync(file, "utf8");
      assert.match(pem, /^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+-----BEGIN CERTIFICATE-----/);
    });

    it("answers other HTTP requests as golang autocert's HTTPHandler(nil)", async () => {
      assert.deepEqual(await get(setup.httpPort, "/path?q=1", `${HOST}:80`), {
        status: 302,
        body: "",
        location: `https://${HOST}:443/path?q=1`,
      });
      assert.equal((await get(setup.httpPort, "/", HOST)).location, `https://${HOST}/`);
      const unknownToken = await get(setup.httpPort, "/.well-known/acme-challenge/nope", HOST);
      assert.equal(unknownToken.status, 404);
      const otherHost = await get(setup.httpPort, "/.well-known/acme-challenge/nope", "other.turbine.test");
      assert.equal(otherHost.status, 403);
    });
  });

  describe("tls-alpn-01", () => {
    let setup: Setup;
    before(async () => {
      setup = await Setup.start({ cache_dir: join(cacheDir, "alpn") }, true);
    });
    after(() => setup.stop());

    it("orders on the first handshake, validated on the TLS listener itself", async () => {
      const root = await setup.pebble.root();
      const leaf = await handshake(setup.port, HOST, root);
      assert.equal(leaf.subjectAltName, `DNS:${HOST}`);
      assert.equal(setup.records.count("ordering certificate", { challenge: "tls-alpn-01" }), 1);
      assert.equal(setup.records.count("certificate order failed"), 0);
      // Served from memory afterwards.
      assert.equal((await handshake(setup.port, HOST, root)).fingerprint256, leaf.fingerprint256);
      assert.equal(setup.records.count("ordering certificate"), 1);
    });

    it("renews in the background when less than a third of the lifetime (at most 30 days) is left", async () => {
      const root = await setup.pebble.root();
      const old = await handshake(setup.port, HOST, root);
      mock.timers.enable({ apis: ["Date"], now: Date.parse(old.validTo) - 10 * 24 * 3600 * 1000 });
      try {
        // The old certificate is still served while the renewal runs.
        assert.equal((await handshake(setup.port, HOST, root)).fingerprint256, old.fingerprint256);
        await until(() => setup.records.count("certificate obtained") === 2, "the renewal");
      } finally {
        mock.timers.reset();
      }
      const renewed = await handshake(setup.port, HOST, root);
      assert.notEqual(renewed.fingerprint256, old.fingerprint256);
      assert.equal(readFileSync(join(cacheDir, "alpn", HOST), "utf8").includes(renewed.toString()), true);
    });

    it("renews idle certificates from a periodic sweep, and server_name's for clients without SNI", async () => {
      mock.timers.enable({ apis: ["Date", "setInterval"], now: Date.now() });
      const records = new Records();
      const idle = Autocert.create(
        options({
          directoryUrl: setup.pebble.directoryUrl,
          cache_dir: join(cacheDir, "alpn"),
          server_name: HOST,
          // pebble's tls-alpn-01 port is the other server's: validation is over http-01.
          http: true,
          http_addr: `127.0.0.1:${setup.httpPort}`,
        }),
        records.logger,
      );
      const server = await httpsServer(idle, 0);
      const port = (server.address() as { port: number }).port;
      try {
        await idle.start();
        // Its renewal also looks up the ACME account of the cached account key rather than registering anew.
        idle.attach(server);
        await until(() => records.count("certificate from cache") === 1, "server_name certificate");
        const old = await handshake(port, "");
        mock.timers.setTime(Date.parse(old.validTo) - 10 * 24 * 3600 * 1000);
        mock.timers.tick(12 * 3600 * 1000);
        await until(() => records.count("certificate obtained") === 1, "the renewal");
        mock.timers.reset();
        assert.notEqual((await handshake(port, "")).fingerprint256, old.fingerprint256);
      } finally {
        mock.timers.reset();
        await closeServer(server);
        await idle.close();
      }
    });
  });

  describe("without contacting the ACME server", () => {
    let directory: Awaited<ReturnType<typeof countingDirectory>>;
    before(async () => {
      directory = await countingDirectory();
    });
    after(() => directory.close());

    it("fails handshakes for hosts outside the whitelist and for names autocert refuses", async () => {
      const records = new Records();
      const autocert = Autocert.create(options({ directoryUrl: directory.url }), records.logger);
      const server = await httpsServer(autocert, 0);
      const port = (server.address() as { port: number }).port;
      try {
        for (const name of ["other.turbine.test", `x.${HOST}`, "localhost", ""]) {
          await assert.rejects(handshake(port, name), Error, name);
        }
        assert.equal(directory.requests(), 0);
      } finally {
        await closeServer(server);
      }
    });

    it("reuses the cached certificate after a restart, also for clients without SNI (server_name)", async () => {
      const cached = readFileSync(join(cacheDir, "alpn", HOST), "utf8");
      const records = new Records();
      const autocert = Autocert.create(
        options({ directoryUrl: directory.url, cache_dir: join(cacheDir, "alpn"), server_name: HOST }),
        records.logger,
      );
      const server = await httpsServer(autocert, 0);
      const port = (server.address() as { port: number }).port;
      try {
        const leaf = await handshake(port, HOST);
        assert.equal(cached.includes(leaf.toString()), true);
        // Names compare as golang autocert's: case-insensitive, without the root's trailing dot.
        assert.equal((await handshake(port, `${HOST.toUpperCase()}.`)).fingerprint256, leaf.fingerprint256);
        autocert.attach(server);
        await until(() => records.count("certificate from cache") === 1, "server_name certificate");
        assert.equal((await handshake(port, "")).fingerprint256, leaf.fingerprint256);
        assert.equal(directory.requests(), 0);
      } finally {
        await closeServer(server);
        await autocert.close();
      }
    });
  });
});
