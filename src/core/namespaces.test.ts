import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { namespaceOptions } from "../../test/helpers/namespace.js";
import { type ClientError, ErrorBadRequest, ErrorUnknownChannel } from "../protocol/codes.js";
import { ChannelRules, historyEnabled } from "./namespaces.js";
import type { ChannelConfig, NamespaceOptions } from "./options.js";

const HOUR = 3_600_000;

const withoutNamespace = namespaceOptions({ history_size: 10, history_ttl: HOUR });
const chat = {
  name: "chat",
  ...namespaceOptions({ history_meta_ttl: 2 * HOUR, publication_data_format: "binary" }),
};

function channelConfig(overrides: Partial<ChannelConfig> = {}): ChannelConfig {
  return {
    without_namespace: withoutNamespace,
    namespaces: [
      chat,
      { name: "dialog", ...namespaceOptions({ allow_user_limited_channels: true }) },
      { name: "digits", ...namespaceOptions({ channel_regex: "^[0-9]+$" }) },
      { name: "words", ...namespaceOptions({ channel_regex: "^\\p{L}+$" }) },
    ],
    history_meta_ttl: 720 * HOUR,
    publication_data_format: "json",
    max_length: 255,
    private_prefix: "$",
    namespace_boundary: ":",
    user_boundary: "#",
    user_separator: ",",
    ...overrides,
  };
}

const rules = new ChannelRules(channelConfig());

