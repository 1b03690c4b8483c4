import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { type CryptoKey, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { InvalidTokenError, TokenExpiredError, TokenVerifier } from "../../src/auth/index.js";
import { base64url, hmacToken, nowSeconds, rawHmacToken, SECRET, tokenConfig } from "./helpers.js";

const claims = { sub: "42" };

const keyPairs = new Map<string, Promise<{ pem: string; privateKey: CryptoKey }>>();

/**
 * One key pair per algorithm for the whole file: RSA generation is slow, and jose binds a key to one hash.
 */
function keyPair(alg: string): Promise<{ pem: string; privateKey: CryptoKey }> {
  let pair = keyPairs.get(alg);
  if (pair === undefined) {
    pair = generateKeyPair(alg).then(async ({ publicKey, privateKey }) => ({
      pem: await exportSPKI(publicKey),
      privateKey,
    }));
    keyPairs.set(alg, pair);
  }
  return pair;
}

function unsignedToken(payload: object, alg = "none"): string {
  return `${base64url(JSON.stringify({ alg, typ: "JWT" }))}.${base64url(JSON.stringify(payload))}.`;
}

const hmacVerifier = () => new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }));

describe("HMAC tokens", () => {
  for (const alg of ["HS256", "HS384", "HS512"]) {
    it(`accepts ${alg}`, async () => {
      const token = await hmacVerifier().verifyConnectToken(await hmacToken(claims, alg));
      assert.equal(token.user, "42");
    });
  }

  it("refuses a token signed with another secret", async () => {
    const token = await hmacToken(claims, "HS256", "other-secret");
    await assert.rejects(hmacVerifier().verifyConnectToken(token), InvalidTokenError);
  });

  it("refuses a tampered payload", async () => {
    const [header, , signature] = (await hmacToken(claims)).split(".");
    const forged = `${header}.${base64url('{"sub":"admin"}')}.${signature}`;
    await assert.rejects(hmacVerifier().verifyConnectToken(forged), InvalidTokenError);
  });
});

describe("RSA and ECDSA tokens", () => {
  for (const alg of ["RS256", "RS384", "RS512"]) {
    it(`accepts ${alg} with rsa_public_key`, async () => {
      const { pem, privateKey } = await keyPair(alg);
      const token = await new SignJWT(claims).setProtectedHeader({ alg }).sign(privateKey);
      const verifier = new TokenVerifier(tokenConfig({ rsa_public_key: pem }));
      assert.equal((await verifier.verifyConnectToken(token)).user, "42");
    });
  }

  for (const alg of ["ES256", "ES384", "ES512"]) {
    it(`accepts ${alg} with an ecdsa_public_key on its curve`, async () => {
      const { pem, privateKey } = await keyPair(alg);
      const token = await new SignJWT(claims).setProtectedHeader({ alg }).sign(privateKey);
      const verifier = new TokenVerifier(tokenConfig({ ecdsa_public_key: pem }));
      assert.equal((await verifier.verifySubscribeToken(await signChannel(alg, privateKey))).channel, "news");
      assert.equal((await verifier.verifyConnectToken(token)).user, "42");
    });
  }

  it("refuses an ES algorithm that does not match the key's curve", async () => {
    const p256 = await keyPair("ES256");
    const p384 = await keyPair("ES384");
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "ES384" }).sign(p384.privateKey);
    const verifier = new TokenVerifier(tokenConfig({ ecdsa_public_key: p256.pem }));
    await assert.rejects(verifier.verifyConnectToken(token), InvalidTokenError);
  });

  it("verifies RS256, RS384 and RS512 with one PKCS#1 RSA public key PEM", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = publicKey.export({ type: "pkcs1", format: "pem" }).toString();
    const verifier = new TokenVerifier(tokenConfig({ rsa_public_key: pem }));
    for (const alg of ["RS256", "RS384", "RS512"]) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg }).sign(privateKey);
      assert.equal((await verifier.verifyConnectToken(token)).user, "42");
    }
  });

  it("verifies each family with its own key when several are configured", async () => {
    const rsa = await keyPair("RS256");
    const ec = await keyPair("ES256");
    const verifier = new TokenVerifier(
      tokenConfig({ hmac_secret_key: SECRET, rsa_public_key: rsa.pem, ecdsa_public_key: ec.pem }),
    );
    const rs = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey);
    const es = await new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey);
    for (const token of [rs, es, await hmacToken(claims)]) {
      assert.equal((await verifier.verifyConnectToken(token)).user, "42");
    }
  });
});

