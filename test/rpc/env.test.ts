/**
 * The server env of the typed-RPC guide: `CENTRIFUGO_TOKEN_HMAC_SECRET` (not a Centrifugo name) read as
 * `client.token.hmac_secret_key` with a warning naming the v6 variable, and "did you mean" for unknown names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/index.js";

const load = (env: NodeJS.ProcessEnv) => loadConfig({ values: {}, env });

describe("server env of the typed-RPC guide", () => {
  it("CENTRIFUGO_TOKEN_HMAC_SECRET sets client.token.hmac_secret_key, with a warning naming the v6 variable", () => {
    const { config, warnings } = load({ CENTRIFUGO_TOKEN_HMAC_SECRET: "guide-secret" });
    assert.equal(config.client.token.hmac_secret_key, "guide-secret");
    assert.ok(
      warnings.some(
        (w) =>
          w.includes("CENTRIFUGO_TOKEN_HMAC_SECRET") &&
          w.includes("use CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY"),
      ),
      warnings.join("\n"),
    );
  });

  it("the v6 variable wins over the alias", () => {
    const { config, warnings } = load({
      CENTRIFUGO_TOKEN_HMAC_SECRET: "alias",
      CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: "v6",
    });
    assert.equal(config.client.token.hmac_secret_key, "v6");
    assert.ok(
      warnings.some((w) => w.includes("ignored")),
      warnings.join("\n"),
    );
  });

  it("the guide's env set, completed, makes a working RPC proxy setup", () => {
    const { config, warnings } = load({
      CENTRIFUGO_API_KEY: "your-api-key-min-32-chars",
      CENTRIFUGO_TOKEN_HMAC_SECRET: "your-hmac-secret-min-32-chars",
      CENTRIFUGO_ADMIN_PASSWORD: "admin",
      CENTRIFUGO_ADMIN_SECRET: "admin-secret",
      CENTRIFUGO_LOG_LEVEL: "info",
      CENTRIFUGO_RPC_PROXY_ENDPOINT: "http://django:8000/centrifugo/rpc/",
      CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED: "true",
    });
    assert.equal(config.http_api.key, "your-api-key-min-32-chars");
    assert.equal(config.client.token.hmac_secret_key, "your-hmac-secret-min-32-chars");
    assert.equal(config.rpc.proxy.endpoint, "http://django:8000/centrifugo/rpc/");
    assert.equal(config.rpc.without_namespace.proxy_enabled, true);
    assert.ok(!warnings.some((w) => w.startsWith("unknown environment variable")), warnings.join("\n"));
  });

  it("an unknown CENTRIFUGO_* variable gets a did-you-mean warning when a known name is close", () => {
    const { warnings } = load({ CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET: "x", CENTRIFUGO_ZZZ_QQQ: "1" });
    assert.ok(
      warnings.includes(
        "unknown environment variable CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET, did you mean CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY?",
      ),
      warnings.join("\n"),
    );
    assert.ok(warnings.includes("unknown environment variable CENTRIFUGO_ZZZ_QQQ"), warnings.join("\n"));
  });
});
