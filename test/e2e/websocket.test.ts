import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { events, nextEvent, within } from "../helpers/wait.js";

/** Open a plain `ws` socket and report what was negotiated. */
function negotiate(
  url: string,
  subprotocols: string[] = [],
): Promise<{ protocol: string; extensions: string }> {
  const ws = new WebSocket(url, subprotocols);
  const opened = new Promise<{ protocol: string; extensions: string }>((resolve, reject) => {
    ws.once("open", () => {
      resolve({ protocol: ws.protocol, extensions: ws.extensions });
      ws.terminate();
    });
    ws.once("error", reject);
  });
  return within(opened, `the WebSocket handshake with ${url}`);
}

describe("WebSocket endpoint", () => {
  let server: TestServer;
  let compressed: TestServer;

  before(async () => {
    server = await startTestServer({ client: { insecure: true } });
    compressed = await startTestServer({
      client: { insecure: true },
      websocket: { compression: true, handler_prefix: "/ws" },
    });
  });
  after(async () => {
    await server.close();
    await compressed.close();
  });

  it("accepts both Centrifugo subprotocols and none", async () => {
    assert.equal((await negotiate(server.url, ["centrifuge-json"])).protocol, "centrifuge-json");
    assert.equal((await negotiate(server.url, ["centrifuge-protobuf"])).protocol, "centrifuge-protobuf");
    assert.equal((await negotiate(server.url)).protocol, "");
    const both = ["centrifuge-json", "centrifuge-protobuf"];
    assert.equal((await negotiate(server.url, both)).protocol, "centrifuge-json", "first preference wins");
    assert.equal((await negotiate(server.url, both.reverse())).protocol, "centrifuge-protobuf");
  });

  it("speaks Protobuf when asked with ?cf_protocol=protobuf", async () => {
    const client = await RawClient.open(`${server.url}?cf_protocol=protobuf`, {
      protocol: "protobuf",
      subprotocols: [],
    });
    const reply = await client.connect("");
    assert.equal(typeof (reply.connect as { client: string }).client, "string");
    await client.terminate();
  });

  it("negotiates permessage-deflate only when websocket.compression is on", async () => {
    assert.equal((await negotiate(server.url)).extensions, "");
    const url = `ws://127.0.0.1:${compressed.port}/ws`;
    assert.match((await negotiate(url)).extensions, /permessage-deflate/);
    const client = await RawClient.connected(url, "");
    const reply = await client.call({ publish: { channel: "c", data: { big: "x".repeat(5000) } } });
    assert.deepEqual(reply.publish, {});
    await client.terminate();
  });

  it("keeps a ?cf_ws_frame_ping_pong=true connection alive with ping frames instead of app-level pings", async () => {
    const pinging = await startTestServer({
      // pong_timeout is the window for the pong frame: a second, not 200 ms, for a loaded machine.
      client: { insecure: true, ping_interval: "1500ms", pong_timeout: "1s" },
    });
    const url = `${pinging.url}?cf_ws_frame_ping_pong=true`;
    const answering = await RawClient.open(url);
    const pings = events(answering.ws, "ping", 3);
    const reply = await answering.connect("");
    assert.equal((reply.connect as { ping?: number }).ping, undefined);
    await pings;
    assert.equal(answering.isOpen, true);

    const silent = new WebSocket(url, ["centrifuge-json"], { autoPong: false });
    const closed = nextEvent<number>(silent, "close", "the drop of a socket that never answers pings");
    silent.once("open", () => silent.send('{"id":1,"connect":{}}'));
    assert.equal(await closed, 1006, "dropped without a close frame");
    await answering.terminate();
    await pinging.close();
  });

  it("answers 404 to upgrades outside its handler_prefix", async () => {
    await assert.rejects(RawClient.open(`ws://127.0.0.1:${compressed.port}/connection/websocket`), {
      name: "UpgradeRefused",
      status: 404,
    });
  });
});
