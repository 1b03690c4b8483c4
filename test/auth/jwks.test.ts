import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import {
  InvalidTokenError,
  JWKS_CACHE_TTL_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  TokenVerifier,
  type TokenVerifierConfig,
  type TokenVerifierOptions,
} from "../../src/auth/index.js";
import { hmacToken, SECRET, tokenConfig } from "./helpers.js";

/** A JWKS endpoint on a free loopback port: key sets by path, request counts by path. */
class JwksServer {
  readonly sets = new Map<string, JWK[]>();
  readonly hits = new Map<string, number>();
  private readonly server = createServer((req, res) => {
    const path = req.url ?? "";
    this.hits.set(path, this.count(path) + 1);
    const keys = this.sets.get(path);
    if (keys === undefined) res.writeHead(500).end();
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  base = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }
}

interface Signer {
  jwk: JWK;
  sign(claims: JWTPayload, header?: { alg?: string; kid?: string }): Promise<string>;
}

/**
 * A key pair whose public half is published as `{kid, use, ...}`; tokens carry that kid unless told
 * otherwise.
 */
async function signer(alg: string, published: JWK): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), ...published };
  return {
    jwk,
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg, kid: jwk.kid, ...header }).sign(privateKey),
  };
}

const server = new JwksServer();
let rsa: Signer;
let ec: Signer;
let ed: Signer;
let enc: Signer;
let noUse: Signer;

before(async () => {
  await server.start();
  rsa = await signer("RS256", { kid: "rsa-1", use: "sig", alg: "RS256" });
  ec = await signer("ES256", { kid: "ec-1", use: "sig" });
  ed = await signer("EdDSA", { kid: "ed-1", use: "sig" });
  enc = await signer("RS256", { kid: "enc-1", use: "enc" });
  noUse = await signer("RS256", { kid: "nouse-1" });
});

after(() => server.stop());

/** A fresh path per test, so that request counts never mix. */
let pathCounter = 0;
function publish(...signers: Signer[]): string {
  const path = `/jwks-${++pathCounter}.json`;
  server.sets.set(
    path,
    signers.map((s) => s.jwk),
  );
  return path;
}

function jwksVerifier(
  path: string,
  config: Partial<TokenVerifierConfig> = {},
  options: TokenVerifierOptions = {},
) {
  return new TokenVerifier(
    tokenConfig({ jwks_public_endpoint: `${server.base}${path}`, ...config }),
    options,
  );
}

