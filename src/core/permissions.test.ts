import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { namespaceOptions } from "../../test/helpers/namespace.js";
import {
  type ClientError,
  ErrorBadRequest,
  ErrorNotAvailable,
  ErrorPermissionDenied,
} from "../protocol/codes.js";
import { ChannelRules, type PublicationDataFormat, type ResolvedChannel } from "./namespaces.js";
import type { NamespaceOptions } from "./options.js";
import {
  canSubscribeAtConnect,
  checkHistory,
  checkPresence,
  checkPublicationData,
  checkPublish,
  type Requester,
  type SubscribeOverride,
  type SubscribeRequestFlags,
  type SubscribeSource,
  type SubscriptionFlags,
  subscribeSource,
  subscriptionFlags,
} from "./permissions.js";

/** `channel` resolved in a config whose only namespace options (with or without namespace) are `options`. */
function resolveWith(options: Partial<NamespaceOptions>, channel: string): ResolvedChannel {
  const ns = namespaceOptions(options);
  const rules = new ChannelRules({
    without_namespace: ns,
    namespaces: [],
    history_meta_ttl: 0,
    publication_data_format: "",
    max_length: 255,
    private_prefix: "$",
    namespace_boundary: ":",
    user_boundary: "#",
    user_separator: ",",
  });
  return rules.resolve(channel);
}

