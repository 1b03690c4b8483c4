import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JWTPayload } from "jose";
import {
  InvalidTokenError,
  TokenExpiredError,
  TokenVerifier,
  type TokenVerifierConfig,
} from "../../src/auth/index.js";
import { hmacToken, nowSeconds, rawHmacToken, SECRET, tokenConfig, utf8 } from "./helpers.js";

const verifier = (config: Partial<TokenVerifierConfig> = {}, now?: () => number) =>
  new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET, ...config }), { now });

const connect = async (claims: JWTPayload, config: Partial<TokenVerifierConfig> = {}) =>
  verifier(config).verifyConnectToken(await hmacToken(claims));
const connectRaw = (payload: string, config: Partial<TokenVerifierConfig> = {}) =>
  verifier(config).verifyConnectToken(rawHmacToken(payload));
const subscribeRaw = (payload: string) => verifier().verifySubscribeToken(rawHmacToken(payload));

describe("exp and nbf", () => {
  it("accepts a token before exp and after nbf", async () => {
    const token = await connect({ sub: "1", exp: nowSeconds() + 60, nbf: nowSeconds() - 60 });
    assert.equal(token.user, "1");
  });

  it("refuses an expired token with TokenExpiredError, with no leeway", async () => {
    await assert.rejects(connect({ sub: "1", exp: nowSeconds() - 1 }), TokenExpiredError);
    const exp = nowSeconds() + 100;
    const token = await hmacToken({ sub: "1", exp });
    await assert.rejects(verifier({}, () => exp * 1000).verifyConnectToken(token), TokenExpiredError);
    assert.equal((await verifier({}, () => exp * 1000 - 1).verifyConnectToken(token)).expireAt, exp);
  });

  it("refuses a token whose nbf is ahead with TokenExpiredError", async () => {
    await assert.rejects(connect({ sub: "1", nbf: nowSeconds() + 30 }), TokenExpiredError);
    const subscription = await hmacToken({ sub: "1", channel: "news", nbf: nowSeconds() + 30 });
    await assert.rejects(verifier().verifySubscribeToken(subscription), TokenExpiredError);
  });

  it("checks the signature and the audience before expiry", async () => {
    const expired = { sub: "1", aud: "web", exp: nowSeconds() - 10 };
    const badSignature = await hmacToken(expired, "HS256", "wrong");
    await assert.rejects(verifier().verifyConnectToken(badSignature), InvalidTokenError);
    await assert.rejects(connect(expired, { audience: "app" }), InvalidTokenError);
  });

  it("accepts dates as quoted numbers and fractions, like Centrifugo", async () => {
    const exp = nowSeconds() + 60;
    assert.equal((await connectRaw(`{"sub":"1","exp":"${exp}"}`)).expireAt, exp);
    assert.equal((await connectRaw(`{"sub":"1","exp":${exp}.75}`)).expireAt, exp);
    await assert.rejects(connectRaw(`{"sub":"1","exp":"${nowSeconds() - 5}"}`), TokenExpiredError);
  });

  it("treats null dates as absent", async () => {
    assert.equal((await connectRaw('{"sub":"1","exp":null,"nbf":null,"iat":null}')).expireAt, 0);
  });
});

describe("expire_at", () => {
  const exp = nowSeconds() + 3600;

  it("falls back to exp, and to 0 (never) without either", async () => {
    assert.equal((await connect({ sub: "1", exp })).expireAt, exp);
    assert.equal((await connect({ sub: "1" })).expireAt, 0);
  });

  it("wins over exp", async () => {
    assert.equal((await connect({ sub: "1", exp, expire_at: exp + 100 })).expireAt, exp + 100);
  });

  it("means never when 0 or negative, while exp is still checked", async () => {
    assert.equal((await connect({ sub: "1", exp, expire_at: 0 })).expireAt, 0);
    assert.equal((await connect({ sub: "1", expire_at: -5 })).expireAt, 0);
    await assert.rejects(connect({ sub: "1", exp: nowSeconds() - 1, expire_at: 0 }), TokenExpiredError);
  });

  it("applies to subscription tokens too", async () => {
    const token = await hmacToken({ sub: "1", channel: "news", exp, expire_at: 0 });
    assert.equal((await verifier().verifySubscribeToken(token)).expireAt, 0);
  });

  it("must be an integer literal", async () => {
    const huge = "9".repeat(60_000);
    for (const value of ["1.5", '"100"', "true", "1e3", "9223372036854775808", huge, `-${huge}`]) {
      await assert.rejects(connectRaw(`{"sub":"1","expire_at":${value}}`), InvalidTokenError, value);
    }
    assert.equal((await connectRaw('{"sub":"1","expire_at":null}')).expireAt, 0);
    assert.equal((await connectRaw('{"sub":"1","expire_at":-9223372036854775808}')).expireAt, 0);
  });

  it("is refused by length before any BigInt (claims are read before the signature is checked)", async () => {
    const original = globalThis.BigInt;
    const lengths: number[] = [];
    globalThis.BigInt = ((value: string) => {
      lengths.push(value.length);
      return original(value);
    }) as unknown as BigIntConstructor;
    try {
      const token = rawHmacToken(`{"sub":"1","expire_at":${"9".repeat(60_000)}}`, undefined, "wrong secret");
      await assert.rejects(verifier().verifyConnectToken(token), InvalidTokenError);
    } finally {
      globalThis.BigInt = original;
    }
    assert.deepEqual(lengths, []);
  });
});

