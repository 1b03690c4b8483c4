/**
 * SIGHUP reloads the config as Centrifugo does: token verifiers and channel/RPC namespace options change under
 * connected clients, which stay connected; an invalid config keeps the running one. Driven against the CLI in
 * its own process, and `RunningServer.reload` / `Node.reload` in process.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Centrifuge } from "centrifuge";
import { loadConfig } from "../../src/config/index.js";
import { newClient, once } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signWith } from "../helpers/tokens.js";

const OLD_KEY = "old-hmac-secret-key-for-reload-tests";
const NEW_KEY = "new-hmac-secret-key-for-reload-tests";

/** Publishing to `chat:` channels and the `ping` RPC are what a reload turns on and off. */
function serverConfig(hmacKey: string, allowPublish: boolean): Record<string, unknown> {
  return {
    client: { token: { hmac_secret_key: hmacKey } },
    rpc: { ping: { enabled: allowPublish } },
    channel: {
      namespaces: [
        { name: "chat", allow_subscribe_for_client: true, allow_publish_for_client: allowPublish },
      ],
    },
  };
}

function token(hmacKey: string, user: string): Promise<string> {
  return signWith(new TextEncoder().encode(hmacKey), "HS256", { sub: user });
}

/** Rewrites the process's config file in the shape `TurbineProcess.start` wrote it, then sends SIGHUP. */
function reloadWith(proc: TurbineProcess, config: Record<string, unknown>): void {
  const file = { ...config, log: { level: "info" }, http_server: { address: "127.0.0.1", port: 0 } };
  writeFileSync(proc.configFile, JSON.stringify(file, null, 2));
  process.kill(proc.pid, "SIGHUP");
}

async function publishes(client: Centrifuge, channel: string): Promise<boolean> {
  try {
    await client.publish(channel, { at: Date.now() });
    return true;
  } catch (err) {
    assert.equal((err as { code?: number }).code, 103, `publish failed: ${JSON.stringify(err)}`);
    return false;
  }
}

/** Whether the `ping` RPC answers; without it (and without RPC proxies) the answer is 108. */
async function pings(client: Centrifuge): Promise<boolean> {
  try {
    await client.rpc("ping", {});
    return true;
  } catch (err) {
    assert.equal((err as { code?: number }).code, 108, `rpc failed: ${JSON.stringify(err)}`);
    return false;
  }
}

/** Poll until a publish is allowed (or not): the reload happens when the process handles the signal. */
async function untilPublishes(client: Centrifuge, channel: string, allowed: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await publishes(client, channel)) === allowed) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`publish to ${channel} never became ${allowed ? "allowed" : "denied"}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SIGHUP reload (CLI process)", { timeout: 90_000 }, () => {
  let proc: TurbineProcess;
  let alice: Centrifuge;
  const clients: Centrifuge[] = [];
  /** Disconnect codes alice saw: a reload must not drop her. */
  const aliceDropped: number[] = [];

  function client(accessToken: string): Centrifuge {
    const c = newClient(proc.url, "json", { token: accessToken });
    clients.push(c);
    return c;
  }

  /** Resolves with how a new connection with `accessToken` ends up: "connected" or its disconnect code. */
  async function tryConnect(accessToken: string): Promise<"connected" | number> {
    const c = client(accessToken);
    const outcome = Promise.race([
      once(c, "connected").then(() => "connected" as const),
      once<{ code: number }>(c, "disconnected").then((ctx) => ctx.code),
    ]);
    c.connect();
    const result = await outcome;
    c.disconnect();
    return result;
  }

  before(async () => {
    proc = await TurbineProcess.start(serverConfig(OLD_KEY, false));
    alice = client(await token(OLD_KEY, "alice"));
    alice.on("connecting", (ctx) => aliceDropped.push(ctx.code));
    alice.on("disconnected", (ctx) => aliceDropped.push(ctx.code));
    const ready = once(alice, "connected");
    alice.connect();
    await ready;
    aliceDropped.length = 0;
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await proc.stop();
  });

  it("applies the new HMAC key and namespace options; connected clients stay and see the new options", async () => {
    assert.equal(await publishes(alice, "chat:room"), false);
    assert.equal(await pings(alice), false);
    reloadWith(proc, serverConfig(NEW_KEY, true));
    await untilPublishes(alice, "chat:room", true);
    assert.equal(await pings(alice), true, "RPC options are reloaded too");
    assert.equal(alice.state, "connected");
    assert.deepEqual(aliceDropped, []);
    assert.equal(await tryConnect(await token(NEW_KEY, "bob")), "connected");
    assert.equal(await tryConnect(await token(OLD_KEY, "carol")), 3500, "a token of the old key is invalid");
  });

  it("keeps serving with the running config when the new one is invalid, and reloads a valid one later", async () => {
    const invalid = serverConfig(OLD_KEY, false);
    (invalid.client as { token: Record<string, unknown> }).token.rsa_public_key = "not a PEM key";
    reloadWith(proc, invalid);
    // Give the process time to handle the signal; whether or not it did yet, nothing below may change.
    await sleep(500);
    process.kill(proc.pid, 0);
    assert.equal(await publishes(alice, "chat:room"), true);
    assert.equal(await pings(alice), true);
    assert.equal(await tryConnect(await token(NEW_KEY, "dave")), "connected");
    assert.equal(await tryConnect(await token(OLD_KEY, "erin")), 3500);

    reloadWith(proc, serverConfig(OLD_KEY, false));
    await untilPublishes(alice, "chat:room", false);
    assert.equal(await pings(alice), false);
    assert.equal(await tryConnect(await token(OLD_KEY, "frank")), "connected");
    assert.equal(alice.state, "connected");
    assert.deepEqual(aliceDropped, []);
  });
});

describe("RunningServer.reload and Node.reload (in process)", () => {
  const testDefaults = {
    http_server: { address: "127.0.0.1", port: 0 },
    log: { level: process.env.TURBINE_TEST_LOG ?? "none" },
  };
  let server: TestServer;

  before(async () => {
    server = await startTestServer(serverConfig(OLD_KEY, false));
  });
  after(() => server.close());

  it("reports which changed keys were applied and which need a restart", () => {
    const next = serverConfig(NEW_KEY, true);
    (next.client as Record<string, unknown>).ping_interval = "30s";
    const { config } = loadConfig({ values: { ...testDefaults, ...next }, env: {} });
    const report = server.server.reload(config);
    assert.deepEqual(report, {
      applied: ["client.token.hmac_secret_key", "channel.namespaces", "rpc.ping.enabled"],
      needRestart: ["client.ping_interval"],
    });
    const { node } = server.server;
    assert.equal(node.options.client.token.hmac_secret_key, NEW_KEY);
    assert.equal(node.options.client.ping_interval, 25_000, "client options other than tokens stay");
    assert.equal(node.rules.resolve("chat:x").options.allow_publish_for_client, true);
  });

  it("Node.reload throws and changes nothing when the options do not compile", () => {
    const { node } = server.server;
    const { options, rules, connectTokens } = node;
    const [chat] = options.channel.namespaces;
    assert.ok(chat !== undefined);
    const namespaces = [{ ...chat, channel_regex: "(" }];
    assert.throws(
      () =>
        node.reload({
          token: { ...options.client.token, hmac_secret_key: "another" },
          subscription_token: options.client.subscription_token,
          channel: { ...options.channel, namespaces },
          rpc: options.rpc,
        }),
      /channel\.namespaces\[0\]\.channel_regex/,
    );
    assert.equal(node.options, options);
    assert.equal(node.rules, rules);
    assert.equal(node.connectTokens, connectTokens);
  });
});
