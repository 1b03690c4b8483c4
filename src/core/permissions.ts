/**
 * The client-side permission model as pure functions over explicit inputs, in upstream's
 * order (centrifugal/centrifugo internal/client/handler.go). Only `check*` functions throw, and only the
 * ClientError constants of protocol/codes; everything else answers with a value.
 */
import { ErrorBadRequest, ErrorNotAvailable, ErrorPermissionDenied } from "../protocol/codes.js";
import { historyEnabled, type PublicationDataFormat, type ResolvedChannel } from "./namespaces.js";
import type { NamespaceOptions } from "./options.js";

/** The connection asking: its user ("" = anonymous) and whether `client.insecure` is on. */
export interface Requester {
  readonly user: string;
  readonly insecure: boolean;
}

/**
 * What authorises a client subscribe, named after upstream's subscription sources. The proxy sources hand
 * the decision to the subscribe / subscribe stream proxy (108 when none is configured — the caller's part).
 */
export type SubscribeSource =
  | "subscription_token"
  | "user_limited"
  | "subscribe_proxy"
  | "subscribe_stream_proxy"
  | "client_allowed"
  | "client_insecure";

/**
 * The subscribe decision after name validation, first match wins: a private channel
 * without a token throws ErrorPermissionDenied (103); a token authorises once verified; then a user-limited
 * channel listing the user; then the proxies (not for user-limited channels); then namespace permissions;
 * then `client.insecure`; otherwise 103.
 */
export function subscribeSource(ch: ResolvedChannel, who: Requester, hasToken: boolean): SubscribeSource {
  if (ch.private && !hasToken) throw ErrorPermissionDenied;
  if (hasToken) return "subscription_token";
  if (isListedUser(ch, who)) return "user_limited";
  const userLimited = ch.allowedUsers !== null;
  if (ch.options.subscribe_proxy_enabled && !userLimited) return "subscribe_proxy";
  if (ch.options.subscribe_stream_proxy_enabled && !userLimited) return "subscribe_stream_proxy";
  return configSubscribeSource(ch, who) ?? deny();
}

/**
 * Whether a channel a client asks for in its connect request joins its server-side subscriptions. Names
 * that fail the check, private channels and channels behind a subscribe proxy are skipped silently.
 */
export function canSubscribeAtConnect(ch: ResolvedChannel, who: Requester): boolean {
  if (!ch.validName || ch.private || ch.options.subscribe_proxy_enabled) return false;
  return configSubscribeSource(ch, who) !== undefined;
}

/** Permission from config alone: listed user, namespace permission, or `client.insecure`. */
function configSubscribeSource(
  ch: ResolvedChannel,
  who: Requester,
): "user_limited" | "client_allowed" | "client_insecure" | undefined {
  if (isListedUser(ch, who)) return "user_limited";
  const { options } = ch;
  const anonymousOk = who.user !== "" || options.allow_subscribe_for_anonymous;
  if (options.allow_subscribe_for_client && anonymousOk && ch.allowedUsers === null) return "client_allowed";
  return who.insecure ? "client_insecure" : undefined;
}

/**
 * An anonymous connection is never a listed user, even where the list has an empty entry (`chat#`).
 * Upstream's connect path agrees; its subscribe path would let "" match an empty entry.
 */
function isListedUser(ch: ResolvedChannel, who: Requester): boolean {
  return who.user !== "" && ch.allowedUsers !== null && ch.allowedUsers.includes(who.user);
}

function deny(): never {
  throw ErrorPermissionDenied;
}

/** Who handles a client publish that passed `checkPublish`. */
export type PublishRoute = "publish_proxy" | "subscribe_stream" | "allowed";

/**
 * The publish decision after name and data checks: a publish proxy decides when enabled; with a subscribe
 * stream proxy the data goes up a bidirectional stream (unidirectional → ErrorNotAvailable, 108); otherwise
 * `canPublish` or ErrorPermissionDenied (103).
 */
export function checkPublish(options: NamespaceOptions, who: Requester, subscribed: boolean): PublishRoute {
  if (options.publish_proxy_enabled) return "publish_proxy";
  if (options.subscribe_stream_proxy_enabled) {
    if (!options.subscribe_stream_proxy_bidirectional) throw ErrorNotAvailable;
    return "subscribe_stream";
  }
  return canPublish(options, who, subscribed) ? "allowed" : deny();
}