describe("audience and issuer", () => {
  it("matches audience exactly against a string or any array element", async () => {
    assert.equal((await connect({ sub: "1", aud: "app" }, { audience: "app" })).user, "1");
    assert.equal((await connect({ sub: "1", aud: ["web", "app"] }, { audience: "app" })).user, "1");
    await assert.rejects(connect({ sub: "1", aud: "application" }, { audience: "app" }), InvalidTokenError);
    await assert.rejects(connect({ sub: "1" }, { audience: "app" }), InvalidTokenError);
  });

  it("searches audience_regex in each element, as Centrifugo does (not a full match)", async () => {
    const config = { audience_regex: "^app-(?P<env>prod|dev)$" };
    assert.equal((await connect({ sub: "1", aud: ["x", "app-dev"] }, config)).user, "1");
    await assert.rejects(connect({ sub: "1", aud: "app-test" }, config), InvalidTokenError);
    assert.equal((await connect({ sub: "1", aud: "my-app-1" }, { audience_regex: "app" })).user, "1");
  });

  it("matches issuer exactly or by issuer_regex", async () => {
    assert.equal((await connect({ sub: "1", iss: "auth" }, { issuer: "auth" })).user, "1");
    await assert.rejects(connect({ sub: "1", iss: "Auth" }, { issuer: "auth" }), InvalidTokenError);
    await assert.rejects(connect({ sub: "1" }, { issuer: "auth" }), InvalidTokenError);
    assert.equal((await connect({ sub: "1", iss: "AUTH-1" }, { issuer_regex: "(?i)^auth-\\d+$" })).user, "1");
    await assert.rejects(
      connect({ sub: "1", iss: "auth-x" }, { issuer_regex: "^auth-\\d+$" }),
      InvalidTokenError,
    );
    assert.equal((await connect({ sub: "1", iss: "auth-7" }, { issuer_regex: "^auth\\-\\pN$" })).user, "1");
  });

  it("refuses aud that is null or not made of strings", async () => {
    for (const aud of ["null", "5", '["app", 5]', "{}"]) {
      await assert.rejects(connectRaw(`{"sub":"1","aud":${aud}}`), InvalidTokenError, aud);
    }
  });
});

describe("user", () => {
  it("comes from sub, which must be a string", async () => {
    assert.equal((await connect({ sub: "user-1" })).user, "user-1");
    assert.equal((await connect({})).user, "");
    assert.equal((await connectRaw('{"sub":null}')).user, "");
    for (const sub of ["1", "true", '["a"]', '{"id":"1"}']) {
      await assert.rejects(connectRaw(`{"sub":${sub}}`), InvalidTokenError, sub);
    }
  });

  it("comes from user_id_claim when configured, a dotted path into objects", async () => {
    assert.equal((await connect({ sub: "s", user_id: "u" }, { user_id_claim: "user_id" })).user, "u");
    assert.equal((await connect({ app: { user: "n" } }, { user_id_claim: "app.user" })).user, "n");
    assert.equal((await connect({ sub: "s" }, { user_id_claim: "user_id" })).user, "");
    const token = await hmacToken({ user_id: "u", channel: "news" });
    assert.equal((await verifier({ user_id_claim: "user_id" }).verifySubscribeToken(token)).user, "u");
  });

  it("reads user_id_claim values that are not strings as their text, like gjson", async () => {
    const config = { user_id_claim: "uid" };
    assert.equal((await connectRaw('{"uid":12345678901234567890}', config)).user, "12345678901234567890");
    assert.equal((await connectRaw('{"uid":1.50}', config)).user, "1.5");
    assert.equal((await connectRaw('{"uid":true}', config)).user, "true");
    assert.equal((await connectRaw('{"uid":null}', config)).user, "");
    assert.equal((await connectRaw('{"uid":"first","uid":"second"}', config)).user, "first");
    await assert.rejects(connectRaw('{"uid":"u","sub":5}', config), InvalidTokenError);
  });
});

