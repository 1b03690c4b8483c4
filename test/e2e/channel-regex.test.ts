/**
 * A `channel_regex` is Go RE2 syntax; `checkconfig` (config validation) and start-up (core's channel rules)
 * must accept and refuse the same patterns, and a started node must match with them as Go would.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig, startTurbine } from "../../src/index.js";
import { GO_PATTERNS, GO_PATTERNS_REFUSED } from "../helpers/go-patterns.js";
import { RawClient } from "../helpers/raw.js";
import { hmacSecret } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";

const config = (patterns: readonly string[]) => ({
  http_server: { address: "127.0.0.1", port: 0 },
  log: { level: "none" },
  client: { token: { hmac_secret_key: hmacSecret } },
  channel: {
    namespaces: patterns.map((channel_regex, i) => ({
      name: `ns${i}`,
      channel_regex,
      allow_subscribe_for_client: true,
    })),
  },
});

describe("channel_regex: checkconfig and start-up agree", () => {
  const patterns = GO_PATTERNS.map(([pattern]) => pattern);
  let server: Awaited<ReturnType<typeof startTurbine>>;
  let client: RawClient;
  before(async () => {
    server = await startTurbine({ config: config(patterns), env: {} });
    client = await RawClient.connected(
      `ws://127.0.0.1:${server.port}/connection/websocket`,
      await connectToken("u"),
    );
  });
  after(async () => {
    client.ws.close();
    await server.close();
  });

  it("checkconfig accepts the Go patterns", () => {
    assert.doesNotThrow(() => loadConfig({ values: config(patterns), env: {} }));
  });
  GO_PATTERNS.forEach(([pattern, yes, no], i) => {
    it(`a started node matches ${pattern} as Go does`, async () => {
      assert.equal((await client.call({ subscribe: { channel: `ns${i}:${yes}` } })).error, undefined);
      const refused = await client.call({ subscribe: { channel: `ns${i}:${no}` } });
      assert.equal(refused.error?.code, 107, "bad request");
    });
  });
  for (const pattern of GO_PATTERNS_REFUSED) {
    it(`checkconfig and start-up both refuse ${pattern}`, async () => {
      const path = "channel.namespaces[0].channel_regex";
      const refused = (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.startsWith(path));
      assert.throws(() => loadConfig({ values: config([pattern]), env: {} }), refused);
      await assert.rejects(startTurbine({ config: config([pattern]), env: {} }), refused);
    });
  }
});