/** What `fn` returns, or the error it throws, so a table can expect either. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return err;
  }
}

const HOUR = 3_600_000;
const user: Requester = { user: "42", insecure: false };
const anonymous: Requester = { user: "", insecure: false };
const insecureAnonymous: Requester = { user: "", insecure: true };

describe("subscribeSource", () => {
  const forClient = { allow_subscribe_for_client: true };
  const userLimited = { allow_user_limited_channels: true };
  const cases: {
    name: string;
    options: Partial<NamespaceOptions>;
    channel: string;
    who: Requester;
    token?: boolean;
    expected: SubscribeSource | ClientError;
  }[] = [
    {
      name: "private channel without a token",
      options: forClient,
      channel: "$news",
      who: user,
      expected: ErrorPermissionDenied,
    },
    {
      name: "private channel without a token, even insecure",
      options: {},
      channel: "$news",
      who: insecureAnonymous,
      expected: ErrorPermissionDenied,
    },
    {
      name: "private channel with a token",
      options: {},
      channel: "$news",
      who: user,
      token: true,
      expected: "subscription_token",
    },
    {
      name: "token on a public channel",
      options: {},
      channel: "news",
      who: user,
      token: true,
      expected: "subscription_token",
    },
    {
      name: "user-limited channel listing the user",
      options: userLimited,
      channel: "dialog#41,42",
      who: user,
      expected: "user_limited",
    },
    {
      name: "user-limited channel not listing the user, despite allow_subscribe_for_client",
      options: { ...userLimited, ...forClient },
      channel: "dialog#41,43",
      who: user,
      expected: ErrorPermissionDenied,
    },
    {
      name: "user-limited channel not listing the user, insecure",
      options: userLimited,
      channel: "dialog#41",
      who: { user: "42", insecure: true },
      expected: "client_insecure",
    },
    {
      name: "anonymous is never a listed user, even for an empty entry",
      options: { ...userLimited, ...forClient, allow_subscribe_for_anonymous: true },
      channel: "dialog#",
      who: anonymous,
      expected: ErrorPermissionDenied,
    },
    {
      name: "user boundary without allow_user_limited_channels is an ordinary character",
      options: forClient,
      channel: "dialog#41",
      who: user,
      expected: "client_allowed",
    },
    {
      name: "subscribe proxy decides",
      options: { subscribe_proxy_enabled: true },
      channel: "news",
      who: user,
      expected: "subscribe_proxy",
    },
    {
      name: "subscribe proxy is not asked about user-limited channels",
      options: { ...userLimited, subscribe_proxy_enabled: true },
      channel: "dialog#41",
      who: user,
      expected: ErrorPermissionDenied,
    },
    {
      name: "subscribe stream proxy decides",
      options: { subscribe_stream_proxy_enabled: true },
      channel: "news",
      who: user,
      expected: "subscribe_stream_proxy",
    },
    {
      name: "allow_subscribe_for_client, authenticated",
      options: forClient,
      channel: "news",
      who: user,
      expected: "client_allowed",
    },
    {
      name: "allow_subscribe_for_client, anonymous",
      options: forClient,
      channel: "news",
      who: anonymous,
      expected: ErrorPermissionDenied,
    },
    {
      name: "allow_subscribe_for_client and _for_anonymous, anonymous",
      options: { ...forClient, allow_subscribe_for_anonymous: true },
      channel: "news",
      who: anonymous,
      expected: "client_allowed",
    },
    {
      name: "allow_subscribe_for_anonymous alone grants nothing",
      options: { allow_subscribe_for_anonymous: true },
      channel: "news",
      who: anonymous,
      expected: ErrorPermissionDenied,
    },
    {
      name: "client.insecure",
      options: {},
      channel: "news",
      who: insecureAnonymous,
      expected: "client_insecure",
    },
    {
      name: "no permission at all",
      options: {},
      channel: "news",
      who: user,
      expected: ErrorPermissionDenied,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${typeof c.expected === "string" ? c.expected : c.expected.message}`, () => {
      const ch = resolveWith(c.options, c.channel);
      assert.equal(
        outcome(() => subscribeSource(ch, c.who, c.token ?? false)),
        c.expected,
      );
    });
  }
});

describe("canSubscribeAtConnect", () => {
  const cases: {
    name: string;
    options: Partial<NamespaceOptions>;
    channel: string;
    who: Requester;
    allowed: boolean;
  }[] = [
    {
      name: "allowed for clients",
      options: { allow_subscribe_for_client: true },
      channel: "news",
      who: user,
      allowed: true,
    },
    {
      name: "private channel, even insecure",
      options: {},
      channel: "$news",
      who: insecureAnonymous,
      allowed: false,
    },
    {
      name: "behind a subscribe proxy",
      options: { allow_subscribe_for_client: true, subscribe_proxy_enabled: true },
      channel: "news",
      who: user,
      allowed: false,
    },
    {
      name: "invalid name, even insecure",
      options: {},
      channel: "новости",
      who: insecureAnonymous,
      allowed: false,
    },
    {
      name: "user-limited channel listing the user",
      options: { allow_user_limited_channels: true },
      channel: "dialog#42",
      who: user,
      allowed: true,
    },
    {
      name: "user-limited channel with an empty entry, anonymous",
      options: { allow_user_limited_channels: true },
      channel: "dialog#",
      who: anonymous,
      allowed: false,
    },
    { name: "client.insecure", options: {}, channel: "news", who: insecureAnonymous, allowed: true },
    { name: "no permission", options: {}, channel: "news", who: user, allowed: false },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.allowed}`, () => {
      assert.equal(canSubscribeAtConnect(resolveWith(c.options, c.channel), c.who), c.allowed);
    });
  }
});

describe("checkPublish", () => {
  const cases: {
    name: string;
    options: Partial<NamespaceOptions>;
    who: Requester;
    subscribed?: boolean;
    expected: string | ClientError;
  }[] = [
    {
      name: "publish proxy decides",
      options: { publish_proxy_enabled: true },
      who: anonymous,
      expected: "publish_proxy",
    },
    {
      name: "bidirectional subscribe stream",
      options: { subscribe_stream_proxy_enabled: true, subscribe_stream_proxy_bidirectional: true },
      who: user,
      expected: "subscribe_stream",
    },
    {
      name: "unidirectional subscribe stream, even insecure",
      options: { subscribe_stream_proxy_enabled: true, allow_publish_for_client: true },
      who: { user: "42", insecure: true },
      expected: ErrorNotAvailable,
    },
    {
      name: "allow_publish_for_client",
      options: { allow_publish_for_client: true },
      who: user,
      expected: "allowed",
    },
    {
      name: "allow_publish_for_client, anonymous",
      options: { allow_publish_for_client: true },
      who: anonymous,
      expected: ErrorPermissionDenied,
    },
    {
      name: "allow_publish_for_client and _for_anonymous, anonymous",
      options: { allow_publish_for_client: true, allow_publish_for_anonymous: true },
      who: anonymous,
      expected: "allowed",
    },
    {
      name: "allow_publish_for_subscriber while subscribed",
      options: { allow_publish_for_subscriber: true },
      who: user,
      subscribed: true,
      expected: "allowed",
    },
    {
      name: "allow_publish_for_subscriber, not subscribed",
      options: { allow_publish_for_subscriber: true },
      who: user,
      expected: ErrorPermissionDenied,
    },
    {
      name: "allow_publish_for_subscriber, anonymous subscriber",
      options: { allow_publish_for_subscriber: true },
      who: anonymous,
      subscribed: true,
      expected: ErrorPermissionDenied,
    },
    {
      name: "allow_publish_for_subscriber and _for_anonymous, anonymous subscriber",
      options: { allow_publish_for_subscriber: true, allow_publish_for_anonymous: true },
      who: anonymous,
      subscribed: true,
      expected: "allowed",
    },
    { name: "client.insecure", options: {}, who: insecureAnonymous, expected: "allowed" },
    { name: "no permission", options: {}, who: user, subscribed: true, expected: ErrorPermissionDenied },
  ];
  for (const c of cases) {
    it(`${c.name} → ${typeof c.expected === "string" ? c.expected : c.expected.message}`, () => {
      assert.equal(
        outcome(() => checkPublish(namespaceOptions(c.options), c.who, c.subscribed ?? false)),
        c.expected,
      );
    });
  }
});

describe("checkPresence and checkHistory", () => {
  /** One table for both: `for*` stand for the `allow_presence_for_*` / `allow_history_for_*` options. */
  interface Row {
    name: string;
    enabled: boolean;
    forClient?: boolean;
    forSubscriber?: boolean;
    forAnonymous?: boolean;
    who: Requester;
    subscribed?: boolean;
    error?: ClientError;
  }
  const rows: Row[] = [
    { name: "feature off, even insecure", enabled: false, who: insecureAnonymous, error: ErrorNotAvailable },
    {
      name: "feature off, even for_client",
      enabled: false,
      forClient: true,
      who: user,
      error: ErrorNotAvailable,
    },
    { name: "for_client", enabled: true, forClient: true, who: user },
    {
      name: "for_client, anonymous",
      enabled: true,
      forClient: true,
      who: anonymous,
      error: ErrorPermissionDenied,
    },
    {
      name: "for_client and for_anonymous, anonymous",
      enabled: true,
      forClient: true,
      forAnonymous: true,
      who: anonymous,
    },
    {
      name: "for_subscriber while subscribed",
      enabled: true,
      forSubscriber: true,
      who: user,
      subscribed: true,
    },
    {
      name: "for_subscriber, not subscribed",
      enabled: true,
      forSubscriber: true,
      who: user,
      error: ErrorPermissionDenied,
    },
    {
      name: "for_subscriber, anonymous subscriber",
      enabled: true,
      forSubscriber: true,
      who: anonymous,
      subscribed: true,
      error: ErrorPermissionDenied,
    },
    {
      name: "for_subscriber and for_anonymous, anonymous subscriber",
      enabled: true,
      forSubscriber: true,
      forAnonymous: true,
      who: anonymous,
      subscribed: true,
    },
    {
      name: "for_anonymous alone",
      enabled: true,
      forAnonymous: true,
      who: anonymous,
      error: ErrorPermissionDenied,
    },
    { name: "client.insecure", enabled: true, who: insecureAnonymous },
    { name: "no permission", enabled: true, who: user, subscribed: true, error: ErrorPermissionDenied },
  ];
  const presence = (r: Row) =>
    namespaceOptions({
      presence: r.enabled,
      allow_presence_for_client: r.forClient ?? false,
      allow_presence_for_subscriber: r.forSubscriber ?? false,
      allow_presence_for_anonymous: r.forAnonymous ?? false,
    });
  const history = (r: Row) =>
    namespaceOptions({
      history_size: r.enabled ? 10 : 0,
      history_ttl: r.enabled ? HOUR : 0,
      allow_history_for_client: r.forClient ?? false,
      allow_history_for_subscriber: r.forSubscriber ?? false,
      allow_history_for_anonymous: r.forAnonymous ?? false,
    });
  for (const r of rows) {
    it(`presence: ${r.name} → ${r.error?.message ?? "allowed"}`, () => {
      assert.equal(
        outcome(() => checkPresence(presence(r), r.who, r.subscribed ?? false)),
        r.error,
      );
    });
    it(`history: ${r.name} → ${r.error?.message ?? "allowed"}`, () => {
      assert.equal(
        outcome(() => checkHistory(history(r), r.who, r.subscribed ?? false)),
        r.error,
      );
    });
  }
});

