/**
 * The delivery path: publications queued for a client in one event-loop turn go out as one WebSocket frame,
 * in order; frames of every header size (7-bit, 16-bit and 64-bit payload lengths) reach both official
 * client builds intact, written straight to the socket or, with permessage-deflate, through `ws`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { collect, decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/wait.js";

const insecure = {
  client: { insecure: true },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
};

describe("fan-out delivery", () => {
  let plain: TestServer;
  let compressed: TestServer;

  before(async () => {
    plain = await startTestServer(insecure);
    compressed = await startTestServer({ ...insecure, websocket: { compression: true } });
  });
  after(async () => {
    await plain.close();
    await compressed.close();
  });

  it("coalesces one turn's publications into fewer frames, in order", async () => {
    const ws = new WebSocket(plain.url, "centrifuge-json");
    const frames: string[] = [];
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.once("open", () => ws.send('{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"turn"}}'));
      ws.on("message", (data: Buffer) => {
        const text = data.toString();
        if (text.includes('"id":2')) resolve();
        else frames.push(text);
      });
      ws.once("error", reject);
    });
    await within(
      subscribed,
      "the subscribe reply on a raw socket",
      undefined,
      () => `frames: ${frames.join(" | ")}`,
    );
    const count = 50;
    const published = Array.from({ length: count }, (_, i) =>
      plain.server.node.publish("turn", new TextEncoder().encode(`{"n":${i}}`)),
    );
    await Promise.all(published);
    const deadline = Date.now() + 10_000;
    const received = (): number[] =>
      frames.flatMap((frame) => frame.split("\n").map((line) => (JSON.parse(line) as Push).push.pub.data.n));
    while (received().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      received(),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.ok(frames.length < count, `${count} publications came in ${frames.length} frames`);
    ws.terminate();
  });

  for (const encoding of ["json", "protobuf"] as Encoding[]) {
    for (const [name, server] of [
      ["direct", () => plain],
      ["permessage-deflate", () => compressed],
    ] as const) {
      it(`delivers publications of every frame size intact (${encoding}, ${name})`, async () => {
        const client = newClient(server().url, encoding);
        const sub = client.newSubscription("sizes");
        sub.subscribe();
        client.connect();
        await once(sub, "subscribed");
        const sizes = [10, 200, 70_000];
        const arrived = collect<{ data: unknown }>(sub, "publication", sizes.length);
        for (const size of sizes) {
          const value = { text: "y".repeat(size) };
          await server().server.node.publish("sizes", new TextEncoder().encode(JSON.stringify(value)));
        }
        const got = (await arrived).map((ctx) => decoded(encoding, ctx.data) as { text: string });
        assert.deepEqual(
          got.map((value) => value.text.length),
          sizes,
        );
        assert.ok(got.every((value) => /^y*$/.test(value.text)));
        client.disconnect();
      });
    }
  }
});

interface Push {
  push: { pub: { data: { n: number } } };
}