/** The error `fn` throws, or undefined when it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe("ChannelRules.resolve picks the namespace options", () => {
  const cases: { channel: string; namespace: string; options: NamespaceOptions }[] = [
    { channel: "news", namespace: "", options: withoutNamespace },
    { channel: ":news", namespace: "", options: withoutNamespace },
    { channel: "$news", namespace: "", options: withoutNamespace },
    { channel: "chat:index", namespace: "chat", options: chat },
    { channel: "$chat:secret", namespace: "chat", options: chat },
  ];
  for (const c of cases) {
    it(`${c.channel} → ${JSON.stringify(c.namespace)}`, () => {
      const resolved = rules.resolve(c.channel);
      assert.equal(resolved.namespace, c.namespace);
      assert.equal(resolved.options, c.options);
    });
  }
  it("marks a private channel", () => {
    assert.equal(rules.resolve("$chat:secret").private, true);
    assert.equal(rules.resolve("chat:secret").private, false);
  });
});

describe("ChannelRules.resolve answers in full", () => {
  it("a user-limited channel in a namespace", () => {
    assert.deepEqual(rules.resolve("$dialog:room#ann,bob"), {
      channel: "$dialog:room#ann,bob",
      namespace: "dialog",
      rest: "room#ann,bob",
      private: true,
      options: rules.resolve("dialog:x").options,
      historyMetaTtlMs: 720 * HOUR,
      publicationDataFormat: "json",
      allowedUsers: ["ann", "bob"],
      validName: true,
    });
  });
});

describe("ChannelRules.resolve errors", () => {
  for (const channel of ["unknown:index", "$unknown:index", "unknown:чат"]) {
    it(`${channel} → unknown channel`, () => {
      assert.equal(
        thrown(() => rules.resolve(channel)),
        ErrorUnknownChannel,
      );
    });
  }
  it("does not judge the name, as the server API needs", () => {
    assert.equal(rules.resolve("chat:чат").validName, false);
  });
});

describe("ChannelRules.resolveForClient checks the name", () => {
  const cases: { name: string; channel: string; error?: ClientError }[] = [
    { name: "ASCII name", channel: "chat:index" },
    { name: "non-ASCII name", channel: "chat:чат", error: ErrorBadRequest },
    { name: "non-ASCII without namespace", channel: "новости", error: ErrorBadRequest },
    { name: "regex match on the part after the namespace", channel: "digits:123" },
    { name: "regex miss", channel: "digits:12a", error: ErrorBadRequest },
    { name: "regex admits non-ASCII", channel: "words:чат" },
    { name: "regex miss on ASCII", channel: "words:chat1", error: ErrorBadRequest },
    { name: "unknown namespace before the name check", channel: "nope:чат", error: ErrorUnknownChannel },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.channel} → ${c.error?.message ?? "accepted"}`, () => {
      assert.equal(
        thrown(() => rules.resolveForClient(c.channel)),
        c.error,
      );
    });
  }
  it("applies a without_namespace regex to the whole name, private prefix included", () => {
    const local = new ChannelRules(
      channelConfig({ without_namespace: namespaceOptions({ channel_regex: "^[a-z]+$" }) }),
    );
    assert.equal(local.resolve("news").validName, true);
    assert.equal(local.resolve("$news").validName, false);
  });
});

describe("ChannelRules user-limited channels", () => {
  const cases: { channel: string; allowedUsers: string[] | null }[] = [
    { channel: "dialog:42#42,43", allowedUsers: ["42", "43"] },
    { channel: "dialog:42", allowedUsers: null },
    // Without allow_user_limited_channels the user boundary is just a character.
    { channel: "chat:room#42", allowedUsers: null },
    { channel: "news#42", allowedUsers: null },
  ];
  for (const c of cases) {
    it(`${c.channel} → ${JSON.stringify(c.allowedUsers)}`, () => {
      assert.deepEqual(rules.resolve(c.channel).allowedUsers, c.allowedUsers);
    });
  }
});

describe("ChannelRules.checkLength", () => {
  const cases: { name: string; channel: string; max?: number; error?: ClientError }[] = [
    { name: "empty", channel: "", error: ErrorBadRequest },
    { name: "exactly max_length", channel: "a".repeat(255) },
    { name: "one over max_length", channel: "a".repeat(256), error: ErrorBadRequest },
    { name: "bytes, not characters", channel: "é".repeat(128), error: ErrorBadRequest },
    { name: "max_length 0 is no limit", channel: "a".repeat(1000), max: 0 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.error?.message ?? "accepted"}`, () => {
      const local = new ChannelRules(channelConfig({ max_length: c.max ?? 255 }));
      assert.equal(
        thrown(() => local.checkLength(c.channel)),
        c.error,
      );
    });
  }
});

describe("ChannelRules effective options", () => {
  it("history_meta_ttl falls back to channel.history_meta_ttl", () => {
    assert.equal(rules.resolve("news").historyMetaTtlMs, 720 * HOUR);
    assert.equal(rules.resolve("chat:index").historyMetaTtlMs, 2 * HOUR);
  });
  it("publication_data_format falls back to channel.publication_data_format", () => {
    assert.equal(rules.resolve("news").publicationDataFormat, "json");
    assert.equal(rules.resolve("chat:index").publicationDataFormat, "binary");
  });
});

describe("historyEnabled", () => {
  const cases: { size: number; ttl: number; enabled: boolean }[] = [
    { size: 10, ttl: HOUR, enabled: true },
    { size: 0, ttl: HOUR, enabled: false },
    { size: 10, ttl: 0, enabled: false },
    { size: 0, ttl: 0, enabled: false },
  ];
  for (const c of cases) {
    it(`history_size ${c.size}, history_ttl ${c.ttl} → ${c.enabled}`, () => {
      const options = namespaceOptions({ history_size: c.size, history_ttl: c.ttl });
      assert.equal(historyEnabled(options), c.enabled);
    });
  }
});

describe("ChannelRules.personalChannel", () => {
  it("builds a name that resolves with the configured boundaries", () => {
    const local = new ChannelRules(channelConfig({ namespace_boundary: "/", user_boundary: "@" }));
    assert.equal(local.personalChannel("42", "dialog"), "dialog/@42");
    assert.equal(local.personalChannel("42", ""), "@42");
    assert.equal(local.resolve("dialog/@42").namespace, "dialog");
  });
});

describe("ChannelRules construction", () => {
  it("names the key of a channel_regex JS cannot compile", () => {
    const config = channelConfig({
      namespaces: [{ name: "bad", ...namespaceOptions({ channel_regex: "(" }) }],
    });
    assert.throws(() => new ChannelRules(config), /^Error: channel\.namespaces\[0\]\.channel_regex: /);
  });
  it("rejects a duplicate namespace name", () => {
    const config = channelConfig({
      namespaces: [
        { name: "chat", ...namespaceOptions() },
        { name: "chat", ...namespaceOptions() },
      ],
    });
    assert.throws(
      () => new ChannelRules(config),
      /channel\.namespaces\[1\]\.name: duplicate namespace name "chat"/,
    );
  });
});