describe("subscriptionFlags", () => {
  const nothing: SubscriptionFlags = {
    emitPresence: false,
    emitJoinLeave: false,
    pushJoinLeave: false,
    positioned: false,
    recoverable: false,
    recoveryMode: "stream",
    autoCacheRecover: false,
  };
  const asks = (a: Partial<SubscribeRequestFlags>): SubscribeRequestFlags => ({
    positioned: false,
    recoverable: false,
    joinLeave: false,
    ...a,
  });
  const cases: {
    name: string;
    options: Partial<NamespaceOptions>;
    source?: SubscribeSource | "server_side";
    who?: Requester;
    requested?: SubscribeRequestFlags;
    override?: SubscribeOverride;
    flags: Partial<SubscriptionFlags>;
  }[] = [
    { name: "nothing configured, nothing asked", options: {}, flags: {} },
    {
      name: "presence and join_leave are emitted as configured",
      options: { presence: true, join_leave: true },
      flags: { emitPresence: true, emitJoinLeave: true },
    },
    { name: "force_positioning", options: { force_positioning: true }, flags: { positioned: true } },
    {
      name: "force_recovery also positions",
      options: { force_recovery: true },
      flags: { positioned: true, recoverable: true },
    },
    {
      name: "positioned asked with allow_positioning",
      options: { allow_positioning: true },
      requested: asks({ positioned: true }),
      flags: { positioned: true },
    },
    {
      name: "positioned asked without allow_positioning or history access",
      options: { allow_recovery: true },
      requested: asks({ positioned: true }),
      flags: {},
    },
    {
      name: "positioned asked with history access as a subscriber (subscribing counts)",
      options: { allow_history_for_subscriber: true },
      requested: asks({ positioned: true }),
      flags: { positioned: true },
    },
    {
      name: "positioned asked by anonymous with history for clients but not anonymous",
      options: { allow_history_for_client: true },
      who: anonymous,
      requested: asks({ positioned: true }),
      flags: {},
    },
    {
      name: "recoverable asked with allow_recovery",
      options: { allow_recovery: true },
      requested: asks({ recoverable: true }),
      flags: { positioned: true, recoverable: true },
    },
    {
      name: "recoverable asked by an insecure client (history access)",
      options: {},
      who: insecureAnonymous,
      source: "client_insecure",
      requested: asks({ recoverable: true }),
      flags: { positioned: true, recoverable: true },
    },
    {
      name: "recoverable asked without permission",
      options: { allow_positioning: true },
      requested: asks({ recoverable: true }),
      flags: {},
    },
    {
      name: "asks honoured with a subscription token",
      options: { allow_recovery: true },
      source: "subscription_token",
      requested: asks({ recoverable: true }),
      flags: { positioned: true, recoverable: true },
    },
    {
      name: "asks honoured on a user-limited channel",
      options: { allow_positioning: true },
      source: "user_limited",
      requested: asks({ positioned: true }),
      flags: { positioned: true },
    },
    {
      name: "asks ignored when the subscribe proxy decided",
      options: {
        allow_positioning: true,
        allow_recovery: true,
        join_leave: true,
        allow_presence_for_client: true,
      },
      source: "subscribe_proxy",
      requested: asks({ positioned: true, recoverable: true, joinLeave: true }),
      flags: { emitJoinLeave: true },
    },
    {
      name: "asks ignored for server-side subscriptions",
      options: { allow_positioning: true },
      source: "server_side",
      requested: asks({ positioned: true }),
      flags: {},
    },
    {
      name: "override replaces namespace options",
      options: { presence: true, force_recovery: true, force_push_join_leave: true },
      source: "subscription_token",
      override: {
        presence: false,
        join_leave: true,
        force_recovery: false,
        force_positioning: true,
        force_push_join_leave: false,
      },
      flags: { emitJoinLeave: true, positioned: true },
    },
    {
      name: "subscribe stream proxy never positions or recovers",
      options: { force_positioning: true, force_recovery: true, presence: true },
      source: "subscribe_stream_proxy",
      override: { force_recovery: true },
      flags: { emitPresence: true },
    },
    {
      name: "cache recovery mode with auto_cache_recover",
      options: { force_recovery: true, force_recovery_mode: "cache", auto_cache_recover: true },
      flags: { positioned: true, recoverable: true, recoveryMode: "cache", autoCacheRecover: true },
    },
    {
      name: "auto_cache_recover needs recovery",
      options: { force_recovery_mode: "cache", auto_cache_recover: true },
      flags: { recoveryMode: "cache" },
    },
    {
      name: "force_push_join_leave",
      options: { force_push_join_leave: true },
      flags: { pushJoinLeave: true },
    },
    {
      name: "join_leave asked with namespace join_leave and presence access",
      options: { join_leave: true, allow_presence_for_client: true },
      requested: asks({ joinLeave: true }),
      flags: { emitJoinLeave: true, pushJoinLeave: true },
    },
    {
      name: "join_leave asked with presence access as a subscriber (subscribing counts)",
      options: { join_leave: true, allow_presence_for_subscriber: true },
      requested: asks({ joinLeave: true }),
      flags: { emitJoinLeave: true, pushJoinLeave: true },
    },
    {
      name: "join_leave asked without presence access",
      options: { join_leave: true },
      requested: asks({ joinLeave: true }),
      flags: { emitJoinLeave: true },
    },
    {
      name: "join_leave asked without namespace join_leave",
      options: { allow_presence_for_client: true },
      requested: asks({ joinLeave: true }),
      flags: {},
    },
    {
      name: "join_leave not asked",
      options: { join_leave: true, allow_presence_for_client: true },
      requested: asks({}),
      flags: { emitJoinLeave: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const flags = subscriptionFlags({
        options: namespaceOptions(c.options),
        who: c.who ?? user,
        source: c.source ?? "client_allowed",
        ...(c.requested && { requested: c.requested }),
        ...(c.override && { override: c.override }),
      });
      assert.deepEqual(flags, { ...nothing, ...c.flags });
    });
  }
});

