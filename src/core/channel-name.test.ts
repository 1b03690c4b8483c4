import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileGoRegex } from "../util/go-regex.js";
import {
  type ChannelSyntax,
  exceedsMaxLength,
  isAscii,
  isValidChannelName,
  parseChannelName,
  personalChannel,
  userLimitedUsers,
} from "./channel-name.js";

const defaults: ChannelSyntax = {
  private_prefix: "$",
  namespace_boundary: ":",
  user_boundary: "#",
  user_separator: ",",
};

describe("parseChannelName", () => {
  const cases: {
    channel: string;
    syntax?: Partial<ChannelSyntax>;
    namespace: string;
    rest: string;
    private: boolean;
  }[] = [
    { channel: "news", namespace: "", rest: "news", private: false },
    { channel: "chat:index", namespace: "chat", rest: "index", private: false },
    { channel: "chat:a:b", namespace: "chat", rest: "a:b", private: false },
    { channel: "chat:", namespace: "chat", rest: "", private: false },
    // An empty namespace part means no namespace, like a name without a boundary.
    { channel: ":index", namespace: "", rest: "index", private: false },
    { channel: "$chat:secret", namespace: "chat", rest: "secret", private: true },
    // Without a boundary the regex sees the whole name, private prefix included.
    { channel: "$secret", namespace: "", rest: "$secret", private: true },
    // Only one private prefix is stripped.
    { channel: "$$chat:x", namespace: "$chat", rest: "x", private: true },
    { channel: "$chat:x", syntax: { private_prefix: "" }, namespace: "$chat", rest: "x", private: false },
    { channel: "chat:x", syntax: { namespace_boundary: "" }, namespace: "", rest: "chat:x", private: false },
    {
      channel: "chat::x",
      syntax: { namespace_boundary: "::" },
      namespace: "chat",
      rest: "x",
      private: false,
    },
    { channel: "chat#42", namespace: "", rest: "chat#42", private: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.channel)} ${JSON.stringify(c.syntax ?? {})} → namespace ${JSON.stringify(c.namespace)}`, () => {
      const name = parseChannelName(c.channel, { ...defaults, ...c.syntax });
      assert.deepEqual(name, {
        channel: c.channel,
        namespace: c.namespace,
        rest: c.rest,
        private: c.private,
      });
    });
  }
});

describe("userLimitedUsers", () => {
  const cases: { channel: string; syntax?: Partial<ChannelSyntax>; users: string[] | null }[] = [
    { channel: "dialog#42,43", users: ["42", "43"] },
    { channel: "dialog#42", users: ["42"] },
    { channel: "chat:dialog#42", users: ["42"] },
    { channel: "a#b#42", users: ["42"] },
    { channel: "dialog#", users: [""] },
    { channel: "dialog", users: null },
    { channel: "dialog#42", syntax: { user_boundary: "" }, users: null },
    { channel: "dialog#42,43", syntax: { user_separator: "" }, users: ["42,43"] },
    { channel: "dialog@42;43", syntax: { user_boundary: "@", user_separator: ";" }, users: ["42", "43"] },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.channel)} ${JSON.stringify(c.syntax ?? {})} → ${JSON.stringify(c.users)}`, () => {
      assert.deepEqual(userLimitedUsers(c.channel, { ...defaults, ...c.syntax }), c.users);
    });
  }
});

describe("personalChannel", () => {
  const cases: { user: string; ns: string; syntax?: Partial<ChannelSyntax>; channel: string }[] = [
    { user: "42", ns: "", channel: "#42" },
    { user: "42", ns: "personal", channel: "personal:#42" },
    {
      user: "42",
      ns: "personal",
      syntax: { namespace_boundary: "/", user_boundary: "@" },
      channel: "personal/@42",
    },
  ];
  for (const c of cases) {
    it(`user ${c.user} in namespace ${JSON.stringify(c.ns)} → ${c.channel}`, () => {
      assert.equal(personalChannel(c.user, c.ns, { ...defaults, ...c.syntax }), c.channel);
    });
  }
});

describe("exceedsMaxLength", () => {
  const cases: { name: string; channel: string; max: number; exceeds: boolean }[] = [
    { name: "exactly max_length ASCII bytes", channel: "a".repeat(255), max: 255, exceeds: false },
    { name: "one byte over", channel: "a".repeat(256), max: 255, exceeds: true },
    { name: "multi-byte characters count in UTF-8 bytes", channel: "é".repeat(128), max: 255, exceeds: true },
    { name: "multi-byte name within the byte limit", channel: "é".repeat(127), max: 254, exceeds: false },
    { name: "astral characters take 4 bytes", channel: "😀".repeat(3), max: 11, exceeds: true },
    { name: "0 means no limit", channel: "a".repeat(10_000), max: 0, exceeds: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(exceedsMaxLength(c.channel, c.max), c.exceeds));
  }
});

describe("isAscii", () => {
  const cases: [string, boolean][] = [
    ["", true],
    ["chat:index$#,\x7f", true],
    ["чат", false],
    ["chat\u0080", false],
    ["😀", false],
  ];
  for (const [s, ascii] of cases) {
    it(`${JSON.stringify(s)} → ${ascii}`, () => assert.equal(isAscii(s), ascii));
  }
});

describe("isValidChannelName", () => {
  const digits = compileGoRegex("^[0-9]+$");
  const letters = compileGoRegex("^\\p{L}+$");
  const cases: { name: string; channel: string; regex?: RegExp; valid: boolean }[] = [
    { name: "ASCII without a regex", channel: "chat:index", valid: true },
    { name: "non-ASCII without a regex", channel: "chat:чат", valid: false },
    {
      name: "the regex sees only the part after the namespace",
      channel: "chat:123",
      regex: digits,
      valid: true,
    },
    { name: "a regex miss", channel: "chat:12a", regex: digits, valid: false },
    { name: "a regex admits non-ASCII", channel: "chat:чат", regex: letters, valid: true },
    {
      name: "without a namespace the regex sees the whole name",
      channel: "$123",
      regex: digits,
      valid: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.equal(isValidChannelName(parseChannelName(c.channel, defaults), c.regex), c.valid),
    );
  }
});