/**
 * Namespace publish permission: `allow_publish_for_client`, or `allow_publish_for_subscriber` while
 * subscribed — anonymous users also need `allow_publish_for_anonymous` — or `client.insecure`.
 */
export function canPublish(options: NamespaceOptions, who: Requester, subscribed: boolean): boolean {
  const anonymousOk = who.user !== "" || options.allow_publish_for_anonymous;
  if (options.allow_publish_for_client && anonymousOk) return true;
  if (options.allow_publish_for_subscriber && subscribed && anonymousOk) return true;
  return who.insecure;
}

/**
 * Presence access: `allow_presence_for_client`, or `allow_presence_for_subscriber` while subscribed —
 * anonymous users also need `allow_presence_for_anonymous` — or `client.insecure`. Pass `subscribed`
 * true while deciding a subscribe, which counts as subscribed.
 */
export function hasPresenceAccess(options: NamespaceOptions, who: Requester, subscribed: boolean): boolean {
  const anonymousOk = who.user !== "" || options.allow_presence_for_anonymous;
  if (options.allow_presence_for_client && anonymousOk) return true;
  if (options.allow_presence_for_subscriber && subscribed && anonymousOk) return true;
  return who.insecure;
}

/** The `history` counterpart of `hasPresenceAccess`, with the `allow_history_for_*` options. */
export function hasHistoryAccess(options: NamespaceOptions, who: Requester, subscribed: boolean): boolean {
  const anonymousOk = who.user !== "" || options.allow_history_for_anonymous;
  if (options.allow_history_for_client && anonymousOk) return true;
  if (options.allow_history_for_subscriber && subscribed && anonymousOk) return true;
  return who.insecure;
}

/**
 * Client `presence` and `presence_stats`: ErrorNotAvailable (108) when the namespace has no `presence`,
 * even for insecure clients; then ErrorPermissionDenied (103) without presence access.
 */
export function checkPresence(options: NamespaceOptions, who: Requester, subscribed: boolean): void {
  if (!options.presence) throw ErrorNotAvailable;
  if (!hasPresenceAccess(options, who, subscribed)) throw ErrorPermissionDenied;
}

/**
 * Client `history`: ErrorNotAvailable (108) unless the namespace keeps history, even for insecure clients;
 * then ErrorPermissionDenied (103) without history access.
 */
export function checkHistory(options: NamespaceOptions, who: Requester, subscribed: boolean): void {
  if (!historyEnabled(options)) throw ErrorNotAvailable;
  if (!hasHistoryAccess(options, who, subscribed)) throw ErrorPermissionDenied;
}

/**
 * Per-subscription overrides of namespace options from a subscription token's or a subscribe proxy's
 * `override` (keys as there, `{value}` wrappers removed). Absent = the namespace option.
 */
export interface SubscribeOverride {
  readonly presence?: boolean;
  readonly join_leave?: boolean;
  readonly force_push_join_leave?: boolean;
  readonly force_recovery?: boolean;
  readonly force_positioning?: boolean;
}

/** What a client asked for in its SubscribeRequest. */
export interface SubscribeRequestFlags {
  readonly positioned: boolean;
  readonly recoverable: boolean;
  readonly joinLeave: boolean;
}

/** How a subscription behaves once accepted. */
export interface SubscriptionFlags {
  /** Joins channel presence. */
  readonly emitPresence: boolean;
  /** Its subscribe/unsubscribe sends join/leave to the channel. */
  readonly emitJoinLeave: boolean;
  /** Receives the channel's join/leave pushes. */
  readonly pushJoinLeave: boolean;
  /** Its stream position is tracked; always true when `recoverable` is. */
  readonly positioned: boolean;
  readonly recoverable: boolean;
  readonly recoveryMode: "stream" | "cache";
  /** Deliver the latest publication on subscribe without the client asking (cache mode only). */
  readonly autoCacheRecover: boolean;
}

/** Inputs to `subscriptionFlags`. */
export interface SubscriptionFlagsInput {
  readonly options: NamespaceOptions;
  readonly who: Requester;
  /** How the subscription was authorised; "server_side" for connect-time and server API subscriptions. */
  readonly source: SubscribeSource | "server_side";
  /** The client's asks; upstream honours them only for token, user-limited, client and insecure sources. */
  readonly requested?: SubscribeRequestFlags;
  readonly override?: SubscribeOverride;
}

