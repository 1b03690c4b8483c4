/**
 * A `channel_regex` is Go RE2 syntax; `checkconfig` (config validation) and start-up (core's channel rules)
 * must accept and refuse the same patterns, and a started node must match with them as Go would.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig, startTurbine } from "../../src/index.js";

/** [Go pattern, a channel name after `nsN:` that matches, one that does not] */
const ACCEPTED: [string, string, string][] = [
  ["^room\\-[0-9]+$", "room-1", "room1"],
  ["^(?P<id>[0-9]+)$", "12", "x"],
  ["(?i)^abc\\_\\#$", "ABC_#", "abc"],
  ["^\\pL+$", "чат", "chat1"],
  ["\\Aroom\\z", "room", "rooms"],
];
const REFUSED = ["^room\\-[0-9+$", "(?U)a+", "[[:alpha:]]+"];

const config = (patterns: readonly string[]) => ({
  http_server: { address: "127.0.0.1", port: 0 },
  log: { level: "none" },
  channel: { namespaces: patterns.map((channel_regex, i) => ({ name: `ns${i}`, channel_regex })) },
});

describe("channel_regex: checkconfig and start-up agree", () => {
  const patterns = ACCEPTED.map(([pattern]) => pattern);
  let server: Awaited<ReturnType<typeof startTurbine>>;
  before(async () => {
    server = await startTurbine({ config: config(patterns), env: {} });
  });
  after(() => server.close());

  it("checkconfig accepts the Go patterns", () => {
    assert.doesNotThrow(() => loadConfig({ values: config(patterns), env: {} }));
  });
  ACCEPTED.forEach(([pattern, yes, no], i) => {
    it(`a started node matches ${pattern} as Go does`, () => {
      assert.equal(server.node.rules.resolve(`ns${i}:${yes}`).validName, true);
      assert.equal(server.node.rules.resolve(`ns${i}:${no}`).validName, false);
    });
  });
  for (const pattern of REFUSED) {
    it(`checkconfig and start-up both refuse ${pattern}`, async () => {
      const path = "channel.namespaces[0].channel_regex";
      const refused = (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.startsWith(path));
      assert.throws(() => loadConfig({ values: config([pattern]), env: {} }), refused);
      await assert.rejects(startTurbine({ config: config([pattern]), env: {} }), refused);
    });
  }
});
