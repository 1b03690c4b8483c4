/**
 * `http_server.tls_autocert`: certificates from an ACME CA (Let's Encrypt by default), obtained on demand at the
 * first TLS handshake for a whitelisted host, cached, renewed before expiry. Centrifugo does this with golang's
 * `x/crypto/acme/autocert` Manager (`centrifugo internal/app/tls.go`); this module follows its behaviour and its
 * `DirCache` file format, so a Centrifugo `cache_dir` keeps working after the switch.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import tls from "node:tls";
import { domainToASCII } from "node:url";
import acme from "acme-client";
import type { Logger } from "../log/logger.js";

/** The ALPN protocol of the tls-alpn-01 challenge (RFC 8737). */
const ACME_TLS_ALPN = "acme-tls/1";
/** golang autocert renews 30 days before expiry (`renewBefore`). */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** How often certificates nobody handshakes for are checked for renewal. */
const SWEEP_INTERVAL_MS = 12 * 3600 * 1000;
/** After a failed order, handshakes for that host fail at once for this long instead of ordering again, as
 * golang autocert's `createCertRetryAfter`: ACME CAs rate-limit failed validations. */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** golang autocert's `DirCache` name of the account key. */
const ACCOUNT_KEY_FILE = "acme_account+key";
const HTTP01_PREFIX = "/.well-known/acme-challenge/";

/** The `http_server.tls_autocert` config section, plus development knobs that are not config keys. */
export interface AutocertOptions {
  /** Hosts certificates may be obtained for. Empty = any host, as autocert with no HostPolicy. */
  host_whitelist: readonly string[];
  /** Directory of cached certificates and the account key; empty = memory only. */
  cache_dir: string;
  /** Contact email of the ACME account; may be empty. */
  email: string;
  /** Host whose certificate clients without SNI get (see {@link Autocert.attach}); empty = none. */
  server_name: string;
  /** Serve http-01 challenges on `http_addr` (tls-alpn-01 is always served by the TLS listener). */
  http: boolean;
  /** `host:port` of the http-01 challenge server, e.g. `:80`. */
  http_addr: string;
  /** ACME directory; default Let's Encrypt production, as golang autocert. */
  directoryUrl?: string;
  /** PEM CA certificates trusted for the ACME directory (a test CA such as pebble's). Applies to every
   * acme-client request in the process: acme-client has one HTTP client. */
  caCertificates?: string;
}

/** A certificate in use: key and chain PEM, and the context handshakes get. */
interface Certified {
  readonly key: string;
  readonly chain: string;
  readonly context: tls.SecureContext;
  /** Epoch ms after which a renewal starts. */
  readonly renewAt: number;
  /** Epoch ms of the leaf's notAfter. */
  readonly expiresAt: number;
}

/**
 * Obtains, caches and renews certificates for the TLS listeners. Use it as
 * `https.createServer({ ...autocert.tlsOptions() })`, then `autocert.attach(server)` and `await autocert.start()`.
 */
