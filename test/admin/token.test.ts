/**
 * The admin token in gorilla/securecookie's format (centrifugo internal/admin/handlers.go): a vector made by Go
 * (encoding/gob, crypto/hmac, encoding/base64 following securecookie's Encode), the 30-day max age, and tokens
 * that must not verify.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { ADMIN_TOKEN_MAX_AGE_S, signAdminToken, verifyAdminToken } from "../../src/admin/token.js";

const SECRET = "admin-secret";
const ISSUED = 1_700_000_000;
/** Go: securecookie's steps over gob.Encode("authorized") with HMAC-SHA256 key "admin-secret" at ISSUED. */
const GO_TOKEN = "MTcwMDAwMDAwMHxEUXdBQ21GMWRHaHZjbWw2WldRPXxUQm4_MGfH9zFSy5q8BibScXUF23ojDcC_MowZXF0Z1w==";

/** A token signed like securecookie's, with any value part. */
function forged(value: string, secret = SECRET, issued = ISSUED): string {
  const signed = `${issued}|${value}`;
  const mac = createHmac("sha256", secret).update(`token|${signed}`).digest();
  return Buffer.concat([Buffer.from(`${signed}|`), mac])
    .toString("base64")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}

describe("admin token", () => {
  it("is byte for byte what securecookie writes", () => {
    assert.equal(signAdminToken(SECRET, ISSUED), GO_TOKEN);
  });

  it("verifies a securecookie token for 30 days, and not after", () => {
    assert.equal(verifyAdminToken(SECRET, GO_TOKEN, ISSUED), true);
    assert.equal(verifyAdminToken(SECRET, GO_TOKEN, ISSUED + ADMIN_TOKEN_MAX_AGE_S), true);
    assert.equal(verifyAdminToken(SECRET, GO_TOKEN, ISSUED + ADMIN_TOKEN_MAX_AGE_S + 1), false);
    assert.equal(ADMIN_TOKEN_MAX_AGE_S, 2_592_000);
  });

  it("accepts a token from a clock ahead of ours, as securecookie does", () => {
    assert.equal(verifyAdminToken(SECRET, GO_TOKEN, ISSUED - 3600), true);
  });

  it("refuses other secrets, tampering, other values and malformed text", () => {
    const bad: [string, string][] = [
      ["another secret", signAdminToken("other", ISSUED)],
      ["a changed timestamp", forged("DQwACmF1dGhvcml6ZWQ=").replace(/^MTcw/, "MTcx")],
      ["a flipped MAC byte", `${GO_TOKEN.slice(0, 60)}A${GO_TOKEN.slice(61)}`],
      ["another value", forged(Buffer.from("\x0a\x0c\x00\x07visitor").toString("base64"))],
      ["no MAC", Buffer.from(`${ISSUED}|DQwACmF1dGhvcml6ZWQ=`).toString("base64")],
      ["unpadded base64", GO_TOKEN.replace(/=+$/, "")],
      ["the standard alphabet", GO_TOKEN.replace(/_/g, "/")],
      ["over 4096 characters", "A".repeat(4100)],
      ["empty", ""],
      ["a non-numeric timestamp", forged("DQwACmF1dGhvcml6ZWQ=", SECRET, "soon" as unknown as number)],
    ];
    for (const [what, token] of bad) assert.equal(verifyAdminToken(SECRET, token, ISSUED), false, what);
  });

  it("verifies nothing when no secret is configured", () => {
    assert.equal(verifyAdminToken("", signAdminToken("", ISSUED), ISSUED), false);
  });
});