describe("connection token claims", () => {
  it("refuses a channel claim", async () => {
    await assert.rejects(connect({ sub: "1", channel: "news" }), InvalidTokenError);
    assert.equal((await connect({ sub: "1", channel: "" })).user, "1");
  });

  it("keeps info as its exact JSON bytes", async () => {
    const info = '{ "name": "Alice",  "id": 12345678901234567890 }';
    assert.equal(utf8((await connectRaw(`{"sub":"1","info":${info}}`)).info), info);
    assert.equal(utf8((await connect({ sub: "1", info: "text" })).info), '"text"');
    assert.equal(utf8((await connectRaw('{"sub":"1","info":null}')).info), "null");
    assert.equal((await connect({ sub: "1" })).info, undefined);
  });

  it("lets b64info win over info", async () => {
    const token = await connect({
      sub: "1",
      info: { a: 1 },
      b64info: Buffer.from([0, 1, 255]).toString("base64"),
    });
    assert.deepEqual([...(token.info ?? [])], [0, 1, 255]);
  });

  it("refuses b64info that is not padded standard base64", async () => {
    for (const b64info of ["not base64!", "AAE", "AA-_", "A==="]) {
      await assert.rejects(connect({ sub: "1", b64info }), InvalidTokenError, b64info);
    }
  });

  it("reads channels as an array of strings", async () => {
    assert.deepEqual((await connect({ sub: "1", channels: ["a", "b:c"] })).channels, ["a", "b:c"]);
    assert.deepEqual((await connect({ sub: "1" })).channels, []);
    for (const channels of ['"a"', '["a", 1]', '{"a":1}']) {
      await assert.rejects(connectRaw(`{"channels":${channels}}`), InvalidTokenError, channels);
    }
  });

  it("reads subs with info, data and overrides, and lets subs replace channels", async () => {
    const subs = {
      news: {
        info: { role: "reader" },
        b64data: Buffer.from("hi").toString("base64"),
        override: { presence: { value: true }, join_leave: { value: false }, force_recovery: true },
      },
      chat: {},
    };
    const token = await connect({ sub: "1", channels: ["ignored"], subs });
    assert.deepEqual(token.channels, []);
    assert.deepEqual(Object.keys(token.subs).sort(), ["chat", "news"]);
    const news = token.subs.news;
    assert.equal(utf8(news?.info), '{"role":"reader"}');
    assert.equal(utf8(news?.data), "hi");
    assert.deepEqual(news?.override, { presence: true, join_leave: false, force_recovery: true });
    assert.deepEqual({ ...token.subs.chat }, {});
  });

  it("reads override wrappers with a missing or null value as false, and null flags as unset", async () => {
    const payload =
      '{"subs":{"a":{"override":{"presence":{},"join_leave":{"value":null},"force_positioning":null}}}}';
    assert.deepEqual((await connectRaw(payload)).subs.a?.override, { presence: false, join_leave: false });
  });

  it("keeps any channel name in subs safely, __proto__ included", async () => {
    const token = await connectRaw('{"subs":{"__proto__":{"data":1},"constructor":null}}');
    const proto = "__proto__";
    assert.equal(utf8(token.subs[proto]?.data), "1");
    assert.deepEqual(token.subs.constructor, {});
    assert.equal(token.subs.toString, undefined);
  });

  it("refuses subs of the wrong shape", async () => {
    const bad = [
      '"news"',
      '["news"]',
      '{"news":5}',
      '{"news":{"b64info":"!"}}',
      '{"news":{"override":true}}',
      '{"news":{"override":{"presence":"yes"}}}',
      '{"news":{"override":{"presence":{"value":1}}}}',
    ];
    for (const subs of bad) await assert.rejects(connectRaw(`{"subs":${subs}}`), InvalidTokenError, subs);
  });

  it("keeps meta as raw JSON and requires an object", async () => {
    assert.equal(utf8((await connectRaw('{"meta":{"plan": "pro"}}')).meta), '{"plan": "pro"}');
    assert.equal((await connectRaw('{"meta":null}')).meta, undefined);
    for (const meta of ["[]", "1", '"x"'])
      await assert.rejects(connectRaw(`{"meta":${meta}}`), InvalidTokenError);
  });

  it("matches claim names ASCII case-insensitively, the last one winning, as Go does", async () => {
    await assert.rejects(connectRaw('{"sub":"1","Channel":"news"}'), InvalidTokenError);
    await assert.rejects(connectRaw(`{"sub":"1","EXP":${nowSeconds() - 1}}`), TokenExpiredError);
    assert.equal((await connectRaw('{"sub":"1","SUB":"2"}')).user, "2");
    assert.equal((await connectRaw('{"sub":"1","\u017Fub":"2"}')).user, "1");
  });

  it("refuses other claims of the wrong type", async () => {
    for (const claim of ['"jti":5', '"iat":"soon"', '"iss":1', '"b64info":5', '"exp":"1e999"', '"nbf":[]']) {
      await assert.rejects(connectRaw(`{"sub":"1",${claim}}`), InvalidTokenError, claim);
    }
  });
});

