/**
 * The two ways a connection or subscription token can fail. Core maps them to Centrifugo's codes; everything
 * in `src/auth` throws only these for anything a token contains.
 */

/** `exp` has passed or `nbf` is still ahead; core answers error 109 so the SDK fetches a new token. */
export class TokenExpiredError extends Error {
  constructor(message = "token expired") {
    super(message);
    this.name = "TokenExpiredError";
  }
}

/**
 * The token is malformed, wrongly signed, meant for another audience or issuer, or has claims of the wrong
 * type; core answers disconnect 3500 on connect and error 103 on subscribe. `detail` is for logs only.
 */
export class InvalidTokenError extends Error {
  constructor(detail = "") {
    super(detail === "" ? "invalid token" : `invalid token: ${detail}`);
    this.name = "InvalidTokenError";
  }
}
