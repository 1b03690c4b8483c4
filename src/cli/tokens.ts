/** `gentoken`, `gensubtoken`, `checktoken`, `checksubtoken`: HS256 tokens for testing, and token verification. */
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { TokenVerifier } from "../auth/index.js";
import { type Config, formatDuration } from "../config/index.js";
import { fail, loadOrExit, messageOf } from "./output.js";

type TokenSection = Config["client"]["token"];

/** Options of the two generating commands. */
export interface GenTokenOptions {
  file: string | undefined;
  user: string;
  /** Seconds; negative = no `exp`. */
  ttl: number;
  quiet: boolean;
}

/** Subscription tokens use `client.subscription_token` when it is enabled, `client.token` otherwise. */
function subscriptionSection(config: Config): TokenSection {
  return config.client.subscription_token.enabled ? config.client.subscription_token : config.client.token;
}

async function sign(
  section: TokenSection,
  user: string,
  ttl: number,
  extra: Record<string, unknown>,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: user, ...extra, iat: now };
  // Centrifugo adds exp only for a positive TTL: 0 and -1 both give a token that never expires.
  if (ttl > 0) claims.exp = now + ttl;
  if (section.user_id_claim !== "") claims[section.user_id_claim] = user;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(section.hmac_secret_key));
}

function describeUser(user: string): string {
  return user === "" ? "anonymous user" : `user "${user}"`;
}

function describeTtl(ttl: number): string {
  return ttl >= 0 ? `with expiration TTL ${formatDuration(ttl * 1000)}` : "without expiration";
}

function print(token: string, quiet: boolean, description: string): void {
  process.stdout.write(quiet ? token : `HMAC SHA-256 JWT for ${description}:\n${token}\n`);
}

/** gentoken only signs HS256, like Centrifugo's; `where` names the key(s) it looked for. */
function requireHmacKey(section: TokenSection, command: string, where: string): void {
  if (section.hmac_secret_key !== "") return;
  fail(
    `error: ${command} only supports generating HMAC-signed tokens, but no HMAC secret key is set in the ` +
      `configuration (${where}) – if you use RSA/ECDSA/JWKS token verification you need to generate the JWT with ` +
      "your own tooling",
  );
}

/** `gentoken`: a connection token signed with `client.token.hmac_secret_key`. */
export async function gentoken(options: GenTokenOptions): Promise<void> {
  const section = loadOrExit(options.file).config.client.token;
  requireHmacKey(section, "gentoken", "client.token.hmac_secret_key");
  const token = await sign(section, options.user, options.ttl, {});
  print(token, options.quiet, `${describeUser(options.user)} ${describeTtl(options.ttl)}`);
}

/** `gensubtoken`: a subscription token for `channel`. */
export async function gensubtoken(options: GenTokenOptions & { channel: string }): Promise<void> {
  const config = loadOrExit(options.file).config;
  if (options.channel === "") fail("channel is required");
  const section = subscriptionSection(config);
  const where =
    "client.subscription_token.hmac_secret_key, or client.token.hmac_secret_key when subscription token is not " +
    "separately configured";
  requireHmacKey(section, "gensubtoken", where);
  const token = await sign(section, options.user, options.ttl, { channel: options.channel });
  const description = `${describeUser(options.user)} and channel "${options.channel}" ${describeTtl(options.ttl)}`;
  print(token, options.quiet, description);
}

/** The token's claims as JSON text and its algorithm, for messages; undefined when it can't be decoded. */
function inspect(token: string): { alg: string; claims: string } | undefined {
  try {
    return { alg: String(decodeProtectedHeader(token).alg), claims: JSON.stringify(decodeJwt(token)) };
  } catch {
    return undefined;
  }
}

function makeVerifier(config: Config, section: TokenSection): TokenVerifier {
  try {
    return new TokenVerifier(section, {
      skipSignatureVerify: config.client.insecure_skip_token_signature_verify,
    });
  } catch (err) {
    return fail(`error: ${messageOf(err)}`);
  }
}

async function verifyOrExit<T>(
  token: string | undefined,
  command: string,
  verify: (t: string) => Promise<T>,
) {
  if (token === undefined) fail(`error: provide token to check [turbine ${command} <TOKEN>]`);
  const decoded = inspect(token);
  try {
    return { result: await verify(token), claims: decoded?.claims ?? "" };
  } catch (err) {
    const about =
      decoded === undefined ? "" : `token with algorithm ${decoded.alg} and claims ${decoded.claims} has `;
    return fail(`error: ${about}error: ${messageOf(err)}`);
  }
}

/** `checktoken`: verifies a connection token with `client.token`. */
export async function checktoken(file: string | undefined, token: string | undefined): Promise<void> {
  const config = loadOrExit(file).config;
  const verifier = makeVerifier(config, config.client.token);
  const { result, claims } = await verifyOrExit(token, "checktoken", (t) => verifier.verifyConnectToken(t));
  const user = result.user === "" ? "anonymous user" : `user ${result.user}`;
  process.stdout.write(`valid token for ${user}\npayload: ${claims}\n`);
}

/** `checksubtoken`: verifies a subscription token like gensubtoken signs it. */
export async function checksubtoken(file: string | undefined, token: string | undefined): Promise<void> {
  const config = loadOrExit(file).config;
  const verifier = makeVerifier(config, subscriptionSection(config));
  const { result, claims } = await verifyOrExit(token, "checksubtoken", (t) =>
    verifier.verifySubscribeToken(t),
  );
  process.stdout.write(
    `valid subscription token for ${describeUser(result.user)} and channel "${result.channel}"\npayload: ${claims}\n`,
  );
}