export class Autocert {
  private readonly whitelist: ReadonlySet<string>;
  private readonly serverName: string;
  private readonly certs = new Map<string, Certified>();
  /** Loads and orders in flight, one per host: concurrent handshakes share one order. */
  private readonly inFlight = new Map<string, Promise<Certified>>();
  private readonly failedAt = new Map<string, number>();
  /** http-01 token -> key authorization. */
  private readonly httpTokens = new Map<string, string>();
  /** Host -> tls-alpn-01 challenge certificate. */
  private readonly alpnCerts = new Map<string, tls.SecureContext>();
  /** TLS sockets whose ClientHello offered only acme-tls/1: a CA validating tls-alpn-01. */
  private readonly challengeSockets = new WeakSet<object>();
  private readonly servers = new Set<tls.Server>();
  private client: Promise<acme.Client> | undefined;
  private httpServer: http.Server | undefined;
  private sweep: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: AutocertOptions,
    private readonly logger: Logger,
  ) {
    this.whitelist = new Set(options.host_whitelist.map((host) => this.whitelisted(host)));
    this.serverName = options.server_name === "" ? "" : domainToASCII(options.server_name.replace(/\.$/, ""));
    if (options.caCertificates !== undefined) {
      acme.axios.defaults.httpsAgent = new https.Agent({ ca: options.caCertificates });
    }
  }

  /** Creates the manager; nothing is contacted or listened on until a handshake or {@link start}. */
  static create(options: AutocertOptions, logger: Logger): Autocert {
    const autocert = new Autocert(options, logger.child({ component: "autocert" }));
    if (options.host_whitelist.length === 0) {
      autocert.logger.warn(
        "tls_autocert.host_whitelist is empty: certificates are requested for any host name",
      );
    }
    return autocert;
  }

  /**
   * Options to spread into `tls.createServer` / `https.createServer`: certificate selection per SNI (ordering
   * certificates on demand) and ALPN with acme-tls/1 added to `protocols`, the protocols the server speaks,
   * in preference order (`["h2", "http/1.1"]` for `http2.createSecureServer` with `allowHTTP1`). A client
   * offering none of them fails the handshake (no_application_protocol), as with golang's crypto/tls. An
   * ALPNCallback replaces ALPNProtocols (Node allows only one of them): it tells the tls-alpn-01 validator
   * apart from other clients before the certificate is chosen (TLS 1.3 orders it so; validators use 1.3).
   */
  tlsOptions(protocols: readonly string[] = ["http/1.1"]): tls.TlsOptions {
    return {
      minVersion: "TLSv1.2",
      ALPNCallback: alpnCallback([...protocols, ACME_TLS_ALPN], this.challengeSockets),
      SNICallback: sniCallback((servername, socket) => this.contextFor(servername, socket)),
    };
  }

  /**
   * Serves `server_name`'s certificate to clients that send no SNI on `server` (Node calls no SNICallback for
   * them, so the server's default context carries it). Orders it now, in the background, if not cached.
   * `setSecureContext` resets the server's other context options (ciphers, CA) to their defaults.
   */
  attach(server: tls.Server): void {
    const serverName = this.options.server_name;
    if (serverName === "") return;
    this.servers.add(server);
    this.allowedCertificate(serverName).then(
      (certified) => this.install(server, certified),
      (err: unknown) =>
        this.logger.error({ err, server_name: serverName }, "can't get server_name certificate"),
    );
  }

  /**
   * Starts renewing certificates of idle hosts (handshakes renew the others) and, when `http` is set, the
   * http-01 challenge server on `http_addr`; rejects if it can't listen.
   */
  async start(): Promise<void> {
    this.sweep ??= setInterval(() => this.renewIdle(), SWEEP_INTERVAL_MS).unref();
    if (!this.options.http) return;
    const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) =>
      this.serveHttp(req, res),
    );
    const { host, port } = splitAddress(this.options.http_addr);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.logger.error({ err }, "ACME http_01 challenge server error"));
    this.httpServer = server;
    this.logger.info(`serving ACME http_01 challenge on ${this.options.http_addr}`);
  }

  /** Stops the renewal sweep and the http-01 server and detaches the servers; orders in flight still finish
   * and are cached. */
  async close(): Promise<void> {
    clearInterval(this.sweep);
    this.sweep = undefined;
    this.servers.clear();
    const server = this.httpServer;
    if (server === undefined) return;
    this.httpServer = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The context for a handshake with SNI `servername` on `socket`; rejects to fail the handshake. */
  private async contextFor(servername: string, socket: unknown): Promise<tls.SecureContext> {
    if (typeof socket === "object" && socket !== null && this.challengeSockets.has(socket)) {
      const host = hostName(servername);
      const challenge = this.alpnCerts.get(host);
      if (challenge === undefined) throw new Error(`acme/autocert: no token cert for "${host}"`);
      return challenge;
    }
    return (await this.allowedCertificate(servername)).context;
  }

  private async allowedCertificate(servername: string): Promise<Certified> {
    const host = hostName(servername);
    if (!this.allowed(host)) throw new Error(`acme/autocert: host "${host}" not configured in HostWhitelist`);
    return this.certificate(host);
  }

  /** golang autocert renews on a timer per certificate; a sweep over all of them does the same here. */
  private renewIdle(): void {
    for (const host of this.certs.keys()) {
      // Failures are logged where they happen.
      this.certificate(host).catch(() => undefined);
    }
  }

  /** A valid certificate for `host`: from memory, the cache or a new order; starts a renewal when due. */
  private async certificate(host: string): Promise<Certified> {
    const now = Date.now();
    const current = this.certs.get(host);
    const certified =
      current !== undefined && current.expiresAt > now
        ? current
        : await this.once(host, () => this.loadOrOrder(host));
    if (certified.renewAt <= now && !this.inFlight.has(host) && !this.failedRecently(host)) {
      // The current certificate serves meanwhile; order() logs a failure.
      this.once(host, () => this.order(host)).catch(() => undefined);
    }
    return certified;
  }

  private once(host: string, run: () => Promise<Certified>): Promise<Certified> {
    let pending = this.inFlight.get(host);
    if (pending === undefined) {
      pending = run().finally(() => this.inFlight.delete(host));
      this.inFlight.set(host, pending);
    }
    return pending;
  }

  private async loadOrOrder(host: string): Promise<Certified> {
    const cached = await this.loadCached(host);
    if (cached !== undefined && cached.expiresAt > Date.now()) {
      this.remember(host, cached);
      return cached;
    }
    return this.order(host);
  }

  /** Orders a certificate, trying each challenge type in golang autocert's order until one validates. */
  private async order(host: string): Promise<Certified> {
    if (this.failedRecently(host)) throw new Error(`acme/autocert: ordering for "${host}" failed recently`);
    let failure: unknown;
    for (const type of this.challengeTypes()) {
      try {
        this.logger.info({ host, challenge: type }, "ordering certificate");
        const certified = await this.orderWith(host, type);
        this.failedAt.delete(host);
        await this.store(host, certified);
        this.remember(host, certified);
        this.logger.info(
          { host, expires: new Date(certified.expiresAt).toISOString() },
          "certificate obtained",
        );
        return certified;
      } catch (err) {
        this.logger.warn({ err, host, challenge: type }, "certificate order failed");
        failure = err;
      }
    }
    this.failedAt.set(host, Date.now());
    this.logger.error({ err: failure, host }, "can't obtain certificate");
    throw failure;
  }

  /** golang autocert prefers tls-alpn-01 and tries http-01 when its handler is served. */
  private challengeTypes(): string[] {
    return this.options.http ? ["tls-alpn-01", "http-01"] : ["tls-alpn-01"];
  }

  private async orderWith(host: string, type: string): Promise<Certified> {
    const client = await this.account();
    const order = await client.createOrder({ identifiers: [{ type: "dns", value: host }] });
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === "valid") continue;
      try {
        await this.authorize(client, authz, type);
      } catch (err) {
        // As golang autocert: a pending authorization left behind counts against the CA's rate limits.
        await client.deactivateAuthorization(authz).catch(() => undefined);
        throw err;
      }
    }
    const key = await acme.crypto.createPrivateEcdsaKey();
    const [, csr] = await acme.crypto.createCsr({ altNames: [host] }, key);
    const chain = await client.getCertificate(await client.finalizeOrder(order, csr));
    return certified(sec1(key.toString()), chain);
  }

  /** Presents the challenge of `type`, lets the CA validate it, and withdraws it. */
  private async authorize(client: acme.Client, authz: acme.Authorization, type: string): Promise<void> {
    const host = authz.identifier.value;
    const challenge = authz.challenges.find((c) => c.type === type);
    if (challenge === undefined) throw new Error(`${type} challenge not offered for ${host}`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
    if (type === "http-01") {
      this.httpTokens.set(challenge.token, keyAuthorization);
    } else {
      const [key, cert] = await acme.crypto.createAlpnCertificate(
        authz,
        keyAuthorization,
        await acme.crypto.createPrivateEcdsaKey(),
      );
      this.alpnCerts.set(host, tls.createSecureContext({ key, cert }));
    }
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(authz);
    } finally {
      this.httpTokens.delete(challenge.token);
      this.alpnCerts.delete(host);
    }
  }

  /** The registered ACME account (terms accepted, as autocert.AcceptTOS), created once per process. */
  private account(): Promise<acme.Client> {
    this.client ??= this.register().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async register(): Promise<acme.Client> {
    const cachedKey = await this.readCache(ACCOUNT_KEY_FILE);
    const client = new acme.Client({
      directoryUrl: this.options.directoryUrl ?? acme.directory.letsencrypt.production,
      accountKey: cachedKey ?? (await this.newAccountKey()),
      // Polling like golang's acme client (1 s doubling to 10 s), not acme-client's 5 s doubling to 30 s.
      backoffMin: 1000,
      backoffMax: 10_000,
    });
    // A cached key's account usually exists: look it up. Registering again would make acme-client send an
    // account update, which pebble refuses when nothing changes (golang autocert ignores "already exists").
    if (cachedKey !== undefined) {
      try {
        await client.createAccount({ onlyReturnExisting: true });
        return client;
      } catch (err) {
        this.logger.info({ err }, "no ACME account for the cached key, registering it");
      }
    }
    const email = this.options.email;
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(email === "" ? {} : { contact: [`mailto:${email}`] }),
    });
    return client;
  }

  private async newAccountKey(): Promise<string> {
    const key = sec1((await acme.crypto.createPrivateEcdsaKey()).toString());
    await this.writeCache(ACCOUNT_KEY_FILE, key);
    return key;
  }

  private async loadCached(host: string): Promise<Certified | undefined> {
    const pem = await this.readCache(host);
    if (pem === undefined) return undefined;
    try {
      const [key, ...chain] = pemBlocks(pem);
      if (key === undefined || !/PRIVATE KEY-----/.test(key)) throw new Error("no private key first");
      const loaded = certified(key, chain.join(""));
      // golang autocert's validCert: the leaf is for this host and matches the key.
      const leaf = new X509Certificate(chain[0] ?? "");
      if (leaf.checkHost(host) === undefined) throw new Error("certificate is for another host");
      if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error("certificate does not match its key");
      this.logger.info({ host, expires: new Date(loaded.expiresAt).toISOString() }, "certificate from cache");
      return loaded;
    } catch (err) {
      this.logger.warn({ err, host }, "ignoring unusable cached certificate");
      return undefined;
    }
  }

  /** golang autocert's DirCache layout: the key PEM, then the chain PEM. */
  private store(host: string, certified: Certified): Promise<void> {
    return this.writeCache(host, certified.key + certified.chain);
  }

  private remember(host: string, certified: Certified): void {
    this.certs.set(host, certified);
    if (host === this.serverName) for (const server of this.servers) this.install(server, certified);
  }

  private install(server: tls.Server, certified: Certified): void {
    if (this.servers.has(server)) {
      server.setSecureContext({ key: certified.key, cert: certified.chain, minVersion: "TLSv1.2" });
    }
  }

  private async readCache(name: string): Promise<string | undefined> {
    if (this.options.cache_dir === "") return undefined;
    try {
      return await readFile(join(this.options.cache_dir, name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        this.logger.warn({ err, name }, "can't read cache");
      return undefined;
    }
  }

  /** Writes atomically (temp file and rename, as DirCache), readable by the owner only; failures are logged. */
  private async writeCache(name: string, data: string): Promise<void> {
    const dir = this.options.cache_dir;
    if (dir === "") return;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const temp = join(dir, `tmp-${name}-${process.pid}`);
      await writeFile(temp, data, { mode: 0o600 });
      await rename(temp, join(dir, name));
    } catch (err) {
      this.logger.error({ err, name }, "can't write cache");
    }
  }

  private failedRecently(host: string): boolean {
    return Date.now() - (this.failedAt.get(host) ?? -Infinity) < RETRY_AFTER_FAILURE_MS;
  }

  private allowed(host: string): boolean {
    return this.whitelist.size === 0 || this.whitelist.has(host);
  }

  private whitelisted(host: string): string {
    const ascii = domainToASCII(host);
    if (ascii === "")
      this.logger.warn({ host }, "tls_autocert.host_whitelist entry is not a valid host name");
    return ascii;
  }

  /** golang autocert's HTTPHandler(nil): challenge tokens, anything else redirected to https. */
  private serveHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? "/";
    if (!url.startsWith(HTTP01_PREFIX)) return redirectToHttps(req, res, url);
    const hostport = req.headers.host ?? "";
    const host = HOST_PORT.exec(hostport)?.[1] ?? hostport;
    if (!this.allowed(domainToASCII(host)))
      return plain(res, 403, `acme/autocert: host "${host}" not allowed`);
    const keyAuthorization = this.httpTokens.get(url.slice(HTTP01_PREFIX.length));
    if (keyAuthorization === undefined) return plain(res, 404, "acme/autocert: certificate cache miss");
    plain(res, 200, keyAuthorization);
  }
}

