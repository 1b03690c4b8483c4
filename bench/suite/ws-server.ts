/**
 * The raw `ws` ceiling: a `ws` + `bufferutil` server with no protocol. A client's first message names its
 * channel (answered with "ok"); `POST /publish` with `{"channel", "data"}` builds one text frame and writes it
 * to each subscriber's socket: one frame and one write per message per subscriber, no framing work repeated.
 * With a ping interval (ms, the second argument) it also keeps connections alive as Centrifugo's JSON clients
 * expect, with the least work: a `{}` frame to each connection once per interval from one shared timer (the
 * connections spread over its ticks), a `{}` back counts as the pong, and one missing at the next ping closes.
 * Run by the bench suite: `node --import tsx bench/suite/ws-server.ts <port> [<ping interval ms>]`.
 */
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { readBody } from "./http-body.js";

const port = Number(process.argv[2]);
const pingIntervalMs = Number(process.argv[3] ?? 0);
const channels = new Map<string, Set<Socket>>();

const http = createServer((req, res) => {
  readBody(req, (body) => {
    const { channel, data } = JSON.parse(body.toString()) as { channel: string; data: unknown };
    const frame = textFrame(Buffer.from(JSON.stringify(data)));
    for (const socket of channels.get(channel) ?? []) socket.write(frame);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "2" }).end("{}");
  });
});

/** A connection the ping loop keeps alive. */
interface Pinged {
  ws: WebSocket;
  socket: Socket;
  ponged: boolean;
}

/**
 * One timer for every connection's pings: each tick pings one bucket; a connection joins a random one, so
 * connections made together do not all wait for the same tick (as Turbine, which spreads first pings too).
 */
class PingLoop {
  private static readonly tickMs = 100;
  private static readonly frame = textFrame(Buffer.from("{}"));
  private readonly buckets: Set<Pinged>[];
  private tick = 0;

  constructor(intervalMs: number) {
    const count = Math.max(1, Math.round(intervalMs / PingLoop.tickMs));
    this.buckets = Array.from({ length: count }, () => new Set<Pinged>());
    setInterval(() => this.pingNext(), PingLoop.tickMs);
  }

  add(pinged: Pinged): void {
    this.bucketOf(Math.floor(Math.random() * this.buckets.length)).add(pinged);
  }

  remove(pinged: Pinged): void {
    for (const bucket of this.buckets) if (bucket.delete(pinged)) return;
  }

  private pingNext(): void {
    this.tick++;
    for (const pinged of this.bucketOf(this.tick)) {
      if (!pinged.ponged) {
        pinged.ws.terminate();
        continue;
      }
      pinged.ponged = false;
      pinged.socket.write(PingLoop.frame);
    }
  }

  private bucketOf(tick: number): Set<Pinged> {
    return this.buckets[tick % this.buckets.length] as Set<Pinged>;
  }
}

const pings = pingIntervalMs > 0 ? new PingLoop(pingIntervalMs) : undefined;

const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on("connection", (ws, req) => {
  // After the upgrade `ws` owns this same socket; writing whole frames to it directly is the ceiling.
  const socket = req.socket;
  const pinged: Pinged = { ws, socket, ponged: true };
  let channel: string | undefined;
  ws.on("message", (data: Buffer) => {
    if (channel !== undefined) {
      pinged.ponged = true;
      return;
    }
    channel = data.toString();
    let set = channels.get(channel);
    if (set === undefined) {
      set = new Set();
      channels.set(channel, set);
    }
    set.add(socket);
    ws.send("ok");
    pings?.add(pinged);
  });
  ws.on("close", () => {
    if (channel !== undefined) channels.get(channel)?.delete(socket);
    pings?.remove(pinged);
  });
  ws.on("error", () => undefined);
});

http.listen(port, "127.0.0.1");

/** An unmasked, final text frame (RFC 6455 §5.2). */
function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}
