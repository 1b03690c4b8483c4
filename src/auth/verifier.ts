import type { KeyInput } from "jose";
import { decodeBase64Std } from "./base64.js";
import {
  type ConnectClaims,
  decodeConnectClaims,
  decodeSubscribeClaims,
  type JoseHeader,
  type RawSubscribeOptions,
  type RegisteredClaims,
  type SubscribeClaims,
} from "./claims.js";
import { parseCompactToken } from "./compact.js";
import { type CompiledTokenConfig, compileTokenVerifierConfig, type TokenVerifierConfig } from "./config.js";
import { InvalidTokenError, TokenExpiredError } from "./errors.js";
import { JwksCache, jwkAlgorithm } from "./jwks.js";
import { resolveJwksUrl } from "./jwks-template.js";
import { staticKeys, verifySignature } from "./signature.js";
import type { ConnectToken, SubscribeOptionsClaims, SubscribeToken } from "./types.js";

/** How a TokenVerifier reaches the outside world. */
export interface TokenVerifierOptions {
  /**
   * Centrifugo's `client.insecure_skip_token_signature_verify`: trust any signature (even `alg: none`), still
   * checking claims, `exp` and `nbf`. For testing only.
   */
  skipSignatureVerify?: boolean;
  /** Used for JWKS requests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Verifies connection and subscription JWTs exactly as Centrifugo does (centrifugo internal/jwtverify/token_verifier_jwt.go). Checks run in
 * Centrifugo's order: format and claim types, `issuer_regex`/`audience_regex`, signature,
 * `audience`/`issuer`, then `exp`/`nbf` with no leeway. Every failure is an InvalidTokenError except a passed
 * `exp` or a future `nbf`, which is a TokenExpiredError. Keys are prepared once here; JWKS keys are fetched
 * on first use and cached.
 */
export class TokenVerifier {
  private readonly config: CompiledTokenConfig;
  private readonly jwks: JwksCache | undefined;
  private readonly skipSignatureVerify: boolean;
  private readonly now: () => number;

  /** Throws an Error listing the problems when `config` is invalid; see validateTokenVerifierConfig. */
  constructor(config: TokenVerifierConfig, options: TokenVerifierOptions = {}) {
    const { compiled, problems } = compileTokenVerifierConfig(config, "token");
    if (problems.length > 0) throw new Error(`invalid token verifier config: ${problems.join("; ")}`);
    this.config = compiled;
    this.skipSignatureVerify = options.skipSignatureVerify ?? false;
    this.now = options.now ?? Date.now;
    this.jwks = compiled.jwksEndpoint === "" ? undefined : new JwksCache(options.fetch ?? fetch, this.now);
  }

  /** Verifies a connection token. A `channel` claim makes it invalid: that belongs in subscription tokens. */
  async verifyConnectToken(token: string): Promise<ConnectToken> {
    const { header, payload } = parseCompactToken(token);
    const claims = decodeConnectClaims(payload, this.config.userIdPath);
    const pending = this.authenticate(token, header, claims);
    if (pending !== undefined) await pending;
    if (claims.channel !== "") {
      throw new InvalidTokenError("a connection token must not have a channel claim");
    }
    this.checkTime(claims);
    return connectToken(claims);
  }

  /** Verifies a subscription token; its `channel` claim is required. */
  async verifySubscribeToken(token: string): Promise<SubscribeToken> {
    const { header, payload } = parseCompactToken(token);
    const claims = decodeSubscribeClaims(payload, this.config.userIdPath);
    const pending = this.authenticate(token, header, claims);
    if (pending !== undefined) await pending;
    this.checkTime(claims);
    if (claims.channel === "") throw new InvalidTokenError("a subscription token must have a channel claim");
    return subscribeToken(claims);
  }

  /**
   * Patterns come first because their named groups may be needed to build the JWKS URL. Synchronous (returns
   * undefined) unless a key must be fetched or checked by jose.
   */
  private authenticate(
    token: string,
    header: JoseHeader,
    claims: RegisteredClaims,
  ): Promise<void> | undefined {
    const vars = matchPatterns(this.config, claims);
    const signature = this.skipSignatureVerify ? undefined : this.checkSignature(token, header, vars);
    if (signature === undefined) return this.checkAudienceAndIssuer(claims);
    return signature.then(() => this.checkAudienceAndIssuer(claims));
  }