/** Server preference order over the client's list; a client offering only acme-tls/1 is a tls-alpn-01
 * validator, remembered on its socket (Node passes it as `this`) for the SNICallback, which TLS 1.3 calls
 * after this one. */
function alpnCallback(
  offered: readonly string[],
  challengeSockets: WeakSet<object>,
): tls.TlsOptions["ALPNCallback"] {
  return function (this: unknown, { protocols }) {
    if (
      protocols.length === 1 &&
      protocols[0] === ACME_TLS_ALPN &&
      typeof this === "object" &&
      this !== null
    ) {
      challengeSockets.add(this);
    }
    return offered.find((protocol) => protocols.includes(protocol));
  };
}

/** Node calls SNICallback with the TLS socket as `this`. */
function sniCallback(
  contextFor: (servername: string, socket: unknown) => Promise<tls.SecureContext>,
): tls.TlsOptions["SNICallback"] {
  return function (this: unknown, servername, done) {
    contextFor(servername, this).then(
      (context) => done(null, context),
      (err: Error) => done(err, undefined),
    );
  };
}

/** golang autocert's server name checks: IDNA to ASCII, lower case, no trailing dot, at least two labels,
 * nothing that could escape the cache directory. */
function hostName(servername: string): string {
  const host = domainToASCII(servername.replace(/\.$/, ""));
  if (host === "") throw new Error("acme/autocert: missing or invalid server name");
  if (!host.replace(/^\.+|\.+$/g, "").includes(".")) {
    throw new Error("acme/autocert: server name component count invalid");
  }
  if (/[+/\\]/.test(host)) throw new Error("acme/autocert: server name contains invalid character");
  return host;
}

