/**
 * The Socket.IO 4 server under test: websocket transport only, one room per channel. A client joins with
 * `emit("subscribe", channel, ack)`; `POST /publish` with `{"channel", "data"}` emits `pub` to the room.
 * Run by the bench suite: `node --import tsx bench/suite/socketio-server.ts <port>`.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";
import { readBody } from "./http-body.js";

const port = Number(process.argv[2]);

const http = createServer((req, res) => {
  if (req.url !== "/publish") return;
  readBody(req, (body) => {
    const { channel, data } = JSON.parse(body.toString()) as { channel: string; data: unknown };
    io.to(channel).emit("pub", data);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "2" }).end("{}");
  });
});

const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
io.on("connection", (socket) => {
  socket.on("subscribe", (channel: string, ack?: () => void) => {
    void socket.join(channel);
    ack?.();
  });
});

http.listen(port, "127.0.0.1");