async function signChannel(alg: string, privateKey: CryptoKey): Promise<string> {
  return new SignJWT({ sub: "42", channel: "news" }).setProtectedHeader({ alg }).sign(privateKey);
}

describe("algorithm pinning", () => {
  it("refuses alg none", async () => {
    const { pem } = await keyPair("RS256");
    for (const config of [tokenConfig({ hmac_secret_key: SECRET }), tokenConfig({ rsa_public_key: pem })]) {
      await assert.rejects(
        new TokenVerifier(config).verifyConnectToken(unsignedToken(claims)),
        InvalidTokenError,
      );
    }
  });

  it("refuses an HS token when only an RSA key is configured, even one keyed with the public PEM", async () => {
    const { pem } = await keyPair("RS256");
    const verifier = new TokenVerifier(tokenConfig({ rsa_public_key: pem }));
    await assert.rejects(
      verifier.verifyConnectToken(await hmacToken(claims, "HS256", pem)),
      InvalidTokenError,
    );
    await assert.rejects(verifier.verifyConnectToken(await hmacToken(claims)), InvalidTokenError);
  });

  it("refuses an RS token when only HMAC is configured, with the RSA public PEM as the secret", async () => {
    const { pem, privateKey } = await keyPair("RS256");
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    const verifier = new TokenVerifier(tokenConfig({ hmac_secret_key: pem }));
    await assert.rejects(verifier.verifyConnectToken(token), InvalidTokenError);
  });

  it("refuses HS tokens keyed with the RSA PEM when both RSA and another HMAC secret are configured", async () => {
    const { pem } = await keyPair("RS256");
    const verifier = new TokenVerifier(tokenConfig({ rsa_public_key: pem, hmac_secret_key: SECRET }));
    await assert.rejects(
      verifier.verifyConnectToken(await hmacToken(claims, "HS256", pem)),
      InvalidTokenError,
    );
  });

  it("refuses algorithms Centrifugo does not support", async () => {
    const { privateKey } = await generateKeyPair("PS256");
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "PS256" }).sign(privateKey);
    await assert.rejects(hmacVerifier().verifyConnectToken(token), InvalidTokenError);
  });

  it("refuses every token when no key is configured", async () => {
    const verifier = new TokenVerifier(tokenConfig());
    await assert.rejects(verifier.verifyConnectToken(await hmacToken(claims)), InvalidTokenError);
  });
});

describe("HMAC secret rotation", () => {
  const rotated = (validUntil: number, now?: () => number) =>
    new TokenVerifier(
      tokenConfig({
        hmac_secret_key: "new-secret",
        hmac_previous_secret_key: SECRET,
        hmac_previous_secret_key_valid_until: validUntil,
      }),
      { now },
    );

  it("accepts tokens signed with the previous secret while it is valid", async () => {
    const old = await hmacToken(claims);
    assert.equal((await rotated(0).verifyConnectToken(old)).user, "42");
    assert.equal((await rotated(nowSeconds() + 60).verifyConnectToken(old)).user, "42");
    assert.equal(
      (await rotated(0).verifyConnectToken(await hmacToken(claims, "HS256", "new-secret"))).user,
      "42",
    );
  });

  it("keeps the previous secret through its valid_until second, then drops it", async () => {
    const old = await hmacToken(claims);
    const validUntil = nowSeconds() + 100;
    assert.equal(
      (await rotated(validUntil, () => validUntil * 1000 + 999).verifyConnectToken(old)).user,
      "42",
    );
    await assert.rejects(
      rotated(validUntil, () => (validUntil + 1) * 1000).verifyConnectToken(old),
      InvalidTokenError,
    );
    await assert.rejects(rotated(nowSeconds() - 10).verifyConnectToken(old), InvalidTokenError);
  });

  it("still refuses secrets that are neither current nor previous", async () => {
    const token = await hmacToken(claims, "HS256", "third-secret");
    await assert.rejects(rotated(0).verifyConnectToken(token), InvalidTokenError);
  });
});

