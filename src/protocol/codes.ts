/**
 * Centrifugo's error, disconnect and unsubscribe codes as typed values (centrifuge errors.go, disconnect.go).
 * Handlers throw `ClientError` to answer a command with an error reply and `Disconnect` to close the connection.
 */

/** An error sent back in reply to one command; the connection stays open. */
export class ClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly temporary = false,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

/** A reason to close a connection, sent as the WebSocket close frame (code + reason text). */
export class Disconnect extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = "Disconnect";
  }

  /** Codes 3000–3499 and 4000–4499 advise the client to reconnect. */
  get reconnect(): boolean {
    return (this.code >= 3000 && this.code < 3500) || (this.code >= 4000 && this.code < 4500);
  }
}

export const ErrorInternal = new ClientError(100, "internal server error", true);
export const ErrorUnauthorized = new ClientError(101, "unauthorized");
export const ErrorUnknownChannel = new ClientError(102, "unknown channel");
export const ErrorPermissionDenied = new ClientError(103, "permission denied");
export const ErrorMethodNotFound = new ClientError(104, "method not found");
export const ErrorAlreadySubscribed = new ClientError(105, "already subscribed");
export const ErrorLimitExceeded = new ClientError(106, "limit exceeded");
export const ErrorBadRequest = new ClientError(107, "bad request");
export const ErrorNotAvailable = new ClientError(108, "not available");
export const ErrorTokenExpired = new ClientError(109, "token expired");
export const ErrorExpired = new ClientError(110, "expired");
export const ErrorTooManyRequests = new ClientError(111, "too many requests", true);
export const ErrorUnrecoverablePosition = new ClientError(112, "unrecoverable position");

/** Closed without a close frame of ours (e.g. the peer went away). */
export const DisconnectConnectionClosed = new Disconnect(3000, "connection closed");
export const DisconnectShutdown = new Disconnect(3001, "shutdown");
export const DisconnectServerError = new Disconnect(3004, "internal server error");
export const DisconnectExpired = new Disconnect(3005, "connection expired");
export const DisconnectSubExpired = new Disconnect(3006, "subscription expired");
export const DisconnectSlow = new Disconnect(3008, "slow");
export const DisconnectWriteError = new Disconnect(3009, "write error");
export const DisconnectInsufficientState = new Disconnect(3010, "insufficient state");
export const DisconnectForceReconnect = new Disconnect(3011, "force reconnect");
export const DisconnectNoPong = new Disconnect(3012, "no pong");
export const DisconnectTooManyRequests = new Disconnect(3013, "too many requests");
export const DisconnectStateInvalidated = new Disconnect(3014, "state invalidated");
export const DisconnectInvalidToken = new Disconnect(3500, "invalid token");
export const DisconnectBadRequest = new Disconnect(3501, "bad request");
export const DisconnectStale = new Disconnect(3502, "stale");
export const DisconnectForceNoReconnect = new Disconnect(3503, "force disconnect");
export const DisconnectConnectionLimit = new Disconnect(3504, "connection limit");
export const DisconnectChannelLimit = new Disconnect(3505, "channel limit");
export const DisconnectInappropriateProtocol = new Disconnect(3506, "inappropriate protocol");
export const DisconnectPermissionDenied = new Disconnect(3507, "permission denied");
export const DisconnectNotAvailable = new Disconnect(3508, "not available");
export const DisconnectTooManyErrors = new Disconnect(3509, "too many errors");

/** Server-initiated unsubscribe reasons, sent in `push.unsubscribe` (range 2000–2999). */
export interface Unsubscribe {
  readonly code: number;
  readonly reason: string;
}

export const UnsubscribeServer: Unsubscribe = { code: 2000, reason: "server unsubscribe" };
export const UnsubscribeInsufficientState: Unsubscribe = { code: 2500, reason: "insufficient state" };
export const UnsubscribeExpired: Unsubscribe = { code: 2501, reason: "subscription expired" };
export const UnsubscribeStateInvalidated: Unsubscribe = { code: 2502, reason: "state invalidated" };