/**
 * A subscription's flags: the namespace's `presence`, `join_leave`, `force_push_join_leave`,
 * `force_positioning` and `force_recovery` (each replaced by the override when given), then the client's
 * asks — positioned/recoverable with `allow_positioning`/`allow_recovery` or history access, join/leave
 * with namespace `join_leave` and presence access. A subscribe stream proxy never positions or recovers.
 */
export function subscriptionFlags(input: SubscriptionFlagsInput): SubscriptionFlags {
  const { options, who, override = {} } = input;
  const asks = honoursRequest(input.source) ? input.requested : undefined;
  // The stream proxy, not history, feeds such a subscription, so there is no position to keep.
  const hasStream = input.source !== "subscribe_stream_proxy";
  const forcedRecovery = override.force_recovery ?? options.force_recovery;
  const forcedPositioning = override.force_positioning ?? options.force_positioning;
  const recoverable = hasStream && (forcedRecovery || mayRecover(options, who, asks));
  const positioned = recoverable || (hasStream && (forcedPositioning || mayPosition(options, who, asks)));
  const recoveryMode = options.force_recovery_mode === "cache" ? "cache" : "stream";
  return sharedFlags({
    emitPresence: override.presence ?? options.presence,
    emitJoinLeave: override.join_leave ?? options.join_leave,
    pushJoinLeave: pushesJoinLeave(options, who, asks?.joinLeave ?? false, override.force_push_join_leave),
    positioned,
    recoverable,
    recoveryMode,
    autoCacheRecover: recoverable && options.auto_cache_recover && recoveryMode === "cache",
  });
}

/** One frozen flags object per combination (at most 128), shared by the subscriptions that have it. */
const flagsByBits = new Map<number, SubscriptionFlags>();

/** Every subscription holds its flags: the shared equal object rather than its own copy. */
function sharedFlags(flags: SubscriptionFlags): SubscriptionFlags {
  const bits =
    Number(flags.emitPresence) |
    (Number(flags.emitJoinLeave) << 1) |
    (Number(flags.pushJoinLeave) << 2) |
    (Number(flags.positioned) << 3) |
    (Number(flags.recoverable) << 4) |
    (Number(flags.recoveryMode === "cache") << 5) |
    (Number(flags.autoCacheRecover) << 6);
  let shared = flagsByBits.get(bits);
  if (shared === undefined) {
    shared = Object.freeze(flags);
    flagsByBits.set(bits, shared);
  }
  return shared;
}

/**
 * Whether a subscriber receives join/leave pushes: `force_push_join_leave` (or its override), or it asked
 * and the namespace has `join_leave` and it has presence access. Pushes only flow where some subscriber
 * emits join/leave, so `force_push_join_leave` alone delivers nothing.
 */
export function pushesJoinLeave(
  options: NamespaceOptions,
  who: Requester,
  asked: boolean,
  forcePush = options.force_push_join_leave,
): boolean {
  return forcePush || (asked && options.join_leave && hasPresenceAccess(options, who, true));
}

function honoursRequest(source: SubscribeSource | "server_side"): boolean {
  return source === "subscription_token" || source === "user_limited" || source.startsWith("client_");
}

function mayPosition(options: NamespaceOptions, who: Requester, asks?: SubscribeRequestFlags): boolean {
  return asks?.positioned === true && (options.allow_positioning || hasHistoryAccess(options, who, true));
}

function mayRecover(options: NamespaceOptions, who: Requester, asks?: SubscribeRequestFlags): boolean {
  return asks?.recoverable === true && (options.allow_recovery || hasHistoryAccess(options, who, true));
}

// Keeping a leading BOM makes JSON.parse reject it, as Go's json.Valid does.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Checks client publication data against the namespace's effective `publication_data_format`, throwing
 * ErrorBadRequest (107): "" rejects empty data, `json` needs valid JSON, `json_object` a JSON object,
 * `binary` takes anything.
 */
export function checkPublicationData(data: Uint8Array, format: PublicationDataFormat): void {
  if (!isPublicationDataValid(data, format)) throw ErrorBadRequest;
}

function isPublicationDataValid(data: Uint8Array, format: PublicationDataFormat): boolean {
  switch (format) {
    case "binary":
      return true;
    case "json":
      return parseJson(data) !== INVALID;
    case "json_object": {
      const value = parseJson(data);
      return typeof value === "object" && value !== null && !Array.isArray(value);
    }
    default:
      return data.length > 0;
  }
}

const INVALID = Symbol("invalid JSON");

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(data));
  } catch {
    return INVALID;
  }
}