describe("checkPublicationData", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const cases: { format: PublicationDataFormat; data: Uint8Array; label: string; valid: boolean }[] = [
    { format: "", data: bytes(""), label: "empty", valid: false },
    { format: "", data: bytes("x"), label: "non-JSON", valid: true },
    { format: "json", data: bytes('{"a":1}'), label: "an object", valid: true },
    { format: "json", data: bytes(" [1, 2] "), label: "an array with whitespace", valid: true },
    { format: "json", data: bytes('"text"'), label: "a string", valid: true },
    { format: "json", data: bytes("null"), label: "null", valid: true },
    { format: "json", data: bytes("{"), label: "truncated JSON", valid: false },
    { format: "json", data: bytes(""), label: "empty", valid: false },
    { format: "json", data: bytes("\uFEFF{}"), label: "a leading BOM", valid: false },
    { format: "json_object", data: bytes(' {"a":1} '), label: "an object with whitespace", valid: true },
    { format: "json_object", data: bytes("[1]"), label: "an array", valid: false },
    { format: "json_object", data: bytes("null"), label: "null", valid: false },
    { format: "json_object", data: bytes('"{}"'), label: "a string", valid: false },
    { format: "json_object", data: bytes("{"), label: "truncated JSON", valid: false },
    { format: "binary", data: bytes(""), label: "empty", valid: true },
    { format: "binary", data: new Uint8Array([0xff, 0x00]), label: "arbitrary bytes", valid: true },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.format)} with ${c.label} → ${c.valid ? "accepted" : "bad request"}`, () => {
      assert.equal(
        outcome(() => checkPublicationData(c.data, c.format)),
        c.valid ? undefined : ErrorBadRequest,
      );
    });
  }
});
