import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { exportSPKI, generateKeyPair } from "jose";
import { type TokenVerifierConfig, validateTokenVerifierConfig } from "../../src/auth/index.js";
import { tokenConfig } from "./helpers.js";

const problems = (config: Partial<TokenVerifierConfig>) =>
  validateTokenVerifierConfig(tokenConfig(config), "client.token");

const rsaPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
  type: "spki",
  format: "pem",
});
const smallRsaPem = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
  type: "spki",
  format: "pem",
});
const ecPem = async (alg: string) => exportSPKI((await generateKeyPair(alg)).publicKey);

describe("validateTokenVerifierConfig", () => {
  it("accepts an empty section and the usual setups", async () => {
    assert.deepEqual(problems({}), []);
    assert.deepEqual(problems({ hmac_secret_key: "s", hmac_previous_secret_key: "p" }), []);
    assert.deepEqual(
      problems({ rsa_public_key: rsaPem.toString(), ecdsa_public_key: await ecPem("ES384") }),
      [],
    );
    assert.deepEqual(
      problems({ jwks_public_endpoint: "https://auth.example.com/.well-known/jwks.json" }),
      [],
    );
    assert.deepEqual(problems({ audience_regex: "^app$", issuer: "auth", user_id_claim: "user.id" }), []);
  });

  it("reports exclusive pairs", () => {
    assert.deepEqual(problems({ audience: "a", audience_regex: "a" }), [
      "client.token.audience and audience_regex are exclusive",
    ]);
    assert.deepEqual(problems({ issuer: "i", issuer_regex: "i" }), [
      "client.token.issuer and issuer_regex are exclusive",
    ]);
  });

  it("reports regular expressions JavaScript cannot run as RE2 would", () => {
    for (const pattern of ["(", "[[:alpha:]]", "(?U)a"]) {
      const [problem] = problems({ issuer_regex: pattern });
      assert.match(problem ?? "", /^client\.token\.issuer_regex: not a valid regular expression/, pattern);
    }
    assert.deepEqual(problems({ audience_regex: "(?i)^(?P<env>prod|dev)$" }), []);
    assert.deepEqual(problems({ audience_regex: "^\\pL+\\-\\d\\_[\\w-]$" }), []);
    assert.deepEqual(problems({ audience_regex: "\\Aapp\\z" }), []);
  });

  it("reports bad RSA keys", async () => {
    const notRsa = "client.token.rsa_public_key: not a valid RSA public key PEM";
    assert.deepEqual(problems({ rsa_public_key: "garbage" }), [notRsa]);
    assert.deepEqual(problems({ rsa_public_key: await ecPem("ES256") }), [notRsa]);
    const privatePem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    assert.deepEqual(problems({ rsa_public_key: privatePem.toString() }), [notRsa]);
    assert.deepEqual(problems({ rsa_public_key: smallRsaPem.toString() }), [
      "client.token.rsa_public_key: RSA key must be at least 2048 bits",
    ]);
  });

  it("reports bad ECDSA keys and unsupported curves", () => {
    assert.deepEqual(problems({ ecdsa_public_key: rsaPem.toString() }), [
      "client.token.ecdsa_public_key: not a valid ECDSA public key PEM",
    ]);
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    assert.match(
      problems({ ecdsa_public_key: k1.toString() })[0] ?? "",
      /ecdsa_public_key: curve secp256k1 is not/,
    );
  });

  it("reports a bad JWKS endpoint", () => {
    for (const endpoint of ["ftp://example.com/jwks", "not a url", "/jwks"]) {
      assert.deepEqual(problems({ jwks_public_endpoint: endpoint }), [
        "client.token.jwks_public_endpoint: must be an http:// or https:// URL",
      ]);
    }
  });

  it("accepts a JWKS template whose groups list their values", () => {
    const config = {
      jwks_public_endpoint: "https://{{tenant}}.auth.example.com/{{env}}/jwks",
      issuer_regex: "^https://(?P<tenant>acme|globex)\\.example\\.com$",
      audience_regex: "^(?<env>prod|dev\\-1)$",
    };
    assert.deepEqual(problems(config), []);
  });

  it("reports JWKS templates that would let a token choose where keys come from", () => {
    const endpoint = "https://auth.example.com/{{tenant}}/jwks";
    const unsafe = [
      "^(?P<tenant>[a-z]+)$",
      "^(?P<tenant>.+)$",
      "^(?P<tenant>\\w+)$",
      "^(?P<tenant>acme|globex)[0-9]$",
      "^(?P<tenant>acme|(glo|bex))$",
    ];
    for (const issuer_regex of unsafe) {
      assert.ok(problems({ jwks_public_endpoint: endpoint, issuer_regex }).length > 0, issuer_regex);
    }
    assert.deepEqual(problems({ jwks_public_endpoint: endpoint }), [
      "client.token.jwks_public_endpoint: placeholder {{tenant}} is not a named group of issuer_regex or audience_regex",
    ]);
  });

  it("reports a bad user_id_claim and valid_until", () => {
    assert.match(
      problems({ user_id_claim: "user-id" })[0] ?? "",
      /^client\.token\.user_id_claim: must match/,
    );
    assert.match(problems({ user_id_claim: "a..b" })[0] ?? "", /user_id_claim/);
    for (const validUntil of [-1, 1.5, Number.NaN]) {
      assert.deepEqual(problems({ hmac_previous_secret_key_valid_until: validUntil }), [
        "client.token.hmac_previous_secret_key_valid_until: must be a non-negative integer (unix seconds)",
      ]);
    }
  });

  it("uses the given key path", () => {
    const [problem] = validateTokenVerifierConfig(
      tokenConfig({ audience: "a", audience_regex: "a" }),
      "client.subscription_token",
    );
    assert.equal(problem, "client.subscription_token.audience and audience_regex are exclusive");
  });
});