  private checkSignature(
    token: string,
    header: JoseHeader,
    vars: ReadonlyMap<string, string>,
  ): Promise<void> | undefined {
    const jwks = this.jwks;
    if (jwks === undefined) {
      const keys = staticKeys(this.config, header.alg, Math.floor(this.now() / 1000));
      return verifySignature(token, header.alg, keys);
    }
    return jwksKeys(jwks, this.config, header, vars).then((keys) => verifySignature(token, header.alg, keys));
  }

  private checkAudienceAndIssuer(claims: RegisteredClaims): undefined {
    if (this.config.audience !== "" && !claims.aud.includes(this.config.audience)) {
      throw new InvalidTokenError("audience does not match");
    }
    if (this.config.issuer !== "" && claims.iss !== this.config.issuer) {
      throw new InvalidTokenError("issuer does not match");
    }
    return undefined;
  }

  /** Seconds may be fractional; `exp` must be strictly ahead of now and `nbf` strictly behind, as in Go. */
  private checkTime({ exp, nbf }: RegisteredClaims): void {
    const now = this.now();
    if ((exp !== undefined && exp * 1000 <= now) || (nbf !== undefined && nbf * 1000 >= now)) {
      throw new TokenExpiredError();
    }
  }
}

async function jwksKeys(
  jwks: JwksCache,
  config: CompiledTokenConfig,
  header: JoseHeader,
  vars: ReadonlyMap<string, string>,
): Promise<KeyInput[]> {
  if (header.kid === "") throw new InvalidTokenError("a kid header is required to pick a JWKS key");
  const jwk = await jwks.key(resolveJwksUrl(config.jwksEndpoint, vars), header.kid);
  return jwkAlgorithm(jwk, header.alg) === undefined ? [] : [jwk];
}

const noVars: ReadonlyMap<string, string> = new Map();

/** Named groups matched by `issuer_regex` and `audience_regex` (the first matching `aud` element). */
function matchPatterns(config: CompiledTokenConfig, claims: RegisteredClaims): ReadonlyMap<string, string> {
  if (config.issuerRe === undefined && config.audienceRe === undefined) return noVars;
  const vars = new Map<string, string>();
  const collect = (pattern: RegExp, values: readonly string[], claim: string) => {
    const match = values.map((value) => pattern.exec(value)).find((m) => m !== null);
    if (match === undefined) throw new InvalidTokenError(`${claim} does not match ${claim}_regex`);
    for (const [name, value] of Object.entries(match.groups ?? {})) vars.set(name, value ?? "");
  };
  if (config.issuerRe !== undefined) collect(config.issuerRe, [claims.iss], "issuer");
  if (config.audienceRe !== undefined) collect(config.audienceRe, claims.aud, "audience");
  return vars;
}

/** `expire_at` wins over `exp`; `expire_at` of 0 or less means the grant never expires. */
function grantExpireAt({ exp, expireAt }: RegisteredClaims): number {
  if (expireAt !== undefined) return Math.max(expireAt, 0);
  return exp === undefined ? 0 : Math.floor(exp);
}

/** The decoded `b64…` claim when set (it wins), else the raw JSON one. */
function bytesClaim(raw: Uint8Array | undefined, base64: string, name: string): Uint8Array | undefined {
  if (base64 === "") return raw;
  const decoded = decodeBase64Std(base64);
  if (decoded === undefined) throw new InvalidTokenError(`claim "${name}" must be standard padded base64`);
  return decoded;
}

function subscribeOptions(raw: RawSubscribeOptions): SubscribeOptionsClaims {
  const info = bytesClaim(raw.info, raw.b64info, "b64info");
  const data = bytesClaim(raw.data, raw.b64data, "b64data");
  return { ...(info && { info }), ...(data && { data }), ...(raw.override && { override: raw.override }) };
}

function connectToken(claims: ConnectClaims): ConnectToken {
  const subs: Record<string, SubscribeOptionsClaims> = Object.create(null);
  for (const [channel, options] of claims.subs) subs[channel] = subscribeOptions(options);
  const info = bytesClaim(claims.info, claims.b64info, "b64info");
  // Optional members set rather than spread in: spreading sends the object to dictionary mode, a few KB each.
  const token: ConnectToken = {
    user: claims.user,
    expireAt: grantExpireAt(claims),
    channels: claims.subs.size > 0 ? [] : claims.channels,
    subs,
  };
  if (info) token.info = info;
  if (claims.meta) token.meta = claims.meta;
  return token;
}

function subscribeToken(claims: SubscribeClaims): SubscribeToken {
  return {
    user: claims.user,
    channel: claims.channel,
    client: claims.client,
    expireAt: grantExpireAt(claims),
    ...subscribeOptions(claims),
  };
}