describe("JWKS", () => {
  it("verifies RSA, EC and Ed25519 tokens with the key named by kid, fetching the set once", async () => {
    const path = publish(rsa, ec, ed, enc);
    let fetches = 0;
    const countingFetch: typeof fetch = (input, init) => {
      fetches++;
      return fetch(input, init);
    };
    const verifier = jwksVerifier(path, {}, { fetch: countingFetch });
    for (const key of [rsa, ec, ed, rsa]) {
      assert.equal((await verifier.verifyConnectToken(await key.sign({ sub: "1" }))).user, "1");
    }
    assert.equal(server.count(path), 1);
    assert.equal(fetches, 1);
  });

  it("fetches a set once for concurrent first requests", async () => {
    const path = publish(rsa);
    const verifier = jwksVerifier(path);
    const token = await rsa.sign({ sub: "1", channel: "c" });
    await Promise.all(Array.from({ length: 5 }, () => verifier.verifySubscribeToken(token)));
    assert.equal(server.count(path), 1);
  });

  it("refuses keys published without use=sig", async () => {
    const verifier = jwksVerifier(publish(rsa, enc, noUse));
    await assert.rejects(verifier.verifyConnectToken(await enc.sign({ sub: "1" })), InvalidTokenError);
    await assert.rejects(verifier.verifyConnectToken(await noUse.sign({ sub: "1" })), InvalidTokenError);
  });

  it("requires a kid, without fetching", async () => {
    const path = publish(rsa);
    const token = await rsa.sign({ sub: "1" }, { kid: undefined });
    await assert.rejects(jwksVerifier(path).verifyConnectToken(token), InvalidTokenError);
    assert.equal(server.count(path), 0);
  });

  it("ignores static keys and pins the algorithm to the key", async () => {
    const verifier = jwksVerifier(publish(rsa, ec), { hmac_secret_key: SECRET });
    await assert.rejects(verifier.verifyConnectToken(await hmacToken({ sub: "1" })), InvalidTokenError);
    const hsWithKid = await new SignJWT({ sub: "1" })
      .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
      .sign(new TextEncoder().encode(SECRET));
    await assert.rejects(verifier.verifyConnectToken(hsWithKid), InvalidTokenError);
    const otherRsa = await signer("RS384", { kid: "rsa-1" });
    await assert.rejects(verifier.verifyConnectToken(await otherRsa.sign({ sub: "1" })), InvalidTokenError);
    const p384 = await signer("ES384", { kid: "ec-1" });
    await assert.rejects(verifier.verifyConnectToken(await p384.sign({ sub: "1" })), InvalidTokenError);
  });

  it("refetches for an unknown kid at most once per cooldown", async () => {
    const path = publish(rsa);
    let now = Date.now();
    const verifier = jwksVerifier(path, {}, { now: () => now });
    const rotated = await signer("RS256", { kid: "rsa-2", use: "sig" });
    assert.equal((await verifier.verifyConnectToken(await rsa.sign({ sub: "1" }))).user, "1");

    now += JWKS_REFETCH_COOLDOWN_MS;
    await assert.rejects(verifier.verifyConnectToken(await rotated.sign({ sub: "1" })), InvalidTokenError);
    assert.equal(server.count(path), 2);
    server.sets.set(path, [rsa.jwk, rotated.jwk]);
    await assert.rejects(verifier.verifyConnectToken(await rotated.sign({ sub: "1" })), InvalidTokenError);
    assert.equal(server.count(path), 2);

    now += JWKS_REFETCH_COOLDOWN_MS;
    assert.equal((await verifier.verifyConnectToken(await rotated.sign({ sub: "2" }))).user, "2");
    assert.equal((await verifier.verifyConnectToken(await rsa.sign({ sub: "3" }))).user, "3");
    assert.equal(server.count(path), 3);
  });

  it("trusts a set for an hour, then refetches, so removed keys stop working", async () => {
    const path = publish(rsa, ec);
    let now = Date.now();
    const verifier = jwksVerifier(path, {}, { now: () => now });
    const token = await rsa.sign({ sub: "1" });
    await verifier.verifyConnectToken(token);
    server.sets.set(path, [ec.jwk]);
    now += JWKS_CACHE_TTL_MS - 1;
    assert.equal((await verifier.verifyConnectToken(token)).user, "1");
    assert.equal(server.count(path), 1);
    now += 1;
    await assert.rejects(verifier.verifyConnectToken(token), InvalidTokenError);
    assert.equal(server.count(path), 2);
  });

  it("fails closed when the endpoint fails, retrying once", async () => {
    const verifier = jwksVerifier("/broken");
    await assert.rejects(verifier.verifyConnectToken(await rsa.sign({ sub: "1" })), InvalidTokenError);
    assert.equal(server.count("/broken"), 2);
    await assert.rejects(verifier.verifyConnectToken(await rsa.sign({ sub: "1" })), InvalidTokenError);
    assert.equal(server.count("/broken"), 2);
  });

  it("skips fetching entirely with skipSignatureVerify", async () => {
    const path = publish(rsa);
    const token = await ec.sign({ sub: "9" }, { kid: "unknown" });
    const verifier = jwksVerifier(path, {}, { skipSignatureVerify: true });
    assert.equal((await verifier.verifyConnectToken(token)).user, "9");
    assert.equal(server.count(path), 0);
  });
});

describe("JWKS endpoint templates", () => {
  const issuer = (tenant: string) => `https://${tenant}.example.com`;
  const config = {
    issuer_regex: "^https://(?P<tenant>acme|globex)\\.example\\.com$",
  };

  it("fetches each tenant's own set and never accepts another tenant's key", async () => {
    const acme = await signer("RS256", { kid: "k1", use: "sig" });
    const globex = await signer("RS256", { kid: "k1", use: "sig" });
    server.sets.set("/acme/keys", [acme.jwk]);
    server.sets.set("/globex/keys", [globex.jwk]);
    const verifier = jwksVerifier("/{{tenant}}/keys", config);

    assert.equal(
      (await verifier.verifyConnectToken(await acme.sign({ sub: "a", iss: issuer("acme") }))).user,
      "a",
    );
    assert.equal(
      (await verifier.verifyConnectToken(await globex.sign({ sub: "g", iss: issuer("globex") }))).user,
      "g",
    );
    await assert.rejects(
      verifier.verifyConnectToken(await acme.sign({ iss: issuer("globex") })),
      InvalidTokenError,
    );
    assert.equal(server.count("/acme/keys"), 1);
    assert.equal(server.count("/globex/keys"), 1);
  });

  it("refuses issuers outside the pattern before fetching anything", async () => {
    const before = [...server.hits.values()].reduce((a, b) => a + b, 0);
    const verifier = jwksVerifier("/{{tenant}}/keys", config);
    for (const iss of [issuer("evil"), "https://acme.example.com.evil.org", ""]) {
      await assert.rejects(verifier.verifyConnectToken(await rsa.sign({ iss })), InvalidTokenError, iss);
    }
    assert.equal(
      [...server.hits.values()].reduce((a, b) => a + b, 0),
      before,
    );
  });
});
