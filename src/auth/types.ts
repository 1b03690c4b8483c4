/**
 * What a verified token grants, as core consumes it (centrifugo internal/jwtverify). Byte fields hold raw JSON exactly
 * as written in the token, or the decoded `b64…` variant, so they can be passed on to clients unchanged.
 */

/**
 * Per-subscription overrides of namespace options from a token's `override` object. A field is present only
 * when the token sets it; absent means "use the namespace option".
 */
export interface SubscribeOverride {
  presence?: boolean;
  join_leave?: boolean;
  force_recovery?: boolean;
  force_positioning?: boolean;
  force_push_join_leave?: boolean;
}

/** Options for one channel from a connection token's `subs` claim, or from a subscription token. */
export interface SubscribeOptionsClaims {
  /** Channel info: raw JSON of `info`, or decoded `b64info`, which wins. */
  info?: Uint8Array;
  /** Data for the subscribe push: raw JSON of `data`, or decoded `b64data`, which wins. */
  data?: Uint8Array;
  override?: SubscribeOverride;
  /** Unix seconds when the subscription expires; 0 = never. Set only for subscription tokens. */
  expireAt?: number;
}

/** A verified connection token. */
export interface ConnectToken {
  /** User ID from `sub` (or the configured `user_id_claim`); "" = anonymous. */
  user: string;
  /**
   * Unix seconds when the connection expires; 0 = never. The `expire_at` claim wins over `exp`; `expire_at:
   * 0` (or negative) means never even though `exp` is still checked.
   */
  expireAt: number;
  /** Connection info: raw JSON bytes of `info`, or decoded `b64info`, which wins. */
  info?: Uint8Array;
  /**
   * Server-side subscriptions with namespace defaults. Empty whenever `subs` is non-empty, because Centrifugo
   * then ignores `channels`.
   */
  channels: string[];
  /**
   * Server-side subscriptions with options, by channel. A prototype-less object, so any channel name is safe.
   */
  subs: Record<string, SubscribeOptionsClaims>;
  /** Raw JSON of the `meta` object; server-only data stored on the connection. */
  meta?: Uint8Array;
}

/** A verified subscription token; core must check `channel`, `user` and `client` against the request. */
export interface SubscribeToken {
  /** User ID from `sub` (or the configured `user_id_claim`); must equal the connection's user. */
  user: string;
  /** The channel this token grants; never empty. */
  channel: string;
  /** Client ID the token is bound to; "" = any client of the user. */
  client: string;
  /**
   * Unix seconds when the subscription expires; 0 = never. Same `expire_at`/`exp` rule as connection tokens.
   */
  expireAt: number;
  info?: Uint8Array;
  data?: Uint8Array;
  override?: SubscribeOverride;
}
