import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, UnsubscribedContext } from "centrifuge";
import { exportSPKI, generateKeyPair } from "jose";
import WebSocket from "ws";
import { once } from "../helpers/clients.js";
import { Fleet } from "../helpers/fleet.js";
import { hmacSecret, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken, signWith, subscriptionToken } from "../helpers/tokens.js";

/** Open to everyone, anonymous included, so a probe publication shows who a connection is. */
const probe = {
  name: "probe",
  allow_subscribe_for_client: true,
  allow_subscribe_for_anonymous: true,
  allow_publish_for_subscriber: true,
  allow_publish_for_anonymous: true,
};

const encoder = new TextEncoder();

describe("connection and subscription auth with the official client", { timeout: 30_000 }, () => {
  const fleet = new Fleet();
  after(() => fleet.close());

  function serve(client: Record<string, unknown>, namespaces: object[] = []): Promise<TestServer> {
    return fleet.server({ client, channel: { namespaces: [probe, ...namespaces] } });
  }

  const connected = fleet.connected.bind(fleet);
  const refused = fleet.refused.bind(fleet);

  it("HS256 connection token", async () => {
    const server = await serve({ token: { hmac_secret_key: hmacSecret } });
    const alice = await connected(server, { token: await connectToken("alice") });
    assert.equal(await userOf(alice), "alice");
  });

  it("RS256 connection token verified with client.token.rsa_public_key", async () => {
    const keys = await generateKeyPair("RS256", { extractable: true });
    const server = await serve({ token: { rsa_public_key: await exportSPKI(keys.publicKey) } });
    const bob = await connected(server, { token: await signWith(keys.privateKey, "RS256", { sub: "bob" }) });
    assert.equal(await userOf(bob), "bob");

    const other = await generateKeyPair("RS256");
    const forged = await signWith(other.privateKey, "RS256", { sub: "bob" });
    assert.equal(await refused(server, { token: forged }), 3500);
  });

  it("ES256 connection token verified with client.token.ecdsa_public_key", async () => {
    const keys = await generateKeyPair("ES256", { extractable: true });
    const server = await serve({ token: { ecdsa_public_key: await exportSPKI(keys.publicKey) } });
    const carol = await connected(server, {
      token: await signWith(keys.privateKey, "ES256", { sub: "carol" }),
    });
    assert.equal(await userOf(carol), "carol");

    const other = await generateKeyPair("ES256");
    const forged = await signWith(other.privateKey, "ES256", { sub: "carol" });
    assert.equal(await refused(server, { token: forged }), 3500);
  });

  it("no token: anonymous with allow_anonymous_connect_without_token, else 3501", async () => {
    const open = await serve({
      token: { hmac_secret_key: hmacSecret },
      allow_anonymous_connect_without_token: true,
    });
    assert.equal(await userOf(await connected(open)), "");

    const closed = await serve({ token: { hmac_secret_key: hmacSecret } });
    assert.equal(await refused(closed), 3501);
  });

  it("client.insecure: no token, and subscribe, publish and history anywhere", async () => {
    const locked = { name: "locked", history_size: 10, history_ttl: "60s" };
    const server = await serve({ insecure: true }, [locked]);
    const anon = await connected(server);
    for (const channel of ["locked:room", "no-namespace"]) {
      const sub = anon.newSubscription(channel);
      sub.subscribe();
      await sub.ready(5000);
      const received = once<PublicationContext>(sub, "publication");
      await sub.publish({ channel });
      assert.deepEqual((await within(received, `a publication in ${channel}`)).data, { channel });
    }
    const history = await anon.history("locked:room", { limit: -1 });
    assert.deepEqual(
      history.publications.map((pub) => pub.data),
      [{ channel: "locked:room" }],
    );
  });

  it("disallow_anonymous_connection_tokens: a token with an empty sub is refused with 3507", async () => {
    const anonymousToken = await connectToken("");
    const strict = await serve({
      token: { hmac_secret_key: hmacSecret },
      disallow_anonymous_connection_tokens: true,
    });
    assert.equal(await refused(strict, { token: anonymousToken }), 3507);
    assert.equal(await userOf(await connected(strict, { token: await connectToken("erin") })), "erin");

    const lenient = await serve({ token: { hmac_secret_key: hmacSecret } });
    assert.equal(await userOf(await connected(lenient, { token: anonymousToken })), "");
  });

  it("client.token.user_id_claim names the claim holding the user ID", async () => {
    const server = await serve({ token: { hmac_secret_key: hmacSecret, user_id_claim: "user_id" } });
    const token = await connectToken("not-this-one", { user_id: "frank" });
    assert.equal(await userOf(await connected(server, { token })), "frank");
  });

  it("client.user_id_http_header takes the user from a request header when there is no token", async () => {
    const server = await serve({ user_id_http_header: "X-User-Id" });
    class WebSocketWithUser extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { "X-User-Id": "grace" } });
      }
    }
    assert.equal(await userOf(await connected(server, { websocket: WebSocketWithUser })), "grace");
    assert.equal(await refused(server), 3501, "no header, no token, no anonymous access");
  });

  it("client.subscription_token with its own secret verifies subscription tokens only", async () => {
    const subSecret = encoder.encode("a-separate-secret-for-subscriptions");
    const server = await serve(
      {
        token: { hmac_secret_key: hmacSecret },
        subscription_token: { enabled: true, hmac_secret_key: "a-separate-secret-for-subscriptions" },
      },
      [{ name: "chat" }],
    );
    const grace = await connected(server, { token: await connectToken("grace") });

    const good = grace.newSubscription("$chat:secret", {
      token: await signWith(subSecret, "HS256", { sub: "grace", channel: "$chat:secret" }),
    });
    good.subscribe();
    await good.ready(5000);

    // Signed with the connection secret: not a valid subscription token any more.
    const bad = grace.newSubscription("$chat:other", {
      token: await subscriptionToken("grace", "$chat:other"),
    });
    const unsubscribed = once<UnsubscribedContext>(bad, "unsubscribed");
    bad.subscribe();
    assert.equal((await within(unsubscribed, "the refused subscription")).code, 103);

    // And connection tokens are still verified with client.token, not with the subscription secret.
    const wrongKind = await signWith(subSecret, "HS256", { sub: "grace" });
    assert.equal(await refused(server, { token: wrongKind }), 3500);
  });
});

/** The user a connection is known as: the `info.user` of its own publication on a fresh probe channel. */
async function userOf(client: Centrifuge): Promise<string> {
  const sub = client.newSubscription(`probe:${randomUUID()}`);
  sub.subscribe();
  await sub.ready(5000);
  const received = once<PublicationContext>(sub, "publication");
  await sub.publish({});
  const pub = await within(received, "the probe publication");
  sub.unsubscribe();
  client.removeSubscription(sub);
  assert.ok(pub.info !== undefined, "client publications carry the publisher's info");
  return pub.info.user;
}