function certified(key: string, chain: string): Certified {
  const leaf = new X509Certificate(chain);
  const notBefore = Date.parse(leaf.validFrom);
  const expiresAt = Date.parse(leaf.validTo);
  // 30 days before expiry, or a third of the lifetime for short-lived certificates.
  const margin = Math.min(RENEW_BEFORE_MS, (expiresAt - notBefore) / 3);
  return {
    key,
    chain,
    context: tls.createSecureContext({ key, cert: chain }),
    renewAt: expiresAt - margin,
    expiresAt,
  };
}

/** A P-256 key in SEC1 PEM (`EC PRIVATE KEY`), the encoding golang autocert writes. */
function sec1(pkcs8: string): string {
  return createPrivateKey(pkcs8).export({ type: "sec1", format: "pem" }).toString();
}

function pemBlocks(pem: string): string[] {
  return (pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g) ?? []).map((block) =>
    block.endsWith("\n") ? block : `${block}\n`,
  );
}

/** `host:port`, `[v6]:port` or `:port` into listen() arguments; an empty host listens on all interfaces. */
function splitAddress(address: string): { host: string | undefined; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, Math.max(colon, 0)).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`tls_autocert.http_addr "${address}" is not host:port`);
  }
  return { host: host === "" ? undefined : host, port };
}

/** A Host header split as golang's net.SplitHostPort; no match: the header is a bare host. */
const HOST_PORT = /^(\[[^\]]*\]|[^:]*):\d*$/;

/** golang autocert's handleHTTPRedirect: a port named in the Host header becomes 443. */
function redirectToHttps(req: http.IncomingMessage, res: http.ServerResponse, url: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") return plain(res, 400, "Use HTTPS");
  const hostport = req.headers.host ?? "";
  const host = HOST_PORT.exec(hostport)?.[1];
  res.writeHead(302, { location: `https://${host === undefined ? hostport : `${host}:443`}${url}` }).end();
}

function plain(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(body);
}