describe("skipSignatureVerify", () => {
  const insecure = () =>
    new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET, audience: "app" }), {
      skipSignatureVerify: true,
    });

  it("trusts any signature, alg none included", async () => {
    const forged = await hmacToken({ sub: "7", aud: "app" }, "HS256", "whatever");
    assert.equal((await insecure().verifyConnectToken(forged)).user, "7");
    assert.equal((await insecure().verifyConnectToken(unsignedToken({ sub: "8", aud: "app" }))).user, "8");
  });

  it("still checks expiry, audience and claim types", async () => {
    const expired = unsignedToken({ sub: "7", aud: "app", exp: nowSeconds() - 1 });
    await assert.rejects(insecure().verifyConnectToken(expired), TokenExpiredError);
    await assert.rejects(
      insecure().verifyConnectToken(unsignedToken({ sub: "7", aud: "web" })),
      InvalidTokenError,
    );
    await assert.rejects(
      insecure().verifyConnectToken(unsignedToken({ sub: 7, aud: "app" })),
      InvalidTokenError,
    );
  });
});

describe("garbage tokens", () => {
  const payload = base64url('{"sub":"1"}');
  const header = base64url('{"alg":"HS256"}');
  const cases: Record<string, unknown> = {
    empty: "",
    "plain text": "hello",
    "only a prefix": "eyJ",
    "two segments": `${header}.${payload}`,
    "four segments": `${header}.${payload}.sig.extra`,
    "not starting with eyJ": "a.b.c",
    "header not JSON": `eyJub3Q.${payload}.c2ln`,
    "padded segment": `${header}=.${payload}.c2ln`,
    "invalid base64url": `${header}.${payload}+/.c2ln`,
    "whitespace inside": `${header}. ${payload}.c2ln`,
    "header alg not a string": rawHmacToken('{"sub":"1"}', '{"alg":5}'),
    "header typ not a string": rawHmacToken('{"sub":"1"}', '{"alg":"HS256","typ":1}'),
    "payload not JSON": rawHmacToken("{sub:1}"),
    "payload an array": rawHmacToken('[{"sub":"1"}]'),
    "payload null": rawHmacToken("null"),
    "payload a string": rawHmacToken('"sub"'),
    "not a string at all": 42,
    "a nullish token": null,
  };

  for (const [name, token] of Object.entries(cases)) {
    it(`refuses ${name}`, async () => {
      const verifier = hmacVerifier();
      await assert.rejects(verifier.verifyConnectToken(token as string), InvalidTokenError);
      await assert.rejects(verifier.verifySubscribeToken(token as string), InvalidTokenError);
    });
  }

  it("accepts the hand-built form of a valid token", async () => {
    assert.equal((await hmacVerifier().verifyConnectToken(rawHmacToken('{"sub":"1"}'))).user, "1");
  });
});

describe("TokenVerifier construction", () => {
  it("throws on an invalid config, naming the problem", () => {
    assert.throws(
      () => new TokenVerifier(tokenConfig({ rsa_public_key: "nope" })),
      /token\.rsa_public_key: not a valid RSA public key PEM/,
    );
  });
});
