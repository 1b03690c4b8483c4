/**
 * The raw `ws` ceiling: a `ws` + `bufferutil` server with no protocol. A client's first message names its
 * channel (answered with "ok"); `POST /publish` with `{"channel", "data"}` builds one text frame and writes it
 * to each subscriber's socket: one frame and one write per message per subscriber, no framing work repeated.
 * Run by the bench suite: `node --import tsx bench/suite/ws-server.ts <port>`.
 */
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer } from "ws";
import { readBody } from "./http-body.js";

const port = Number(process.argv[2]);
const channels = new Map<string, Set<Socket>>();

const http = createServer((req, res) => {
  readBody(req, (body) => {
    const { channel, data } = JSON.parse(body.toString()) as { channel: string; data: unknown };
    const frame = textFrame(Buffer.from(JSON.stringify(data)));
    for (const socket of channels.get(channel) ?? []) socket.write(frame);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "2" }).end("{}");
  });
});

const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on("connection", (ws, req) => {
  // After the upgrade `ws` owns this same socket; writing whole frames to it directly is the ceiling.
  const socket = req.socket;
  let channel: string | undefined;
  ws.once("message", (data: Buffer) => {
    channel = data.toString();
    let set = channels.get(channel);
    if (set === undefined) {
      set = new Set();
      channels.set(channel, set);
    }
    set.add(socket);
    ws.send("ok");
  });
  ws.on("close", () => {
    if (channel !== undefined) channels.get(channel)?.delete(socket);
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