describe("subscription token claims", () => {
  it("returns channel, client, info, data and override", async () => {
    const exp = nowSeconds() + 60;
    const token = await verifier().verifySubscribeToken(
      await hmacToken({
        sub: "1",
        channel: "news",
        client: "c1",
        exp,
        info: [1, 2],
        data: { x: 1 },
        override: { force_push_join_leave: { value: true }, force_positioning: false },
      }),
    );
    assert.equal(token.user, "1");
    assert.equal(token.channel, "news");
    assert.equal(token.client, "c1");
    assert.equal(token.expireAt, exp);
    assert.equal(utf8(token.info), "[1,2]");
    assert.equal(utf8(token.data), '{"x":1}');
    assert.deepEqual(token.override, { force_push_join_leave: true, force_positioning: false });
  });

  it("defaults client to empty and leaves options unset", async () => {
    const token = await subscribeRaw('{"sub":"1","channel":"news"}');
    assert.deepEqual(token, { user: "1", channel: "news", client: "", expireAt: 0 });
  });

  it("lets b64info and b64data win", async () => {
    const token = await subscribeRaw('{"channel":"c","info":1,"b64info":"AQ==","data":2,"b64data":"Ag=="}');
    assert.deepEqual([...(token.info ?? [])], [1]);
    assert.deepEqual([...(token.data ?? [])], [2]);
  });

  it("requires a channel claim", async () => {
    await assert.rejects(subscribeRaw('{"sub":"1"}'), InvalidTokenError);
    await assert.rejects(subscribeRaw('{"sub":"1","channel":""}'), InvalidTokenError);
    await assert.rejects(subscribeRaw('{"sub":"1","channel":5}'), InvalidTokenError);
  });

  it("reports expiry before a missing channel, as Centrifugo does", async () => {
    await assert.rejects(subscribeRaw(`{"sub":"1","exp":${nowSeconds() - 1}}`), TokenExpiredError);
  });

  it("refuses a client claim that is not a string", async () => {
    await assert.rejects(subscribeRaw('{"channel":"c","client":1}'), InvalidTokenError);
  });
});

describe("plain payloads", () => {
  // A payload of lower-case claims with none kept as text is read with one JSON.parse; an upper-case member
  // (ignored as an unknown claim) sends the same payload through the member scan, which must agree.
  const scanned = (payload: string) => `${payload.slice(0, -1)}${payload === "{}" ? "" : ","}"X":0}`;
  const outcome = async (read: Promise<unknown>) => {
    try {
      return { value: await read };
    } catch (err) {
      return { error: String(err) };
    }
  };

  it("decode as the member scan decodes them, duplicates, nulls and wrong types included", async () => {
    const payloads = [
      "{}",
      '{"sub":"u1"}',
      '{"sub":"u1","sub":"u2"}',
      '{"sub":null,"exp":"9999999999","iat":1,"jti":"j"}',
      '{"sub":"u1","aud":["a","b"],"iss":"i","nbf":1.5}',
      '{"sub":"u1","channels":["a",null]}',
      '{"sub":"u1","__proto__":{"sub":"x"}}',
      '{"sub":1}',
      '{"sub":"u1","aud":null}',
      '{"sub":"u1","channels":"a"}',
      '{"sub":"u1","channel":"c"}',
    ];
    for (const payload of payloads) {
      assert.deepEqual(
        await outcome(connectRaw(payload)),
        await outcome(connectRaw(scanned(payload))),
        payload,
      );
      assert.deepEqual(
        await outcome(subscribeRaw(payload)),
        await outcome(subscribeRaw(scanned(payload))),
        payload,
      );
    }
  });
});
