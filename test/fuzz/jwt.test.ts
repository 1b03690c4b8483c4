/**
 * Fuzz target: JWT parsing, for connection and subscription tokens. Any string is refused with
 * InvalidTokenError or TokenExpiredError (what core maps to Centrifugo's codes) or yields claims; tokens signed
 * with the right key carry random claims into every claim reader.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { InvalidTokenError, TokenExpiredError, TokenVerifier } from "../../src/auth/index.js";
import { parseCompactToken } from "../../src/auth/compact.js";
import { decodeConnectClaims, decodeSubscribeClaims } from "../../src/auth/claims.js";
import { tokenConfig } from "../auth/helpers.js";
import { expectOnly, expectOnlyAsync, fuzz, utf8 } from "./harness.js";

const SECRET = "fuzz-secret";
const verifier = new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET, user_id_claim: "user.id" }));

const claimValue = fc.oneof(
  fc.json({ maxDepth: 2 }),
  fc.integer().map(String),
  fc.constantFrom(
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e400",
    "1.5",
    '"1700000000"',
    '"1e3"',
    "[]",
    '["a",null]',
    '{"a":{"b":1}}',
    "null",
    "9".repeat(40),
  ),
);
const claimName = fc.constantFrom(
  ...[
    "sub",
    "exp",
    "nbf",
    "iat",
    "jti",
    "aud",
    "iss",
    "expire_at",
    "info",
    "b64info",
    "channels",
    "subs",
    "meta",
  ],
  ...["channel", "client", "user", "override", "presence", "join_leave", "position", "recover", "SUB", "Exp"],
);
const payload = fc
  .array(fc.tuple(fc.oneof(claimName, fc.string()), claimValue), { maxLength: 6 })
  .map((claims) => `{${claims.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(",")}}`);
const header = fc.oneof(
  fc.constantFrom(
    '{"alg":"HS256"}',
    '{"alg":"HS256","typ":"JWT","kid":""}',
    '{"alg":"none"}',
    '{"alg":"RS256"}',
  ),
  fc.json({ maxDepth: 1 }),
  fc.constantFrom('{"alg":1}', '{"typ":[]}', "{", "[]"),
);

/** A token from `header` and `payload` texts, signed with the verifier's secret or left with a random tail. */
const token = fc
  .tuple(header, fc.oneof(payload, fc.json({ maxDepth: 2 }), fc.string()), fc.boolean(), fc.string())
  .map(([h, p, signed, tail]) => {
    const input = `${Buffer.from(h).toString("base64url")}.${Buffer.from(p).toString("base64url")}`;
    return `${input}.${signed ? createHmac("sha256", SECRET).update(input).digest("base64url") : tail}`;
  });

fuzz<string>({
  name: "jwt",
  arbitrary: fc.oneof(
    { weight: 4, arbitrary: token },
    payload,
    fc.string(),
    fc.string().map((s) => `eyJ${s}`),
  ),
  numRuns: 2000,
  fromCorpus: utf8.decode,
  toCorpus: utf8.encode,
  check: async (text) => {
    expectOnly(() => parseCompactToken(text), InvalidTokenError);
    // The same text as a payload, so that plain inputs reach the claim readers too.
    expectOnly(() => decodeConnectClaims(text, ["user", "id"]), InvalidTokenError);
    expectOnly(() => decodeSubscribeClaims(text), InvalidTokenError);
    await expectOnlyAsync(() => verifier.verifyConnectToken(text), InvalidTokenError, TokenExpiredError);
    await expectOnlyAsync(() => verifier.verifySubscribeToken(text), InvalidTokenError, TokenExpiredError);
  },
});
