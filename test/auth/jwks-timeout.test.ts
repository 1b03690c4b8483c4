/**
 * A JWKS endpoint that accepts the request and never answers: the fetch gives up after its timeout and is
 * tried once more (centrifugo internal/jwks: two attempts), and the token is refused instead of the connect
 * hanging with it.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import { InvalidTokenError, TokenVerifier } from "../../src/auth/index.js";
import { within } from "../helpers/wait.js";
import { tokenConfig } from "./helpers.js";

const requests: IncomingMessage[] = [];
const silent = createServer((req) => requests.push(req));
let endpoint = "";

before(async () => {
  await within(
    new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve)),
    "the silent JWKS endpoint to listen",
  );
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`;
});
after(() => {
  silent.closeAllConnections();
  silent.close();
});

it("refuses the token after two fetch attempts when the JWKS endpoint never answers", async () => {
  const { privateKey } = await generateKeyPair("RS256");
  const token = await new SignJWT({ sub: "1" })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .sign(privateKey);
  const verifier = new TokenVerifier(tokenConfig({ jwks_public_endpoint: endpoint }));
  const error = await within(
    verifier.verifyConnectToken(token).then(
      () => undefined,
      (err: unknown) => err,
    ),
    "the verifier to give up on a silent JWKS endpoint",
  );
  assert.ok(error instanceof InvalidTokenError, String(error));
  assert.match(error.message, /JWKS fetch failed/);
  assert.equal(requests.length, 2, "two attempts");
});
