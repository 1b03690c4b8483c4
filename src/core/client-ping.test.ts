/**
 * A client's server pings riding in frames written anyway, in the style of `ws`'s tests: a recording transport,
 * a node whose clock moves by hand (its wheel runs the due buckets at its next tick), no socket and no engine
 * (nothing here publishes through one).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { channelConfig, clientConfig, rpcConfig } from "../../test/helpers/core.js";
import type { Broker, PresenceManager } from "../engine/types.js";
import { type Disconnect, DisconnectBadRequest, DisconnectNoPong } from "../protocol/codes.js";
import type { Client } from "./client.js";
import { Node } from "./node.js";
import type { Transport } from "./transport.js";

const PING_INTERVAL = 25_000;
const PONG_TIMEOUT = 8_000;
const text = new TextDecoder();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A JSON WebSocket-like transport with app-level pings that records each frame's messages. */
class RecordingTransport implements Transport {
  readonly name = "websocket";
  readonly protocol = "json";
  readonly appLevelPing = true;
  readonly bufferedAmount = 0;
  /** Each frame written, as its newline-separated messages. */
  readonly frames: string[][] = [];
  closedWith: Disconnect | undefined;
  private seen = 0;

  write(frame: Uint8Array): void {
    this.frames.push(text.decode(frame).split("\n"));
  }

  close(disconnect: Disconnect): void {
    this.closedWith = disconnect;
  }

  /** The code the session closed with; undefined while open. */
  closedCode(): number | undefined {
    return this.closedWith?.code;
  }

  /** Frames written since the last call. */
  newFrames(): string[][] {
    const frames = this.frames.slice(this.seen);
    this.seen = this.frames.length;
    return frames;
  }
}

/** The engine is never reached by these tests; closing it at shutdown is all a node asks. */
const unusedEngine = { close: async () => {} } as unknown as Broker & PresenceManager;

describe("Client server pings", () => {
  let now: number;
  let node: Node;
  let transport: RecordingTransport;
  let client: Client;

  /** Move the clock and wait for the wheel to run every bucket due by then. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    const due = node.wheel.bucketAfter(0);
    const deadline = Date.now() + 5000;
    while (node.wheel.currentBucket < due) {
      if (Date.now() > deadline) throw new Error(`the wheel did not reach ${ms} ms later within 5 s`);
      await sleep(5);
    }
    await flushed();
  }

  /** The end of the turn, when queued messages are written. */
  const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  /** A push queued for the client, as a publication it is sent: a frame goes out at the end of the turn. */
  async function push(n: number): Promise<void> {
    client.write({ push: { channel: "news", pub: { data: bytes(`{"n":${n}}`) } } });
    await flushed();
  }

  async function pong(): Promise<void> {
    client.handleFrame(bytes("{}"));
    await client.whenIdle();
  }

  /** Until the first ping (due at a random time in the second half of the interval), written alone. */
  async function firstPing(): Promise<void> {
    await advance(PING_INTERVAL);
    assert.deepEqual(transport.newFrames(), [["{}"]], "the first ping, due on its own");
  }

  beforeEach(async () => {
    now = 1_700_000_000_000;
    node = new Node({
      name: "test-node",
      version: "0.0.0",
      client: clientConfig({
        user_id_http_header: "x-user",
        ping_interval: PING_INTERVAL,
        pong_timeout: PONG_TIMEOUT,
      }),
      channel: channelConfig(),
      rpc: rpcConfig(),
      broker: unusedEngine,
      presenceManager: unusedEngine,
      logger: pino({ level: "silent" }),
      clock: () => now,
    });
    transport = new RecordingTransport();
    client = node.createClient(transport, { headers: { "x-user": "alice" } });
    client.handleFrame(bytes('{"id":1,"connect":{}}'));
    await client.whenIdle();
    await flushed();
    assert.match(transport.newFrames()[0]?.[0] ?? "", /"connect"/, "the connect reply");
  });

  afterEach(() => node.shutdown(100));

  it("a ping due within a third of the interval rides in a frame written anyway, after its messages", async () => {
    await firstPing();
    await pong();
    await advance(10_000);
    await push(1);
    assert.deepEqual(transport.newFrames(), [['{"push":{"channel":"news","pub":{"data":{"n":1}}}}']]);
    await advance(10_000);
    await push(2);
    assert.deepEqual(
      transport.newFrames(),
      [['{"push":{"channel":"news","pub":{"data":{"n":2}}}}', "{}"]],
      "5 s before its due time the ping goes out with the push",
    );
  });

  it("the next ping is due a whole interval after the one that rode, not at the old due time", async () => {
    await firstPing();
    await pong();
    await advance(20_000);
    await push(1);
    assert.equal(transport.newFrames()[0]?.[1], "{}", "the ping rode with the push");
    await pong();
    await advance(6_000);
    assert.deepEqual(transport.newFrames(), [], "no ping at the old due time");
    await advance(19_500);
    assert.deepEqual(transport.newFrames(), [["{}"]], "the next ping, 25 s after the one that rode");
    assert.equal(transport.closedCode(), undefined);
  });

  it("no second ping rides while a pong is awaited; the pong deadline runs from the ping that rode", async () => {
    await firstPing();
    await pong();
    await advance(20_000);
    await push(1);
    assert.equal(transport.newFrames()[0]?.[1], "{}", "the ping rode with the push");
    await advance(1_000);
    await push(2);
    assert.deepEqual(transport.newFrames(), [['{"push":{"channel":"news","pub":{"data":{"n":2}}}}']]);
    await advance(PONG_TIMEOUT);
    assert.equal(transport.closedCode(), DisconnectNoPong.code, "no pong 8 s after the ping that rode");
  });

  it("the pong to a ping that rode is accepted, and a second pong is a bad request as in Centrifugo", async () => {
    await firstPing();
    await pong();
    await advance(20_000);
    await push(1);
    await pong();
    await advance(PONG_TIMEOUT + 1_000);
    assert.equal(transport.closedCode(), undefined, "the pong answered the ping that rode");
    await pong();
    assert.equal(transport.closedCode(), DisconnectBadRequest.code, "an unnecessary pong");
  });
});
